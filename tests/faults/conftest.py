"""Fixtures of the fault tests: real servers private to the test, always stopped.

Nothing here touches the machine's own PostgreSQL (5432) or Redis (6379):

* `redis_server()`: a redis-server on a spare port, without persistence, that a test may
  crash (SIGKILL) and start again on the same port;
* `postgres_cluster`: a PostgreSQL 15 cluster made by initdb in a temporary directory owned
  by the postgres user, on its own port and socket directory (PostGIS comes with the
  package), that a test may stop (`pg_ctl stop -m fast`) and start again;
* `spawn()`: gunicorn and Celery worker subprocesses, each in its own process group so that
  a stop or a SIGKILL reaches its children too, with a readiness wait; their output goes to
  a file that is shown when a wait fails;
* `test_database`: pytest-django's database, committed, for those subprocesses;
* `db_locks`: row locks the test holds in its own connections, so that a worker's
  transaction waits at a known statement and a SIGKILL lands there.

The servers and helpers themselves are in tests/faults/servers.py.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clock_pin import pinned_command
from tests.faults.servers import ROOT, DbLocks, PostgresCluster, Process, RedisServer, Spawn, wait_for


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start a private redis-server; it is stopped when the test ends."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        directory = tmp_path / f"redis{len(servers)}"
        directory.mkdir()
        server = RedisServer(directory)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.crash()


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="fieldservice-faults-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `argv` with `env` in its own process group and wait until `ready(process)`;
    whatever is still running when the test ends is stopped."""
    started: list[Process] = []

    def start(
        name: str, argv: list[str], *, env: dict[str, str], ready: Callable[[Process], bool]
    ) -> Process:
        log_path = tmp_path / f"{name}-{len(started)}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(
                pinned_command(argv),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log_path)
        started.append(process)

        def is_ready() -> bool:
            if not process.alive():
                raise AssertionError(f"{name} exited with {popen.returncode}:\n{process.log()[-6000:]}")
            return ready(process)

        wait_for(is_ready, what=f"{name} to be ready", timeout=60, log=process.log)
        return process

    yield start
    for process in reversed(started):
        process.stop(timeout=5)


@pytest.fixture
def test_database(transactional_db: None) -> dict[str, Any]:
    """pytest-django's database (on the machine's server), for subprocesses and raw connections.
    Transactional: what the test writes is committed, so the other processes see it."""
    from django.db import connection

    return dict(connection.settings_dict)


@pytest.fixture
def db_locks(test_database: dict[str, Any]) -> Iterator[DbLocks]:
    locks = DbLocks(test_database)
    yield locks
    for holder in list(locks.held):
        locks.release(holder)
