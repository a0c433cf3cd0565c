"""Signing in by a one-time emailed link: only a contact's address gets one, the page answers
the same for any address, and a link works once, within its minutes, within the limits."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from fieldservice import clock, roles
from portal.models import PortalAccess, SignInLink
from tests.portal.conftest import Customer

pytestmark = pytest.mark.django_db(transaction=False)

LINK = re.compile(r"http://testserver(/portal/login/[\w-]+/)")


def ask(client: Client, email: str, **extra: Any) -> Any:
    return client.post("/portal/login/", {"email": email}, **extra)


def emailed_link(outbox_index: int = -1) -> str:
    found = LINK.search(str(mail.outbox[outbox_index].body))
    assert found, mail.outbox[outbox_index].body
    return found[1]


def test_a_contact_gets_a_link_that_signs_them_in_once(
    mine: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        asked = ask(client, mine.contact.email.upper())  # addresses match whatever their case
    assert asked.status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [mine.contact.email]
    link = emailed_link()
    assert SignInLink.objects.get().token_sha256 not in mail.outbox[0].body  # only the hash is kept

    shown = client.get(link)  # opening the link (a mail scanner would) does not use it
    assert shown.status_code == 200 and mine.contact.name in shown.content.decode()
    signed = client.post(link)
    assert signed.status_code == 302 and signed["Location"] == "/portal/"
    access = PortalAccess.objects.select_related("user").get(contact=mine.contact)
    assert roles.user_roles(access.user) == {roles.CUSTOMER}
    assert not access.user.has_usable_password() and not access.user.is_staff
    assert access.user.get_all_permissions() == set()
    home = client.get("/portal/")
    assert home.status_code == 200 and mine.account.name in home.content.decode()

    again = Client().post(link)  # reused
    assert again.status_code == 410 and "used already" in again.content.decode()
    assert Client().get(link).status_code == 410
    assert User.objects.filter(portal_access__contact=mine.contact).count() == 1


def test_second_sign_in_reuses_the_same_user(mine: Customer, django_capture_on_commit_callbacks: Any) -> None:
    users = set()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            ask(Client(), mine.contact.email)
        client = Client()
        assert client.post(emailed_link()).status_code == 302
        users.add(client.session["_auth_user_id"])
    assert len(users) == 1


def test_an_expired_link_is_refused(
    mine: Customer, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ask(Client(), mine.contact.email)
    link = emailed_link()
    later = clock.now() + dt.timedelta(minutes=settings.PORTAL_LINK_VALID_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        refused = Client().post(link)
    assert refused.status_code == 410 and "expired" in refused.content.decode()
    assert not PortalAccess.objects.exists()


def test_an_unknown_link_is_refused() -> None:
    refused = Client().post("/portal/login/not-a-link-we-sent/")
    assert refused.status_code == 404 and "not one we sent" in refused.content.decode()
    assert "_auth_user_id" not in Client().session


def test_the_page_answers_the_same_for_an_unknown_address(
    mine: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        known = ask(Client(), mine.contact.email)
        unknown = ask(Client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    as_text = [
        r.content.decode().replace(address, "ADDRESS")
        for r, address in ((known, mine.contact.email), (unknown, "nobody@example.com"))
    ]
    strip = re.compile(r'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"')
    assert strip.sub("", as_text[0]) == strip.sub("", as_text[1])
    assert len(mail.outbox) == 1  # only the contact got an email


def test_asking_too_often_is_refused_alike_for_any_address(mine: Customer, settings: Any) -> None:
    settings.PORTAL_LINKS_PER_EMAIL = 2
    for address in (mine.contact.email, "nobody@example.com"):
        answers = [ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), address).status_code for n in range(3)]
        assert answers == [200, 200, 429], address
    assert SignInLink.objects.count() == 2


def test_one_client_address_is_limited_across_addresses(mine: Customer, settings: Any) -> None:
    settings.PORTAL_LINKS_PER_CLIENT = 3
    client = Client(REMOTE_ADDR="10.9.9.9")
    answers = [ask(client, f"someone{n}@example.com").status_code for n in range(3)]
    refused = ask(client, mine.contact.email)
    assert answers == [200, 200, 200] and refused.status_code == 429 and refused["Retry-After"]
    assert not SignInLink.objects.exists()


def test_a_bad_address_is_a_400_naming_the_field() -> None:
    answer = ask(Client(), "not an address")
    assert answer.status_code == 400 and "valid email" in answer.content.decode()
    assert ask(Client(), "a" * 300 + "@example.com").status_code == 400


def test_a_switched_off_contact_gets_no_link(mine: Customer, django_capture_on_commit_callbacks: Any) -> None:
    from portal.signin import portal_access_ensure

    access = portal_access_ensure(contact=mine.contact)
    User.objects.filter(pk=access.user_id).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(Client(), mine.contact.email).status_code == 200
    assert mail.outbox == []


def test_sign_out(mine: Customer) -> None:
    from tests.portal.conftest import signed_in

    client = signed_in(mine.contact)
    assert client.get("/portal/").status_code == 200
    out = client.post("/portal/logout/")
    assert out.status_code == 302 and out["Location"] == "/portal/login/"
    assert client.get("/portal/")["Location"].startswith("/portal/login/")


def test_staff_are_not_customers(dispatcher: User) -> None:
    client = Client()
    client.force_login(dispatcher)
    assert client.get("/portal/").status_code == 403
