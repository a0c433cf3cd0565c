"""The customer portal in a browser: a contact signs in by the link emailed to them, reports a
fault with a photo and finds it among their work orders; then the portal in Chinese on a
phone (screenshots for the README: docs/screenshots/portal-*.png).

Emails go to Django's test outbox (mail.outbox), which the live server's thread shares."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from assets.models import Contact
from tests import factories
from tests.browser.conftest import keep_for_readme, pin_browser_clock
from tests.conftest import own_cache_keys
from tickets.models import WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^/\s]+(/portal/login/[\w-]+/)")


@pytest.fixture
def contact(transactional_db: None, settings: Any, tmp_path: Path) -> Any:
    settings.MEDIA_ROOT = tmp_path
    with own_cache_keys(settings, "portal-browser"):
        account = factories.account(name="苏州精密电子有限公司")
        site = factories.site(account=account, name="星湖街工厂")
        factories.equipment(site=site, asset_tag="CMP-01")
        factories.equipment(site=site, asset_tag="CMP-02")
        yield factories.contact(site=site, name="王伟", email="wang.wei@example.com", language="en")


def photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 160)).save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/portal/login/")
    page.locator("#id_email").fill(email)
    page.locator("form[method=post] button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()
    found = LINK.search(str(mail.outbox[-1].body))
    assert found, mail.outbox[-1].body
    page.goto(base + found[1])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/portal/")


def test_a_contact_signs_in_by_email_and_reports_a_fault_with_a_photo(
    contact: Contact, page: Page, live_server: Any, tmp_path: Path, screenshot_dir: Path
) -> None:
    page.goto(f"{live_server.url}/portal/login/")
    page.get_by_label("Email").fill(contact.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert mail.outbox[-1].to == [contact.email]
    link = LINK.search(str(mail.outbox[-1].body))
    assert link
    page.goto(live_server.url + link[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(contact.account.name)

    page.get_by_role("link", name="Report a fault").first.click()
    machine = page.locator("#id_equipment option", has_text="CMP-02").get_attribute("value")
    page.get_by_label("Machine").select_option(machine)
    page.get_by_label("What is wrong?").fill("Compressor trips on high temperature, alarm E42")
    page.get_by_label("Yes, the line is stopped").check()
    page.get_by_label("Photos (optional)").set_input_files(photo(tmp_path / "alarm.jpg"))
    page.get_by_role("button", name="Send the report").click()

    page.wait_for_url(f"{live_server.url}/portal/work-orders/")
    work_order = WorkOrder.objects.get()
    assert work_order.status == WorkOrder.Status.NEW and work_order.priority == 1
    assert work_order.fault_report.photos.count() == 1
    expect(page.locator(".messages")).to_contain_text(work_order.number)
    card = page.locator(".card.wo", has_text=work_order.number).first
    expect(card).to_contain_text("Compressor trips on high temperature")
    expect(card).to_contain_text("P1")
    assert any(work_order.number in message.subject for message in mail.outbox)
    page.screenshot(path=screenshot_dir / "portal-work-orders.png", full_page=True)


def test_the_chinese_portal_on_a_phone(
    contact: Contact, browser: Browser, live_server: Any, screenshot_dir: Path
) -> None:
    Contact.objects.filter(pk=contact.pk).update(language="zh-hans")
    factories.work_order(site=contact.site, title="冷水机组报警", status=WorkOrder.Status.SCHEDULED)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    pin_browser_clock(phone)
    page = phone.new_page()
    sign_in(page, live_server.url, contact.email)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    nav = page.locator("header nav")
    expect(nav.locator("a[href='/portal/equipment/']")).to_have_text("设备")
    expect(nav.locator("a[href='/portal/contracts/']")).to_have_text("合同")
    expect(page.locator("#open-orders")).to_contain_text("冷水机组报警")
    # Phone-first: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    path = screenshot_dir / "portal-home-zh.png"
    page.screenshot(path=path, full_page=True)
    keep_for_readme(path, "portal-home-zh.png")
    page.goto(f"{live_server.url}/portal/report/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    path = screenshot_dir / "portal-report-zh.png"
    page.screenshot(path=path, full_page=True)
    keep_for_readme(path, "portal-report-zh.png")
    phone.close()
