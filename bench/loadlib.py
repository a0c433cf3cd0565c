"""The load benchmarks' harness, shared by bench/mobile_load.py, bench/dispatcher_load.py and
the concurrency tests (tests/load/).

* measuring: `Stats` (latency and status of every call, per label, shared by all threads),
  `percentiles`, `report` / `report_mix` / `report_run` (one line per label: n, throughput,
  p50/p95/p99, errors = network errors and 5xx, 4xx);
* the clients: `Http` (the technician app: JSON, bearer token, Idempotency-Key) and
  `WebSession` (a browser: session cookie, CSRF, htmx requests);
* the server: `start_gunicorn` on a free loopback port (`server_arguments` for its options),
  `stop_process`; `django_setup` for a script's own look at the data;
* the crowd: `crowd` runs one thread per simulated person, `think` waits a think time;
* what the clients do: `next_event` (the technician's next step on a job) and the dispatch
  board as a browser reads it (`board_read`, `move_form_read`, `free_slot`, `board_move`,
  `move_outcome`). These read the board's HTML: tests/load runs them against the real
  templates, so a template change that blinds them fails there, not in a benchmark.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import io
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MOBILE_API = "/api/mobile/v1"

# --- measuring -------------------------------------------------------------------------------------


class Stats:
    """Latencies and statuses per label, shared by all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)  # monotonic start of each call

    def add(self, label: str, seconds: float, status: int, started: float) -> None:
        with self.lock:
            self.samples[label].append((seconds, status))
            self.started[label].append(started)

    def since(self, moment: float) -> dict[str, list[tuple[float, int]]]:
        """The samples of the calls that started at or after `moment` (time.monotonic())."""
        with self.lock:
            return {
                label: [s for s, t in zip(samples, self.started[label], strict=True) if t >= moment]
                for label, samples in self.samples.items()
            }


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 (inclusive: a handful of values still gives three figures)."""
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return cuts[49], cuts[94], cuts[98]


def report(
    title: str, samples: list[tuple[float, int]], elapsed: float, *, conflicts_apart: bool = False
) -> None:
    """One line: count, throughput, p50/p95/p99, errors (network errors and 5xx) and 4xx;
    `conflicts_apart` shows 409s in a column of their own, out of the 4xx count."""
    if not samples:
        print(f"{title:<34} no requests")
        return
    p50, p95, p99 = percentiles([seconds * 1000 for seconds, _ in samples])
    errors = sum(1 for _, status in samples if status == 0 or status >= 500)
    conflicts = sum(1 for _, status in samples if status == 409) if conflicts_apart else 0
    refused = sum(1 for _, status in samples if 400 <= status < 500) - conflicts
    print(
        f"{title:<34} n={len(samples):>6}  {len(samples) / elapsed:>7.1f} req/s  "
        f"p50={p50:>7.1f} ms  p95={p95:>7.1f} ms  p99={p99:>7.1f} ms  "
        f"errors={errors} ({errors / len(samples):.2%})  4xx={refused}"
        + (f"  409={conflicts}" if conflicts_apart else "")
    )


def report_mix(
    samples: dict[str, list[tuple[float, int]]], elapsed: float, *, who: str, conflicts_apart: bool = False
) -> None:
    """All calls, all calls but the logins (a login hashes a password on purpose; "login…"
    labels), each label."""
    report(
        f"{who} mix (all calls)",
        [x for label in samples for x in samples[label]],
        elapsed,
        conflicts_apart=conflicts_apart,
    )
    everyday = [x for label in samples if not label.startswith("login") for x in samples[label]]
    report(f"{who} mix without login", everyday, elapsed, conflicts_apart=conflicts_apart)
    for label in sorted(samples):
        report(f"  {label}", samples[label], elapsed, conflicts_apart=conflicts_apart)


@dataclass(frozen=True)
class CrowdRun:
    started: float  # time.monotonic() when the first person started
    elapsed: float
    stuck: int  # people still running when the wait ended (a hung request, a deadlock)
    failures: list[BaseException]  # exceptions raised in a person's thread (a bug in the script)


def report_run(
    stats: Stats, run: CrowdRun, *, who: str, whole: str, steady_from: float, conflicts_apart: bool = False
) -> None:
    """The whole run, then its steady state: the calls started once everybody was under way."""
    print(f"\n{whole}, ramp included:")
    report_mix(stats.samples, run.elapsed, who=who, conflicts_apart=conflicts_apart)
    # A login hashes the password on purpose (PBKDF2, ~0.2 s of CPU each) and happens once per
    # token or session lifetime: during the ramp the logins compete with everything.
    steady_seconds = max(0.0, run.started + run.elapsed - steady_from)
    print(f"\nSteady state (calls started after the ramp and two think times, {steady_seconds:.0f} s):")
    report_mix(stats.since(steady_from), steady_seconds, who=who, conflicts_apart=conflicts_apart)


# --- the clients -----------------------------------------------------------------------------------


class Http:
    """The technician app (or any JSON client with a bearer token); a new connection per call."""

    def __init__(self, port: int, stats: Stats, label_prefix: str = "") -> None:
        self.port, self.stats, self.prefix = port, stats, label_prefix
        self.token = ""

    def call(
        self, method: str, path: str, label: str, body: Any = None, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Connection": "close"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started, wall = time.perf_counter(), time.monotonic()
        status, data = 0, None
        try:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
            connection.close()
            if raw and response.getheader("Content-Type", "").startswith("application/json"):
                data = json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError):
            status = 0  # a network error or a broken response: counted as an error
        self.stats.add(self.prefix + label, time.perf_counter() - started, status, wall)
        return status, data


class WebSession:
    """A browser on the web app: its cookies (session, CSRF token), the CSRF header htmx and
    the API's session authentication take on writes, `HX-Request` on htmx calls."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.base = f"http://{HOST}:{port}"
        self.stats = stats
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        label: str,
        *,
        form: dict[str, str] | None = None,
        body: Any = None,
        htmx: bool = False,
        outcome: Callable[[requests.Response], int] | None = None,
    ) -> tuple[int, requests.Response | None]:
        """One request, redirects not followed. `outcome` maps the answer to the status that is
        recorded (e.g. a refusal a form answers with 200); the response is returned as is."""
        headers = {"HX-Request": "true"} if htmx else {}
        if method != "GET":
            headers["X-CSRFToken"] = self.session.cookies.get("csrftoken") or ""
        started, wall = time.perf_counter(), time.monotonic()
        response: requests.Response | None = None
        try:
            response = self.session.request(
                method,
                self.base + path,
                data=form,
                json=body,
                headers=headers,
                timeout=30,
                allow_redirects=False,
            )
            status = outcome(response) if outcome else response.status_code
        except requests.RequestException:
            status = 0  # a network error or a broken response: counted as an error
        self.stats.add(label, time.perf_counter() - started, status, wall)
        return status, response

    def login(self, username: str, password: str) -> bool:
        """The login page (it sets the CSRF cookie), then the form: a redirect means in."""
        self.call("GET", "/login/", "login page")
        token = self.session.cookies.get("csrftoken") or ""
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        status, _ = self.call("POST", "/login/", "login", form=form)
        return status == 302 and "sessionid" in self.session.cookies


