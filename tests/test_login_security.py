"""Logging in and holding a token: every login door is throttled the same way (fieldservice.
ratelimit: slow guessing, no lockout anyone else can cause), passwords are validated, API
tokens are stored hashed, expire, can be revoked, and never show again after their issue.

The technician app's token endpoint has its own detailed tests (tests/mobile_api/test_auth.py);
here it is one of the doors checked side by side with the web and back-office logins.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
import time_machine
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

from fieldservice import client_address, clock, ratelimit, roles
from fieldservice.audit import Source
from fieldservice.models import ApiToken, AuditEntry
from fieldservice.tokens import token_issue
from tests import factories
from tests.conftest import own_cache_keys

pytestmark = pytest.mark.django_db

MOBILE = "/api/mobile/v1"
# Where the door's person usually logs in from; a customer site's NAT address.
HOME = "192.0.2.10"
SITE = "192.0.2.200"


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


def retry_after(door: str, client: Client) -> int:
    response = client.response  # type: ignore[attr-defined]
    assert response.status_code == 429, (door, response.status_code)
    if door == "mobile":
        return int(response.json()["details"]["retry_after_seconds"])
    return int(response["Retry-After"])


@contextlib.contextmanager
def later(seconds: float) -> Iterator[None]:
    """The business clock `seconds` on (Redis's own expiry does not move with it)."""
    with time_machine.travel(clock.now() + dt.timedelta(seconds=seconds), tick=True):
        yield


@pytest.fixture
def move_clock() -> Iterator[Callable[[float], None]]:
    """Moves the business clock on by so many seconds, for good."""
    with time_machine.travel(clock.now(), tick=True) as traveller:
        yield lambda seconds: traveller.shift(dt.timedelta(seconds=seconds))


def fail_from_many_addresses(door: str, username: str, count: int, *, network: str) -> None:
    for attempt in range(count):
        failed = DOORS[door](username, "wrong", f"{network}.{attempt}")
        assert failed.response.status_code in (200, 401), (door, attempt)  # type: ignore[attr-defined]


# --- one user name from one address ------------------------------------------------------------------


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_a_user_name_is_refused_only_at_the_address_that_kept_failing(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    assert _succeeded(door, login(username, "demo", HOME))  # the user's usual address
    for _attempt in range(settings.LOGIN_MAX_FAILURES):
        assert not _succeeded(door, login(username, "wrong", "10.1.0.1"))
    # Not a lock on the account: from the user's usual address the right password still works.
    assert _succeeded(door, login(username, "demo", HOME))
    blocked = login(username, "demo", "10.1.0.1")
    assert 0 < retry_after(door, blocked) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert not _succeeded(door, blocked)
    assert "Too many failed" in blocked.response.content.decode() or door == "mobile"  # type: ignore[attr-defined]


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_a_full_width_or_capitalised_spelling_is_the_same_user_name(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    # Failures from several addresses, so that only the user name's own count can refuse.
    fail_from_many_addresses(door, username, settings.LOGIN_ACCOUNT_FREE_FAILURES, network="10.1.2")
    full_width = "".join(chr(ord(letter) + 0xFEE0) for letter in username)  # ｂａｃｋｏｆｆｉｃｅ
    # Django's login form reads ｂａｃｋｏｆｆｉｃｅ as backoffice (NFKC): so does the limiter.
    for number, spelling in enumerate((full_width, username.upper(), f" {username} ")):
        refused = login(spelling, "demo", f"10.1.3.{number}")
        assert refused.response.status_code == 429, spelling  # type: ignore[attr-defined]
        assert not _succeeded(door, refused)
    for _attempt in range(settings.LOGIN_MAX_FAILURES):
        login(username, "wrong", HOME)
    assert login(full_width, "demo", HOME).response.status_code == 429  # type: ignore[attr-defined]


# --- one user name from everywhere -------------------------------------------------------------------


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_failures_from_many_addresses_slow_new_addresses_down_and_never_lock_the_user(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    assert _succeeded(door, login(username, "demo", HOME))
    fail_from_many_addresses(door, username, settings.LOGIN_ACCOUNT_FREE_FAILURES, network="10.2.0")
    # The user's own address is not held up at all: nobody out there can lock them out.
    assert _succeeded(door, login(username, "demo", HOME))
    # A new address waits its turn, with the right password too: it is not even tried.
    waiting = login(username, "demo", "10.2.1.1")
    assert 0 < retry_after(door, waiting) <= settings.LOGIN_ACCOUNT_DELAY_SECONDS
    # Nor is a new address once the wait is over.
    with later(settings.LOGIN_ACCOUNT_DELAY_SECONDS):
        assert _succeeded(door, login(username, "demo", "10.2.3.1"))


@pytest.mark.usefixtures("staff_admin")
def test_the_wait_doubles_with_each_failure_up_to_its_cap(
    settings: Any, move_clock: Callable[[float], None]
) -> None:
    settings.LOGIN_ACCOUNT_FREE_FAILURES = 2
    settings.LOGIN_ACCOUNT_DELAY_SECONDS = 3
    settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS = 20
    fail_from_many_addresses("web", "backoffice", 2, network="10.3.0")
    waits = []
    for attempt in range(5):
        waits.append(retry_after("web", web_login("backoffice", "demo", f"10.3.1.{attempt}")))
        move_clock(waits[-1])
        assert not logged_in(web_login("backoffice", "wrong", f"10.3.2.{attempt}"))
    # In whole seconds, rounded up from what is left: a slow request may make one a second shorter.
    expected = [3, 6, 12, 20, 20]
    assert all(want - 1 <= wait <= want for wait, want in zip(waits, expected, strict=True)), waits


@pytest.mark.usefixtures("staff_admin")
def test_attempts_at_one_name_past_the_free_failures_take_turns() -> None:
    """Two attempts arriving together (a botnet's): the second is refused while the first
    checks its password, instead of both being tried."""
    fail_from_many_addresses("web", "backoffice", settings.LOGIN_ACCOUNT_FREE_FAILURES, network="10.4.0")
    with later(settings.LOGIN_ACCOUNT_DELAY_SECONDS):
        with ratelimit.login_attempt(username="backoffice", address="10.4.1.1", source=Source.WEB):
            with pytest.raises(ratelimit.LoginRefused) as refused:
                ratelimit.login_attempt(
                    username="backoffice", address="10.4.1.2", source=Source.WEB
                ).__enter__()
            assert refused.value.throttle == ratelimit.Throttle.USER_DELAYED


# --- one address, many names (a site behind NAT) -------------------------------------------------------


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_one_persons_typos_do_not_block_their_colleagues_behind_the_same_address(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    factories.user(username="clumsy", role=roles.TECHNICIAN)
    for _attempt in range(3 * settings.LOGIN_MAX_FAILURES):  # and keeps trying once refused
        assert not _succeeded(door, login("clumsy", "wrong", SITE))
    # A colleague who never logged in from the site before.
    assert _succeeded(door, login(username, "demo", SITE))


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_an_address_spraying_many_names_may_try_no_new_names(door: str, settings: Any) -> None:
    settings.LOGIN_ADDRESS_MAX_FAILURES = 8
    login, username = DOORS[door], PERSON_FOR[door]
    assert _succeeded(door, login(username, "demo", SITE))  # a regular at the site
    for attempt in range(settings.LOGIN_ADDRESS_MAX_FAILURES):
        login(f"guess{attempt}", "password", SITE)
    assert 0 < retry_after(door, login("newcomer", "demo", SITE)) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert _succeeded(door, login(username, "demo", SITE))  # regulars keep logging in
    assert _succeeded(door, login(username, "demo", "10.5.0.8"))  # and other addresses are not concerned


@pytest.mark.usefixtures("staff_admin", "technician")
@pytest.mark.parametrize("door", DOORS)
def test_below_the_limit_the_right_password_still_works(door: str) -> None:
    login, username = DOORS[door], PERSON_FOR[door]
    for attempt in range(settings.LOGIN_MAX_FAILURES - 1):
        login(username, "wrong", f"10.6.0.{attempt}")
    assert _succeeded(door, login(username, "demo", "10.6.1.1"))


# --- the client's address --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "address"),
    [
        # Straight from the internet: the peer, whatever it claims.
        ({"REMOTE_ADDR": "203.0.113.9", "HTTP_X_REAL_IP": "10.0.0.1"}, "203.0.113.9"),
        ({"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}, "203.0.113.9"),
        # Through nginx on this host: the client it names.
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "198.51.100.7"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "::1", "HTTP_X_REAL_IP": "2001:db8::7"}, "2001:db8::7"),
        ({"REMOTE_ADDR": "::ffff:127.0.0.1", "HTTP_X_REAL_IP": "198.51.100.7"}, "198.51.100.7"),
        # X-Forwarded-For: the nearest hop that is not a trusted proxy; what the client wrote
        # to the left of it is not believed.
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.7"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7, 127.0.0.1"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "x, 127.0.0.1"}, "127.0.0.1"),
        # Garbage is not an address.
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "<script>"}, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),
        ({}, "unknown"),
    ],
)
def test_the_client_address_comes_from_a_header_only_through_a_trusted_proxy(
    meta: dict[str, str], address: str
) -> None:
    assert client_address.client_ip(meta) == address


