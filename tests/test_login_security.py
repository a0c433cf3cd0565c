"""Logging in and holding a token: every login door is rate limited, passwords are validated,
API tokens are stored hashed, expire, can be revoked, and never show again after their issue.

The technician app's token endpoint has its own detailed tests (tests/mobile_api/test_auth.py);
here it is one of the doors checked side by side with the web and back-office logins.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from fieldservice import roles
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from tests import factories
from tests.conftest import own_cache_keys

pytestmark = pytest.mark.django_db

MOBILE = "/api/mobile/v1"


@pytest.fixture(autouse=True)
def _own_rate_limit_keys(settings: Any) -> Iterator[None]:
    """Failed logins are counted in the real Redis: this test's counters are its own."""
    with own_cache_keys(settings, "login"):
        yield


@pytest.fixture
def staff_admin() -> User:
    return factories.user(username="backoffice", role=roles.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def technician() -> User:
    return factories.user(username="tech77", role=roles.TECHNICIAN)


def web_login(username: str, password: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.response = client.post("/login/", {"username": username, "password": password})  # type: ignore[attr-defined]
    return client


def admin_login(username: str, password: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.response = client.post(  # type: ignore[attr-defined]
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
    )
    return client


def mobile_login(username: str, password: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.response = client.post(  # type: ignore[attr-defined]
        f"{MOBILE}/auth/token", {"username": username, "password": password}, "application/json"
    )
    return client


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


Door = Callable[[str, str, str], Client]
DOORS = {"web": web_login, "admin": admin_login, "mobile": mobile_login}
# Who may come in through each door.
PERSON_FOR = {"web": "backoffice", "admin": "backoffice", "mobile": "tech77"}


def _succeeded(door: str, client: Client) -> bool:
    if door == "mobile":
        return client.response.status_code == 200  # type: ignore[attr-defined]
    return logged_in(client)


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_every_login_door_blocks_a_user_name_after_repeated_failures(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        # From different addresses, so only the per-user counter can block.
        failed = login(username, "wrong", f"10.1.0.{attempt}")
        assert not _succeeded(door, failed)
        assert failed.response.status_code in (200, 401)  # type: ignore[attr-defined]
    blocked = login(username, "demo", "10.1.1.1")
    assert blocked.response.status_code == 429, door  # type: ignore[attr-defined]
    assert not _succeeded(door, blocked)
    assert "Too many failed" in blocked.response.content.decode() or door == "mobile"  # type: ignore[attr-defined]


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_every_login_door_blocks_an_address_after_repeated_failures(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        login(f"guess{attempt}", "x", "10.2.0.9")
    assert login(username, "demo", "10.2.0.9").response.status_code == 429  # type: ignore[attr-defined]
    assert _succeeded(door, login(username, "demo", "10.2.0.8"))


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_below_the_limit_the_right_password_still_works(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    for attempt in range(settings.LOGIN_MAX_FAILURES - 1):
        login(username, "wrong", f"10.3.0.{attempt}")
    assert _succeeded(door, login(username, "demo", "10.3.1.1"))


def test_the_admin_login_counts_a_right_password_of_a_non_staff_user_as_a_failure(technician: User) -> None:
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        client = admin_login("tech77", "demo", f"10.4.0.{attempt}")
        assert client.response.status_code == 200 and not logged_in(client)  # type: ignore[attr-defined]
    assert admin_login("tech77", "demo", "10.4.1.1").response.status_code == 429  # type: ignore[attr-defined]


def test_a_submission_without_a_password_is_a_failure_and_resets_nothing(staff_admin: User) -> None:
    for attempt in range(settings.LOGIN_MAX_FAILURES - 1):
        web_login("backoffice", "wrong", f"10.5.0.{attempt}")
    # An empty password is an attempt too: it must not clear the user name's counter.
    assert not logged_in(web_login("backoffice", "", "10.5.1.1"))
    assert web_login("backoffice", "demo", "10.5.1.2").response.status_code == 429  # type: ignore[attr-defined]


def test_the_admin_login_page_itself_still_serves_and_logs_staff_in(staff_admin: User) -> None:
    assert Client().get("/admin/login/").status_code == 200
    assert reverse("admin:login") == "/admin/login/"
    client = admin_login("backoffice", "demo", "10.6.0.1")
    assert client.response.status_code == 302 and logged_in(client)  # type: ignore[attr-defined]


# --- passwords -----------------------------------------------------------------------------------------


def test_password_validators_are_on() -> None:
    names = {validator["NAME"].rsplit(".", 1)[-1] for validator in settings.AUTH_PASSWORD_VALIDATORS}
    assert names >= {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }
    for weak in ("demo", "password", "12345678901"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("Copper kettle 42 rivers")


def test_the_back_office_refuses_a_weak_password(staff_admin: User) -> None:
    person = factories.user(username="newhire")
    form = AdminPasswordChangeForm(person, {"password1": "demo", "password2": "demo"})
    assert not form.is_valid()
    client = Client()
    client.force_login(staff_admin)
    url = reverse("admin:auth_user_password_change", args=[person.pk])
    response = client.post(url, {"password1": "qwerty", "password2": "qwerty"})
    assert response.status_code == 200  # the form again, with its errors
    person.refresh_from_db()
    assert person.check_password("demo")


# --- tokens --------------------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_sha256(technician: User) -> None:
    raw, token = token_issue(user=technician, kind=ApiToken.Kind.INTEGRATION)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert not [name for name, value in stored.items() if isinstance(value, str) and raw in value]
    assert stored["prefix"] == raw[:8] and len(raw) >= 40


def test_tokens_expire_by_default(technician: User) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "tech77", stdout=out, stderr=err)
    token = ApiToken.objects.get(user=technician)
    assert token.expires_at is not None and token.kind == ApiToken.Kind.INTEGRATION
    raw = out.getvalue().strip()
    assert hashlib.sha256(raw.encode()).hexdigest() == token.key_hash
    assert raw not in err.getvalue() and token.prefix in err.getvalue()
    app_token = mobile_login("tech77", "demo", "10.7.0.1").response.json()  # type: ignore[attr-defined]
    assert ApiToken.objects.get(kind=ApiToken.Kind.MOBILE).expires_at is not None
    assert app_token["expires_at"]


def test_a_raw_token_shows_only_in_the_answer_that_issues_it(
    technician: User, staff_admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = mobile_login("tech77", "demo", "10.8.0.1").response  # type: ignore[attr-defined]
    raw = issued.json()["token"]
    integration_raw, _ = token_issue(user=staff_admin, kind=ApiToken.Kind.INTEGRATION)

    app = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    integration = Client(HTTP_AUTHORIZATION=f"Bearer {integration_raw}")
    answers = [
        app.get(f"{MOBILE}/me"),
        app.get(f"{MOBILE}/jobs"),
        app.get(f"{MOBILE}/sync"),
        app.get(f"{MOBILE}/jobs/999999"),
        app.post(f"{MOBILE}/jobs/999999/events", {"type": "arrived"}, "application/json"),
        integration.get("/api/v1/work-orders"),
        integration.get("/api/v1/work-orders/999999"),
        integration.post("/api/v1/work-orders", {"title": ""}, "application/json"),
        app.post(f"{MOBILE}/auth/revoke"),
        app.get(f"{MOBILE}/me"),  # revoked: 401
    ]
    back_office = Client()
    back_office.force_login(staff_admin)
    answers += [
        back_office.get(reverse("admin:fieldservice_apitoken_changelist")),
        *[
            back_office.get(reverse("admin:fieldservice_apitoken_change", args=[token.pk]))
            for token in ApiToken.objects.all()
        ],
    ]
    assert [answer.status_code for answer in answers[:10]] == [
        200,
        200,
        200,
        404,
        422,
        200,
        404,
        422,
        204,
        401,
    ]
    hashes = list(ApiToken.objects.values_list("key_hash", flat=True))
    for answer in answers:
        seen = answer.content.decode(errors="replace") + str(answer.headers)
        for secret in (raw, integration_raw, *hashes):
            assert secret not in seen, (answer.request["PATH_INFO"], "shows a token or its hash")
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records
    )
    assert caplog.records  # the 4xx answers above were logged, so there was something to look at
    assert raw not in logged and integration_raw not in logged


def test_error_reports_mask_the_authorization_header() -> None:
    request = RequestFactory().get("/api/v1/work-orders", HTTP_AUTHORIZATION="Bearer s3cr3t-value")
    meta = SafeExceptionReporterFilter().get_safe_request_meta(request)
    assert "s3cr3t-value" not in str(meta["HTTP_AUTHORIZATION"])
