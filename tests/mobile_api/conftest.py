"""Personas and builders for the technician app's API tests.

The personas come from tests/conftest.py (tech01 = technician A, tech02 = technician B, a
dispatcher); here they get technician profiles, jobs in a chosen state and a logged-in app.
Failed logins are counted in the real Redis: every test gets its own cache key prefix, so a
test never sees another's counters (nor another run's, on a shared Redis), and its
`login-failures` keys are deleted when it ends.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from assets.models import Site
from fieldservice import clock
from tests import factories
from tests.conftest import own_cache_keys
from tickets import creation, lifecycle, site_visit
from tickets.models import WorkOrder

API = "/api/mobile/v1"


def png(size: tuple[int, int] = (8, 4), colour: str = "white") -> bytes:
    """A real PNG: photos and signatures are decoded when they arrive."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


PNG = png()
Status = WorkOrder.Status
# The moves that take a freshly scheduled job to each later state.
ADVANCE: dict[str, Callable[..., WorkOrder]] = {
    Status.DISPATCHED: lifecycle.work_order_dispatch,
    Status.EN_ROUTE: site_visit.work_order_start_travel,
    Status.ON_SITE: site_visit.work_order_arrive,
    Status.IN_PROGRESS: site_visit.work_order_start_work,
}
PATH_TO: list[str] = [Status.SCHEDULED, *ADVANCE]


class App:
    """The technician app: a test client holding a bearer token, sending a fresh
    Idempotency-Key with every change unless told which one to send."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params)

    def post(self, path: str, body: dict[str, Any], *, key: str | None = None) -> Any:
        return self.client.post(
            f"{API}{path}", body, "application/json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4())
        )

    def event(self, job: WorkOrder, type: str, *, version: int | None = None, **fields: Any) -> Any:
        """Post an event as the app would, with the job's version as the app last saw it."""
        key = fields.pop("key", None)
        body = {"type": type, "at": clock.now().isoformat(), "version": version or job.version, **fields}
        return self.post(f"/jobs/{job.pk}/events", body, key=key)


def token_for(username: str, *, password: str = "demo", address: str = "127.0.0.1") -> Any:
    return Client(REMOTE_ADDR=address).post(
        f"{API}/auth/token", {"username": username, "password": password}, "application/json"
    )


def login(username: str) -> App:
    response = token_for(username)
    assert response.status_code == 200, response.content
    return App(response.json()["token"])


@pytest.fixture(autouse=True)
def _own_rate_limit_keys(settings: Any) -> Iterator[None]:
    with own_cache_keys(settings, "mobile"):
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Photos, signatures and service reports are files: keep them out of var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def technician_a(tech_a: User) -> User:
    factories.technician(person=tech_a, skills={"compressor": 3, "chiller": 1})
    return tech_a


@pytest.fixture
def technician_b(tech_b: User) -> User:
    factories.technician(person=tech_b)
    return tech_b


@pytest.fixture
def app_a(technician_a: User) -> App:
    return login(technician_a.username)


@pytest.fixture
def app_b(technician_b: User) -> App:
    return login(technician_b.username)


JobMaker = Callable[..., WorkOrder]


@pytest.fixture
def make_job(dispatcher: User) -> JobMaker:
    """A job for `technician`, planned at `start` (default now), moved on to `status`
    through the services; `contract=True` puts it under a contract that requires a signature.
    Everything happens at `at` (default now): the app's events may not precede it."""

    def make(
        *,
        technician: User,
        status: str = Status.DISPATCHED,
        start: dt.datetime | None = None,
        checklist: list[dict[str, Any]] | None = None,
        contract: bool = False,
        site: Site | None = None,
        at: dt.datetime | None = None,
    ) -> WorkOrder:
        start = start or clock.now().replace(microsecond=0)
        unit = factories.equipment(site=site) if site else factories.equipment()
        factories.contact(site=unit.site, is_primary=True)
        if contract:
            factories.contract(
                account=unit.site.account,
                covers=[unit],
                start_date=dt.date(2020, 1, 1),
                end_date=dt.date(2099, 1, 1),
                requires_signature=True,
            )
        job = creation.work_order_create(
            site=unit.site,
            equipment=unit,
            kind="corrective",
            title="Compressor trips",
            by=dispatcher,
            checklist=checklist or [],
            at=at,
        )
        job = lifecycle.work_order_schedule(
            work_order=job,
            technician=technician,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
            by=dispatcher,
            version=job.version,
            at=at,
        )
        for state in PATH_TO[1 : PATH_TO.index(status) + 1]:
            job = ADVANCE[state](work_order=job, by=technician, version=job.version, at=at)
        return WorkOrder.objects.get(pk=job.pk)

    return make