# --- the server ------------------------------------------------------------------------------------


def server_arguments(parser: argparse.ArgumentParser) -> None:
    """The gunicorn a load script starts: --workers, --threads."""
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: sync workers, more: gthread)"
    )


def server_kind(args: argparse.Namespace) -> str:
    return "sync workers" if args.threads == 1 else f"gthread workers x {args.threads} threads"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    port: int,
    workers: int,
    threads: int,
    log: Any,
    env: dict[str, str] | None = None,
    launch: Callable[[list[str]], list[str]] = lambda command: command,
) -> subprocess.Popen[bytes]:
    """gunicorn serving the app on loopback (its own process group), once /api/v1/health answers.
    `launch` rewrites the command (the tests run it with a pinned clock)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "fieldservice.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        launch(command),
        cwd=ROOT,
        start_new_session=True,
        env=env if env is not None else dict(os.environ),
        stdout=log,
        stderr=log,
    )
    probe = Http(port, Stats())
    for _ in range(150):
        if probe.call("GET", "/api/v1/health", "probe")[0] == 200:
            return server
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        time.sleep(0.2)
    stop_process(server)
    sys.exit("gunicorn did not answer within 30 s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (gunicorn's or Celery's workers too), SIGKILL after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def allowed_host() -> str:
    """A host name the settings allow, for Django's test client (its own, testserver, is not)."""
    from django.conf import settings

    allowed = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"]
    return allowed[0] if allowed else "localhost"


