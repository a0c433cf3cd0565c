"""The language switch: the dispatcher chooses 简体中文 and the board speaks Chinese.

Fails until the zh-hans catalog (locale/zh_Hans/LC_MESSAGES/django.mo) is compiled: the
lang attribute changes at once, the navigation text only with the catalog."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_language_switch_shows_chinese_on_the_dispatch_board(
    demo: None, page: Page, live_server: Any
) -> None:
    login(page, live_server, "dispatcher")
    page.goto(f"{live_server.url}/dispatch/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dispatch board")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    with page.expect_navigation():
        page.get_by_label("Language").select_option("zh-hans")
    page.wait_for_load_state("networkidle")

    expect(page).to_have_url(f"{live_server.url}/dispatch/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#language-select")).to_have_value("zh-hans")
    expect(page.locator("header nav a[href='/dispatch/']")).to_have_text("派工看板")
    expect(page.get_by_role("heading", level=1)).to_contain_text("派工看板")
