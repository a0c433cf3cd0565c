"""The cases API: who sees and moves what, errors with codes, the Idempotency-Key on create."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import Case
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_create_with_a_replayed_key_opens_one_case(customer: dict[str, Any], dispatcher: User) -> None:
    client = client_for(dispatcher)
    body = {"account_id": customer["account"].pk, "contact_id": customer["contact"].pk, "title": "Noisy unit"}
    first = post(client, URL, body, key="call-1")
    again = post(client, URL, body, key="call-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Case.objects.count() == 1
    created = first.json()
    assert created["clock_source"] == "default" and created["next_statuses"] == ["acknowledged"]
    assert created["events"][0]["type"] == "created"


def test_bad_input_names_the_field(customer: dict[str, Any], dispatcher: User) -> None:
    client = client_for(dispatcher)
    stranger = factories.contact(site=factories.site())
    refused = post(
        client, URL, {"account_id": customer["account"].pk, "contact_id": stranger.pk, "title": "Noise"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "contact_other_account"
    assert refused.json()["details"] == {"field": "contact_id"}
    out_of_range = post(client, URL, {"account_id": customer["account"].pk, "title": "x", "severity": 4})
    assert out_of_range.status_code == 422 and "severity" in json.dumps(out_of_range.json()["details"])
    assert not Case.objects.exists()


def test_transitions_and_refusals(customer: dict[str, Any], account_manager: User) -> None:
    case = services.case_open(
        account=customer["account"], kind="enquiry", severity=3, channel="email", title="Invoice", by=None
    )
    client = client_for(account_manager)
    url = f"{URL}/{case.pk}/transition"
    refused = post(client, url, {"to": "resolved", "version": case.version})
    assert refused.status_code == 409 and refused.json()["code"] == "illegal_transition"
    moved = post(client, url, {"to": "acknowledged", "version": case.version})
    assert moved.status_code == 200 and moved.json()["status"] == "acknowledged"
    stale = post(client, url, {"to": "in_progress", "version": case.version})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    note = post(client, f"{URL}/{case.pk}/notes", {"text": "Called the plant manager"})
    assert note.status_code == 201 and note.json()["events"][-1]["text"] == "Called the plant manager"


def test_another_managers_case_is_404_and_technicians_403(
    customer: dict[str, Any], account_manager: User, tech_a: User
) -> None:
    foreign = services.case_open(
        account=factories.account(account_manager=factories.user()),
        kind="complaint",
        severity=1,
        channel="phone",
        title="Late again",
        by=None,
    )
    mine = services.case_open(
        account=customer["account"], kind="complaint", severity=1, channel="phone", title="Late", by=None
    )
    client = client_for(account_manager)
    assert client.get(f"{URL}/{foreign.pk}").status_code == 404
    assert post(client, f"{URL}/{foreign.pk}/notes", {"text": "x"}).status_code == 404
    assert [row["id"] for row in client.get(URL).json()["items"]] == [mine.pk]
    assert client_for(tech_a).get(URL).status_code == 403


def test_list_filters_and_its_query_count(customer: dict[str, Any], dispatcher: User) -> None:
    for _ in range(3):
        services.case_open(
            account=customer["account"], kind="complaint", severity=2, channel="phone", title="Hum", by=None
        )
    client = client_for(dispatcher)
    client.get(URL)  # session and roles
    with CaptureQueriesContext(connection) as three:
        assert client.get(URL, {"status": "received", "breached": "false"}).json()["count"] == 3
    services.case_open(
        account=customer["account"], kind="complaint", severity=2, channel="phone", title="Hum", by=None
    )
    with CaptureQueriesContext(connection) as four:
        client.get(URL, {"status": "received"})
    assert len(four) == len(three)
    assert client.get(URL, {"breached": "true"}).json()["count"] == 0
    assert client.get(URL, {"account_id": factories.account().pk}).json()["count"] == 0
