"""The web app's frame: login (rate limited), landing per role, 403 for the wrong role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from fieldservice import login_counters

pytestmark = pytest.mark.django_db


ADDRESS = "10.9.9.9"


@pytest.fixture(autouse=True)
def _fresh_login_counters() -> None:
    """Counters live in the real Redis and outlast a test: start each test from zero."""
    cache.delete_many(login_counters._keys("dispatcher", ADDRESS) + login_counters._keys("manager", ADDRESS))


def test_login_lands_each_role_on_its_page(dispatcher: User, account_manager: User) -> None:
    for user, landing in ((dispatcher, "/dispatch/"), (account_manager, "/accounts/")):
        client = Client(REMOTE_ADDR=ADDRESS)
        response = client.post("/login/", {"username": user.username, "password": "demo"})
        assert response.status_code == 302
        assert client.get("/")["Location"] == landing


def test_technician_lands_in_the_technician_app(tech_a: User) -> None:
    client = Client()
    client.force_login(tech_a)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_anonymous_goes_to_login() -> None:
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_is_rate_limited(dispatcher: User) -> None:
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        assert client.post("/login/", {"username": "dispatcher", "password": "wrong"}).status_code == 200
    blocked = client.post("/login/", {"username": "dispatcher", "password": "demo"})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()


def test_language_switch(dispatcher: User) -> None:
    client = Client()
    client.force_login(dispatcher)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert client.cookies["django_language"].value == "zh-hans"


def _web_pages() -> list[str]:
    """Every web page of the dispatcher and account-manager apps and the work-order pages,
    read from the URL configuration so that a new page cannot be forgotten here."""
    from django.urls import URLPattern, URLResolver, get_resolver

    pages = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith(("dispatch/", "accounts/", "kpis/", "work-orders/")):
                pages.append("/" + route.replace("<int:", "{").replace(">", "}"))

    walk(get_resolver().url_patterns, "")
    return sorted(pages)


def test_the_page_list_is_not_empty() -> None:
    assert {"/dispatch/", "/accounts/", "/kpis/", "/work-orders/{work_order_id}/"} <= set(_web_pages())


@pytest.mark.parametrize("page", _web_pages())
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_technician_gets_403_on_every_web_page(tech_a: User, page: str, method: str) -> None:
    client = Client()
    client.force_login(tech_a)
    url = page.format(work_order_id=1, run_id=1, account_id=1, opportunity_id=1, task_id=1)
    response = getattr(client, method)(url)
    # 405 is a page that only answers the other method; what matters is that nothing is served.
    assert response.status_code in (403, 405), (url, response.status_code)
    if method == "get" and page in {"/dispatch/", "/accounts/", "/kpis/"}:
        assert response.status_code == 403
