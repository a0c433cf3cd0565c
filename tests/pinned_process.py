"""Run a Python program with its clock pinned, for tests that start processes (tests only).

    python -m tests.pinned_process 2027-12-31T23:50:00+08:00 manage.py shell -c ...
    python -m tests.pinned_process 2027-12-31T23:50:00+08:00 -m celery -A fieldservice worker

time-machine freezes the clock in this process before the program starts, and time ticks on
from there; forked children (gunicorn and Celery workers) inherit it. Build the command with
tests.clock_pin.pinned_command().
"""

from __future__ import annotations

import datetime as dt
import runpy
import sys

import time_machine


def main() -> None:
    instant = dt.datetime.fromisoformat(sys.argv[1])
    program = sys.argv[2:]
    time_machine.travel(instant, tick=True).start()
    if program[0] == "-m":
        sys.argv = [program[1], *program[2:]]
        runpy.run_module(program[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = program
        runpy.run_path(program[0], run_name="__main__")


if __name__ == "__main__":
    main()