def test_the_trusted_proxies_are_a_setting(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.20", "10.1.0.0/24"]
    assert (
        client_address.client_ip({"REMOTE_ADDR": "10.0.0.20", "HTTP_X_REAL_IP": "198.51.100.7"})
        == "198.51.100.7"
    )
    assert (
        client_address.client_ip({"REMOTE_ADDR": "10.1.0.99", "HTTP_X_REAL_IP": "198.51.100.7"})
        == "198.51.100.7"
    )
    assert (
        client_address.client_ip({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "198.51.100.7"})
        == "127.0.0.1"
    )


@pytest.mark.usefixtures("staff_admin")
def test_a_client_cannot_escape_its_counter_by_naming_another_address(settings: Any) -> None:
    settings.LOGIN_ACCOUNT_FREE_FAILURES = 100  # only the per-address counters here

    def attempt(client: Client, password: str) -> int:
        return client.post("/login/", {"username": "backoffice", "password": password}).status_code

    for number in range(settings.LOGIN_MAX_FAILURES):
        attempt(Client(REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP=f"10.7.0.{number}"), "wrong")
    assert attempt(Client(REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP="10.7.1.1"), "demo") == 429
    # Behind nginx, two people are two addresses.
    behind_nginx = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.7")
    for _number in range(settings.LOGIN_MAX_FAILURES):
        attempt(behind_nginx, "wrong")
    assert attempt(behind_nginx, "demo") == 429
    assert attempt(Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.8"), "demo") == 302


# --- lockouts in the audit trail, and the admins told --------------------------------------------------


def lockouts_of(person: User) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type__model="user", object_id=person.pk).order_by("at", "pk")
    )