def django_setup() -> None:
    """Django in this process, for the scripts' checks of the data they need."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- the crowd -------------------------------------------------------------------------------------


def think(mean: float, deadline: float) -> bool:
    """Wait a think time (0.5 to 1.5 × `mean`), never past `deadline` (time.monotonic());
    False once the deadline has passed."""
    time.sleep(min(mean * random.uniform(0.5, 1.5), max(0.0, deadline - time.monotonic())))
    return time.monotonic() < deadline


def crowd(people: Sequence[Callable[[], object]], *, deadline: float, grace: float = 35.0) -> CrowdRun:
    """Run each simulated person in a thread of its own and wait for them all, at most `grace`
    seconds past `deadline`. A person's exception is printed (as any thread's) and kept."""
    failures: list[BaseException] = []

    def guarded(person: Callable[[], object]) -> None:
        try:
            person()
        except BaseException as failure:
            failures.append(failure)
            raise

    threads = [threading.Thread(target=guarded, args=(person,), daemon=True) for person in people]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + grace)
    stuck = sum(1 for thread in threads if thread.is_alive())
    return CrowdRun(started, time.monotonic() - started, stuck, failures)


# --- the technician app ----------------------------------------------------------------------------


def _signature_png() -> bytes:
    """A small real PNG: the server decodes a signature (tickets/records/images.py)."""
    image = Image.new("L", (300, 100), 255)
    ImageDraw.Draw(image).line([(20, 70), (120, 30), (280, 60)], fill=0, width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


PNG = _signature_png()
# The event that moves a job on from each state, up to in_progress (whose next is `completed`).
FORWARD = {"scheduled": "en_route", "dispatched": "en_route", "en_route": "arrived", "on_site": "started"}
ADVANCING = (*FORWARD, "in_progress")


def completion(job: dict[str, Any]) -> dict[str, Any]:
    """What `completed` carries: a resolution, every checklist item answered, a signature if due."""
    answers = []
    for item in job["checklist"]:
        if item["kind"] == "value":
            answers.append({"position": item["position"], "value": "1"})
        elif item["kind"] == "text":
            answers.append({"position": item["position"], "text": "ok"})
        else:
            answers.append({"position": item["position"], "result": "pass"})
    body: dict[str, Any] = {"resolution": "Serviced and tested", "checklist": answers}
    if job["requires_signature"] and not job["signed_by"]:
        body["signature"] = {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "Bench"}
    return body


def next_event(job: dict[str, Any]) -> dict[str, Any]:
    """The event a technician posts next on `job` (as the app shows it; its status in ADVANCING)."""
    at = dt.datetime.now(dt.UTC).isoformat()  # device clock: the phone stamps its own events
    event: dict[str, Any] = {"at": at, "version": job["version"]}
    if job["status"] == "in_progress":
        event |= {"type": "completed", **completion(job)}
    else:
        event["type"] = FORWARD[job["status"]]
        if event["type"] == "arrived":
            event["location"] = {"lat": job["site"]["lat"], "lon": job["site"]["lon"]}
    return event


# --- the dispatch board, as a browser reads it -----------------------------------------------------

CLOCK = r"(\d\d:\d\d)–(\d\d:\d\d)"
ROW = re.compile(r'<li class="tl-row" data-technician="(\d+)">')
SHIFT = re.compile(r'<span class="muted small">\s*' + CLOCK)
ROW_SKILL = re.compile(r'<span class="skill">(\S+) (\d+)</span>')
JOB = re.compile(
    r'<div class="tl-block job [^"]*status-(\w+)[^"]*" data-left="[^"]*" data-width="[^"]*"'
    r'\s*title="[^"]*?' + CLOCK + r"[^\"]*\">"
    r'\s*<a href="/work-orders/(\d+)/"'
)
MOVE = re.compile(r'hx-get="/dispatch/work-orders/(\d+)/move/\?version=(\d+)')
RUN_STATUS = re.compile(r'<div id="run-status" hx-get="([^"]+)"')
URGENT = re.compile(r'<input type="hidden" name="work_order" value="(\d+)">')
FORM_SKILL = re.compile(r'<span class="skill">(\S+) ≥(\d+)</span>')
OPTION = re.compile(r'<option value="(\d+)"')
# The refusal box the move form comes back with; a version conflict adds the board's link and
# says which version the job is at now.
REFUSAL = '<div class="refusal" role="alert">'
CONFLICT = re.compile(r'<a href="/dispatch/\?day=')
VERSION_NOW = re.compile(r"at version (\d+)")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass
class BoardJob:
    work_order_id: int
    status: str
    start: int  # minutes after local midnight
    end: int
    version: int | None  # None: not movable (the technician has left for it)


@dataclass
class BoardRow:
    technician_id: int
    shift: tuple[int, int] | None
    skills: dict[str, int]
    jobs: list[BoardJob] = field(default_factory=list)


@dataclass
class Board:
    rows: list[BoardRow]
    urgent: list[int]  # unassigned P1/P2 work orders offered for urgent insertion (today only)
    run_status_path: str | None  # the partial the page loads (and polls while the run is going)

    def movable(self) -> list[BoardJob]:
        return [job for row in self.rows for job in row.jobs if job.version is not None]


def board_read(page: str) -> Board:
    """The board page's technicians (shift, skills, planned jobs) and what it would fetch."""
    rows = []
    chunks = ROW.split(page.split('<section class="card queue"', 1)[0])
    for technician_id, chunk in zip(chunks[1::2], chunks[2::2], strict=True):
        shift = SHIFT.search(chunk)
        row = BoardRow(
            int(technician_id),
            (_minutes(shift[1]), _minutes(shift[2])) if shift else None,
            {code: int(level) for code, level in ROW_SKILL.findall(chunk)},
        )
        blocks = JOB.split(chunk)  # [before, status, start, end, id, block, status, ...]
        for at in range(1, len(blocks) - 1, 5):
            status, start, end, work_order_id, rest = blocks[at : at + 5]
            move = MOVE.search(rest.split('<div class="tl-block', 1)[0])
            version = int(move[2]) if move and int(move[1]) == int(work_order_id) else None
            row.jobs.append(BoardJob(int(work_order_id), status, _minutes(start), _minutes(end), version))
        rows.append(row)
    run_status = RUN_STATUS.search(page)
    return Board(rows, [int(pk) for pk in URGENT.findall(page)], run_status[1] if run_status else None)


