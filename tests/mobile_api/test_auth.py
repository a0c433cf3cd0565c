"""Logging in to the technician app: tokens, their end, and failed logins (mobile_api/api.py auth)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from fieldservice import clock, tokens
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from tests.mobile_api.conftest import API, App, token_for

pytestmark = pytest.mark.django_db


def test_a_technician_gets_a_token_that_opens_the_api(technician_a: User) -> None:
    before = clock.now()
    response = token_for("tech01")
    assert response.status_code == 200, response.content
    body = response.json()
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    ttl = dt.timedelta(hours=settings.MOBILE_TOKEN_TTL_HOURS)
    assert before + ttl <= expires_at <= clock.now() + ttl
    token = ApiToken.objects.get(user=technician_a)
    assert token.kind == ApiToken.Kind.MOBILE and body["token"] not in (token.key_hash, "")
    assert App(body["token"]).get("/me").json()["username"] == "tech01"


def test_a_wrong_password_is_401_and_issues_nothing(technician_a: User) -> None:
    response = token_for("tech01", password="wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"
    assert not ApiToken.objects.exists()


def test_a_dispatcher_is_not_given_a_token(dispatcher: User) -> None:
    response = token_for("dispatcher")
    assert response.status_code == 401
    assert not ApiToken.objects.filter(user=dispatcher).exists()


def test_a_mobile_token_stops_working_when_its_owner_is_no_longer_a_technician(technician_a: User) -> None:
    app = App(token_for("tech01").json()["token"])
    technician_a.groups.clear()
    assert app.get("/me").status_code == 401


def test_a_mobile_token_of_a_non_technician_is_refused(dispatcher: User) -> None:
    raw, _ = token_issue(user=dispatcher, kind=ApiToken.Kind.MOBILE)
    assert App(raw).get("/me").status_code == 401


def test_an_integration_token_does_not_open_the_mobile_api(technician_a: User) -> None:
    raw, _ = token_issue(user=technician_a, kind=ApiToken.Kind.INTEGRATION)
    assert App(raw).get("/me").status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic dGVjaDAxOmRlbW8="])
def test_calls_without_a_valid_token_are_401(technician_a: User, header: str | None) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get(f"{API}/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_an_expired_token_is_401(app_a: App) -> None:
    assert app_a.get("/me").status_code == 200  # now cached
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    with time_machine.travel(token.expires_at + dt.timedelta(seconds=1)):
        assert app_a.get("/me").status_code == 401


def test_an_expiry_set_by_hand_applies_at_once(app_a: App) -> None:
    assert app_a.get("/me").status_code == 200
    token = ApiToken.objects.get()
    token.expires_at = clock.now() - dt.timedelta(seconds=1)
    token.save()
    tokens.token_forget(token=token)  # what the admin does when a token is edited
    assert app_a.get("/me").status_code == 401


def test_revoking_ends_only_that_token(technician_a: User) -> None:
    phone, tablet = App(token_for("tech01").json()["token"]), App(token_for("tech01").json()["token"])
    response = phone.client.post(f"{API}/auth/revoke")
    assert response.status_code == 204
    assert phone.get("/me").status_code == 401
    assert tablet.get("/me").status_code == 200


def test_repeated_failures_for_a_user_name_are_429_even_with_the_right_password(technician_a: User) -> None:
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        # From different addresses, so only the per-user counter can block.
        assert token_for("tech01", password="wrong", address=f"10.0.0.{attempt}").status_code == 401
    blocked = token_for("tech01", address="10.0.1.1")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert not ApiToken.objects.exists()


def test_repeated_failures_from_one_address_block_that_address_only(
    technician_a: User, technician_b: User
) -> None:
    """Names guessed from one address: past its limit, names never logged in from there are
    refused from there, and nowhere else."""
    for attempt in range(settings.LOGIN_ADDRESS_MAX_FAILURES):
        assert token_for(f"guess{attempt}", password="x", address="10.9.9.9").status_code == 401
    assert token_for("tech01", address="10.9.9.9").status_code == 429
    assert token_for("tech01", address="10.9.9.8").status_code == 200


def test_failures_below_the_limit_do_not_block(technician_a: User) -> None:
    for attempt in range(settings.LOGIN_MAX_FAILURES - 1):
        assert token_for("tech01", password="wrong", address=f"10.0.2.{attempt}").status_code == 401
    assert token_for("tech01", address="10.0.3.1").status_code == 200
