"""Every command the README shows works as written, pasted into a new shell in the checkout.

The README's shell blocks that hold a `manage.py` or `curl` line run whole (a later line may use
an earlier one's variable), and each `manage.py` line of the operations table runs alone, in a
shell with nothing but PATH, HOME and the language set: the development `.env` that `make demo`
writes must supply the rest. Against the small demo of the pinned day: the database is the
test's, the server's address the live server's, and `manage.py` runs with the test's clock.
Lines marked `# not run by tests` (benchmarks, the large scale) are left out; a command added to
the README joins this test by itself.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from fieldservice import clock
from tests.conftest import ensure_role_groups
from tests.faults.servers import database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOT_RUN = "# not run by tests"
README_SERVER = "http://127.0.0.1:8000"
PYTHON = ".venv/bin/python"
SECONDS_PER_LINE = 60
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
TABLE_COMMAND = re.compile(r"^\| `([^`]*manage\.py[^`]*)` \|", re.MULTILINE)


def readme_blocks() -> list[str]:
    """The shell blocks with a command to run, without the lines marked as not run."""
    blocks = []
    for block in SHELL_BLOCK.findall(README.read_text()):
        lines = [line for line in block.replace("\\\n", " ").splitlines() if NOT_RUN not in line]
        commands = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if any("manage.py" in line or "curl " in line for line in commands):
            blocks.append("\n".join(commands))
    return blocks


def readme_table_commands() -> list[str]:
    return [command.replace("\\|", "|") for command in TABLE_COMMAND.findall(README.read_text())]


def test_the_readme_shows_commands_for_this_test_to_run() -> None:
    blocks, table = readme_blocks(), readme_table_commands()
    assert any("create_api_token" in block and "curl " in block for block in blocks)
    assert len(table) >= 8 and all(command.startswith(f"{PYTHON} manage.py ") for command in table)
    # Which Python: the checkout's virtualenv, never a bare `python`.
    assert not re.search(r"(?<![/\w])python3? manage\.py", README.read_text())


@pytest.fixture
def fresh_shell(live_server: Any, settings: Any) -> dict[str, Any]:
    """A new shell's environment in the checkout, after `make demo` (its `.env` included)."""
    if not (ROOT / ".env").is_file():
        subprocess.run(["make", "-s", "dotenv"], cwd=ROOT, check=True, timeout=60)
    settings.DEBUG = True
    ensure_role_groups()
    call_command("seed_demo", scale="small", seed=1, today=clock.today().isoformat(), verbosity=0)
    from django.db import connection

    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        # The test database instead of the .env's, which is the developer's demo.
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    return {"env": env, "server": live_server.url}


def run_in_fresh_shell(script: str, shell: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    pinned = f"{sys.executable} -m tests.pinned_process {shlex.quote(clock.now().isoformat())} manage.py"
    script = script.replace(f"{PYTHON} manage.py", pinned).replace(README_SERVER, shell["server"])
    lines = max(1, script.count("\n") + 1)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=ROOT,
        env=shell["env"],
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_LINE * lines,
    )
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert time.monotonic() - started < SECONDS_PER_LINE * lines
    return result


def json_documents(output: str) -> list[Any]:
    """The JSON documents curl printed one after another (no newline between them)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    output = output.strip()
    while position < len(output):
        document, position = decoder.raw_decode(output, position)
        documents.append(document)
        while position < len(output) and output[position].isspace():
            position += 1
    return documents


def test_the_readme_blocks_run_in_a_fresh_shell(fresh_shell: dict[str, Any]) -> None:
    blocks = readme_blocks()
    for block in blocks:
        result = run_in_fresh_shell(block, fresh_shell)
        if "api/v1/work-orders" in block:
            # The "Using the APIs" block (the token goes into a variable): work orders as JSON, then
            # the run it started.
            assert "Traceback" not in result.stderr and "Token " in result.stderr
            work_orders, run = json_documents(result.stdout)
            assert work_orders["items"], work_orders
            assert all(item["status"] == "new" and item["priority"] == 1 for item in work_orders["items"])
            assert run["id"] and "code" not in run, run


def test_the_readme_operations_table_runs_in_a_fresh_shell(fresh_shell: dict[str, Any]) -> None:
    for command in readme_table_commands():
        run_in_fresh_shell(command, fresh_shell)
