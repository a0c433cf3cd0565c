"""Private servers and subprocesses for the fault tests, and what to read from them.

Readiness is polled (PING, a connection, an HTTP 200, the worker's "ready" line, a backend
waiting on a lock), never slept for. The fixtures that start and stop these are in
tests/faults/conftest.py.
"""

from __future__ import annotations

import email
import email.header
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
POLL_SECONDS = 0.05
T = TypeVar("T")


def wait_for(
    check: Callable[[], T], *, what: str, timeout: float = 30.0, log: Callable[[], str] | None = None
) -> T:
    """Poll `check` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            details = f"\n--- log ---\n{log()[-6000:]}" if log else ""
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}{details}")
        time.sleep(POLL_SECONDS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# --- Redis -----------------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def _pings(self) -> bool:
        try:
            return bool(self.client(0).ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with open(self.directory / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(self._pings, what=f"redis-server on port {self.port}", timeout=10)

    def crash(self) -> None:
        """Gone at once, as in a crash or an OOM kill: its data is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        wait_for(lambda: port_closed(self.port), what="redis-server to stop listening", timeout=10)


# --- PostgreSQL ------------------------------------------------------------------------------------


class PostgresCluster:
    """A throwaway cluster run by the postgres user (the server refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.port = free_port()

    def _as_postgres(self, *argv: str | Path) -> None:
        command = ["runuser", "-u", "postgres", "--", *map(str, argv)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.sockets.mkdir()
        shutil.chown(self.sockets, "postgres", "postgres")
        self._as_postgres(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, dbname: str, **options: str) -> str:
        query = f"?{urlencode(options)}" if options else ""
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}{query}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )


# --- subprocesses ----------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group at once: no shutdown handler runs anywhere."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """A graceful stop of the main process (gunicorn and Celery finish what they are doing),
        then SIGKILL for anything left in the group."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass


Spawn = Callable[..., Process]


def app_env(
    *,
    database_url: str,
    redis_url: str,
    broker_url: str,
    media_root: Path,
    mail_dir: Path,
    **extra: str,
) -> dict[str, str]:
    """The environment of an app process (gunicorn, a Celery worker): production settings
    pointed at the test's servers; mail goes to files."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        # Pages link static files; without a collectstatic run there is no manifest to name them.
        STATIC_MANIFEST="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker_url,
        MEDIA_ROOT=str(media_root),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def start_gunicorn(spawn: Spawn, env: dict[str, str], *, workers: int = 2) -> str:
    """gunicorn serving the app; returns its base URL once /api/v1/health answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def answers(_: Process) -> bool:
        try:
            return requests.get(f"{base}/api/v1/health", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    argv = [
        str(VENV_BIN / "gunicorn"),
        "fieldservice.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--timeout=30",
        "--graceful-timeout=5",
    ]
    spawn("gunicorn", argv, env=env, ready=answers)
    return base


# Each worker's database sessions carry this name, and PostgreSQL checks every 100 ms that
# the client is still there: when a test SIGKILLs the worker, its backend ends (rolling back)
# even while waiting on a lock, as it would when TCP keepalive notices a dead host.
WORKER_APPLICATION_NAME = "faults-worker"
WORKER_DB_OPTIONS = {
    "application_name": WORKER_APPLICATION_NAME,
    "options": "-c client_connection_check_interval=100",
}


def start_worker(spawn: Spawn, env: dict[str, str], *, visibility_timeout: float) -> Process:
    """`celery worker` as deployed (prefork, acks_late, prefetch 1), one process in its pool."""
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "tests.faults.worker_app",
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname=faults@%h",
    ]
    worker_env = {**env, "FAULTS_VISIBILITY_TIMEOUT": str(visibility_timeout)}
    return spawn("celery-worker", argv, env=worker_env, ready=lambda process: " ready." in process.log())


# --- the test database, seen from other processes --------------------------------------------------


def database_url(settings_dict: dict[str, Any], **options: str) -> str:
    user = settings_dict["USER"] or ""
    host = settings_dict["HOST"] or ""
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{user}{'@' if user else ''}{host}{port}/{settings_dict['NAME']}{query}"


def raw_connection(settings_dict: dict[str, Any], *, autocommit: bool) -> psycopg.Connection[Any]:
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict["USER"] or None,
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=autocommit)


@dataclass
class DbLocks:
    """Row locks held by the test, each in its own open transaction, and a view of who waits."""

    settings_dict: dict[str, Any]
    held: list[psycopg.Connection[Any]] = field(default_factory=list)

    def hold(self, sql: str, params: tuple[Any, ...]) -> psycopg.Connection[Any]:
        """Run a SELECT ... FOR UPDATE and keep its transaction (and locks) open."""
        holder = raw_connection(self.settings_dict, autocommit=False)
        rows = holder.execute(sql, params).fetchall()
        assert rows, f"nothing to lock: {sql} {params}"
        self.held.append(holder)
        return holder

    def release(self, holder: psycopg.Connection[Any]) -> None:
        holder.rollback()
        holder.close()
        self.held.remove(holder)

    def _backends(self, application_name: str) -> list[tuple[Any, ...]]:
        with raw_connection(self.settings_dict, autocommit=True) as monitor:
            return monitor.execute(
                "SELECT pid, wait_event_type, query FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                (application_name,),
            ).fetchall()

    def wait_blocked(self, *, statement: str, log: Callable[[], str]) -> int:
        """The worker's backend once it waits on one of our locks in `statement` (a prefix)."""

        def blocked() -> int | None:
            for pid, wait_type, query in self._backends(WORKER_APPLICATION_NAME):
                if wait_type == "Lock" and query.lstrip().startswith(statement):
                    return int(pid)
            return None

        pid = wait_for(blocked, what=f"the worker to wait on a lock in {statement!r}", log=log)
        assert pid is not None
        return pid

    def wait_worker_sessions_gone(self) -> None:
        """After a SIGKILL: PostgreSQL has noticed and rolled the worker's transaction back."""
        wait_for(
            lambda: not self._backends(WORKER_APPLICATION_NAME),
            what="the killed worker's database sessions to end",
            timeout=15,
        )


# --- what the processes left behind ------------------------------------------------------------------


def sent_mail(directory: Path) -> list[Message]:
    """Every message the file email backend wrote (one file per connection, messages
    separated by a line of 79 dashes)."""
    messages = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                messages.append(email.message_from_string(chunk))
    return messages


def subject_of(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def pdf_attachments(message: Message) -> list[str]:
    return [
        part.get_filename() or "" for part in message.walk() if part.get_content_type() == "application/pdf"
    ]


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def broker_settled(client: redis.Redis, queue: str = "celery") -> bool:
    """No message waiting in the queue and none delivered but unacknowledged."""
    return client.llen(queue) == 0 and client.hlen("unacked") == 0