def test_each_lockout_is_in_the_audit_trail_and_mailed_to_the_admins_once_per_window(
    technician: User,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
    move_clock: Callable[[float], None],
) -> None:
    factories.user(username="boss", role=roles.ADMIN, is_staff=True, email="boss@example.com")
    factories.user(username="root", is_superuser=True, is_staff=True, email="root@example.com")
    factories.user(username="away", role=roles.ADMIN, is_active=False, email="away@example.com")
    factories.user(username="dispatch", role=roles.DISPATCHER, email="dispatch@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(settings.LOGIN_MAX_FAILURES):
            mobile_login("tech77", "wrong", "10.8.0.1")
    first = lockouts_of(technician)
    assert [entry.changes[ratelimit.LOCKOUT_FIELD][1] for entry in first] == [
        ratelimit.Throttle.USER_AT_ADDRESS,
        ratelimit.Throttle.USER_DELAYED,
    ]
    assert {entry.source for entry in first} == {Source.API} and {entry.by for entry in first} == {None}
    assert first[0].changes[ratelimit.FAILURES_FIELD] == [None, settings.LOGIN_MAX_FAILURES]
    assert first[0].changes[ratelimit.ADDRESS_FIELD] == [None, "10.8.0.1"]
    assert sorted(address for message in mailoutbox for address in message.to) == [
        "boss@example.com",
        "root@example.com",
    ]
    assert "tech77" in mailoutbox[0].subject and "10.8.0.1" in mailoutbox[0].body

    # Another address locked out of the same name, through another door: recorded, not mailed again.
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(settings.LOGIN_MAX_FAILURES):
            move_clock(settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS)  # each waits its turn
            assert web_login("tech77", "wrong", "10.8.0.2").response.status_code == 200  # type: ignore[attr-defined]
    assert [entry.source for entry in lockouts_of(technician)[2:]] == [Source.WEB]
    assert len(mailoutbox) == 2


def test_failures_for_a_name_nobody_has_are_counted_but_recorded_nowhere(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    factories.user(username="boss", role=roles.ADMIN, is_staff=True, email="boss@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(settings.LOGIN_MAX_FAILURES + 1):
            web_login("nobody", "wrong", "10.9.0.1")
    assert web_login("nobody", "wrong", "10.9.0.1").response.status_code == 429  # type: ignore[attr-defined]
    assert not AuditEntry.objects.exists() and not mailoutbox


def test_a_mail_server_that_is_down_does_not_break_the_login(
    technician: User, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.user(username="boss", role=roles.ADMIN, is_staff=True, email="boss@example.com")

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(settings.LOGIN_MAX_FAILURES):
            assert mobile_login("tech77", "wrong", "10.9.1.1").response.status_code == 401  # type: ignore[attr-defined]
    assert len(lockouts_of(technician)) == 2


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