@dataclass
class MoveForm:
    skills: dict[str, int]  # what the job needs
    technicians: list[int]  # who may take it that day (shift, territory)


def move_form_read(fragment: str) -> MoveForm:
    return MoveForm(
        {code: int(level) for code, level in FORM_SKILL.findall(fragment)},
        [int(pk) for pk in OPTION.findall(fragment)],
    )


def free_slot(
    board: Board, job: BoardJob, form: MoveForm, *, step: int = 5, rng: random.Random | None = None
) -> tuple[int, str] | None:
    """A technician (other than the job's, if any can) with the job's skills and a gap in their
    shift as long as the job, and the gap's start ("HH:MM"); None if nobody has one."""
    rng = rng or random.Random()
    length = job.end - job.start
    rows = {row.technician_id: row for row in board.rows}
    candidates = []
    for technician_id in form.technicians:
        row = rows.get(technician_id)
        if row is None or row.shift is None:
            continue
        if any(row.skills.get(code, 0) < level for code, level in form.skills.items()):
            continue
        busy = sorted(
            (other.start, other.end) for other in row.jobs if other.work_order_id != job.work_order_id
        )
        start = row.shift[0]
        for begin, end in busy:
            if begin >= start + length:
                break
            start = max(start, end + (-end % step))
        if start + length <= row.shift[1]:
            mine = any(other.work_order_id == job.work_order_id for other in row.jobs)
            candidates.append((mine, technician_id, start))
    if not candidates:
        return None
    others = [c for c in candidates if not c[0]] or candidates
    _, technician_id, start = rng.choice(others)
    return technician_id, f"{start // 60:02d}:{start % 60:02d}"


def move_outcome(response: requests.Response) -> int:
    """The board's move answers htmx with 204 (moved) or with its form and a refusal (200, so
    that htmx shows it): recorded as 409 for a version conflict, 422 for any other refusal."""
    if response.status_code != 200 or REFUSAL not in response.text:
        return response.status_code
    return 409 if CONFLICT.search(response.text) else 422


def refusal_text(response: requests.Response) -> str:
    """The refusal the move form came back with, as plain text."""
    box = response.text.split(REFUSAL, 1)[-1].split("</div>", 1)[0]
    return unescape(re.sub(r"<[^>]+>", " ", box)).strip()


@dataclass(frozen=True)
class Move:
    job: BoardJob
    status: int  # as recorded: 204 moved, 409 version conflict, 422 refused, else the HTTP status
    response: requests.Response | None


def board_move(
    web: WebSession,
    board: Board,
    job: BoardJob,
    *,
    day: str,
    territory: str,
    pause: Callable[[], bool],
    rng: random.Random | None = None,
) -> Move | None:
    """Move `job` as a dispatcher does on the board: open its move form (⇄), pick a technician
    with the skills and a free gap (`free_slot`), think (`pause`), save with the version the
    board showed. None when nobody has room, or when `pause` says the shift is over."""
    assert job.version is not None, "only a job with ⇄ on the board can be moved"
    query = f"version={job.version}&day={day}&territory={territory}"
    path = f"/dispatch/work-orders/{job.work_order_id}/move/"
    status, response = web.call("GET", f"{path}?{query}", "move form", htmx=True)
    if status != 200 or response is None:
        return None
    slot = free_slot(board, job, move_form_read(response.text), rng=rng)
    if slot is None or not pause():
        return None
    technician_id, start = slot
    form = {
        "version": str(job.version),
        "day": day,
        "territory": territory,
        "technician": str(technician_id),
        "start": start,
    }
    status, response = web.call("POST", f"{path}save/", "move", form=form, htmx=True, outcome=move_outcome)
    return Move(job, status, response)
