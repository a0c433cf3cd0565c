"""A real server for the concurrency tests: gunicorn (sync workers, as deployed) started by
bench.loadlib on a free loopback port, against pytest-django's test database.

The tests that use it are transactional: what they set up is committed, so the server's
processes see it, and the database is flushed after them. The server queues its background
work (service reports) on an in-memory broker that nothing consumes, as production hands it
to a Celery worker on another host; its cache keys carry a prefix of their own.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bench.loadlib import free_port, start_gunicorn, stop_process
from tests.clock_pin import pinned_command

WORKERS = 4


@dataclass(frozen=True)
class Server:
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    at = "@" if user else ""
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{user}{password}{at}{settings_dict['HOST'] or ''}{port}/{settings_dict['NAME']}"


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[Server]:
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.load.server_settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": "memory://",
        "CACHE_KEY_PREFIX": f"fieldservice-load-test-{uuid.uuid4().hex[:12]}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log_path = tmp_path / "gunicorn.log"
    port = free_port()
    with open(log_path, "wb") as log:
        try:
            process: subprocess.Popen[bytes] = start_gunicorn(
                port, WORKERS, 1, log, env, launch=pinned_command
            )
        except SystemExit as failed:  # the script's way of giving up
            pytest.fail(f"{failed}\n{log_path.read_text(errors='replace')[-6000:]}")
    try:
        yield Server(port, log_path)
    finally:
        # Before the flush: the workers' connections would hold it up.
        stop_process(process)
