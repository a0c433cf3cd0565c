"""Script in stored text never runs: names, descriptions, notes, captions and the rest hold
payloads, and every page that shows them is opened as the people who read them would, with
the board's map markers hovered for their tooltips. A dialog (alert) fails the test, and so
does any violation of the Content-Security-Policy (tests/browser/conftest.py): a payload
that reached the DOM as HTML is caught either way. Each payload must also be on the page as
text, so that a page which dropped the field would not pass for a safe one.

The text is written with the ORM, as a CSV import, the API or the back office could leave
it (this checks the pages, not the inputs' validation).

`test_every_back_office_page_and_both_languages_...` is the deep variant, left out of `make
test` (run it with `pytest -m deep tests/browser`): every registered model's list, search, add
and change forms, an autocomplete, and the board and the app in Chinese.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from assets.labels import label_token
from assets.models import Account, Contact, Equipment, EquipmentModel, Site
from cases.models import Case
from cases.services import case_open
from contracts.models import AccountTask, ServiceContract
from fieldservice import clock
from fieldservice.audit import audit_record
from portal.signin import portal_access_ensure
from scheduling.models import Technician, Territory
from tests import factories
from tests.browser.conftest import login, pin_browser_clock, policy_violations
from tests.conftest import own_cache_keys
from tickets import creation, lifecycle
from tickets.models import Attachment, ChecklistItem, PartUsage, Signature, WorkOrder
from tickets.survey import survey_token_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "javascript:alert(3)",
    "'><svg onload=alert(4)>",
)
# Any of these in the DOM means some text was inserted as HTML.
INJECTED = (
    "img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript:'], iframe[src^='javascript:']"
)

# A page's text and its form fields' values.
FORM_TEXT = """() => [document.body.innerText,
  ...[...document.querySelectorAll("input, textarea")].map((field) => field.value),
  ...[...document.querySelectorAll("option:checked")].map((option) => option.textContent)].join("\\n")"""


def payload(label: str, n: int) -> str:
    """Text that says where it was stored, then a payload: `site <img src=x onerror=…>`."""
    return f"{label} {PAYLOADS[n % len(PAYLOADS)]}"


@dataclass
class World:
    territory: Territory
    account: Account
    site: Site
    contact: Contact
    equipment: Equipment
    contract: ServiceContract
    task: AccountTask
    planned: WorkOrder  # tech01's, today, with everything recorded
    queued: WorkOrder  # unassigned, in the board's queue
    texts: dict[str, str]  # where → the stored text


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def store_payloads() -> World:
    """Payloads in the stored text of the demo's people and things around one job of tech01's
    today, and of an unassigned job of the same territory."""
    n = itertools.count()
    texts: dict[str, str] = {}

    def text(where: str) -> str:
        texts[where] = payload(where, next(n))
        return texts[where]

    dispatcher = User.objects.get(username="dispatcher")
    technician = Technician.objects.select_related("territory", "user").get(user__username="tech01")
    territory = technician.territory
    assert territory is not None
    site = Site.objects.filter(location__intersects=territory.boundary).select_related("account").first()
    assert site is not None, "the demo has a site in tech01's territory"
    account = site.account

    User.objects.filter(pk=technician.user_id).update(first_name=text("technician"), last_name="")
    Technician.objects.filter(pk=technician.pk).update(home_address=text("home address"))
    User.objects.filter(username="manager").update(last_name=text("account manager"))
    Territory.objects.filter(pk=territory.pk).update(name=text("territory"))
    Account.objects.filter(pk=account.pk).update(
        name=text("account"), account_manager=User.objects.get(username="manager")
    )
    Site.objects.filter(pk=site.pk).update(
        name=text("site"), address=text("address"), city=text("city"), access_notes=text("access notes")
    )
    Contact.objects.filter(site=site).update(is_primary=False)
    contact = Contact.objects.create(
        account=account, site=site, name=text("contact"), title=text("contact title"), is_primary=True
    )
    model = EquipmentModel.objects.create(
        manufacturer=text("manufacturer")[:100],
        model_number=text("model number")[:100],
        name=text("model"),
        category=EquipmentModel.Category.COMPRESSOR,
        required_skill="compressor",
    )
    equipment = Equipment.objects.create(
        site=site,
        equipment_model=model,
        manufacturer=model.manufacturer,
        serial_number=text("serial"),
        asset_tag=text("asset tag")[:64],
        install_date=clock.today() - dt.timedelta(days=400),
    )
    contract = ServiceContract.objects.filter(account=account).order_by("pk").first()
    assert contract is not None, "the demo's accounts have contracts"
    ServiceContract.objects.filter(pk=contract.pk).update(number=text("contract")[:40])
    task = AccountTask.objects.create(
        account=account,
        contract=contract,
        owner=User.objects.get(username="manager"),
        kind=AccountTask.Kind.ESCALATION,
        title=text("task"),
        due_date=clock.today(),
    )

    checklist = [{"label": text("checklist label"), "kind": "text", "required": False}]
    planned = creation.work_order_create(
        site=site,
        equipment=equipment,
        kind="corrective",
        title=text("title"),
        description=text("description"),
        by=dispatcher,
        checklist=checklist,
    )
    start = dt.datetime.combine(clock.today(), dt.time(10), tzinfo=clock.now().tzinfo)
    planned = lifecycle.work_order_schedule(
        work_order=planned,
        technician=technician.user,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=dispatcher,
        version=planned.version,
    )
    planned = lifecycle.work_order_dispatch(work_order=planned, by=dispatcher, version=planned.version)
    # What the technician records on site, as stored (the app's own forms are not under test).
    now = clock.now()
    WorkOrder.objects.filter(pk=planned.pk).update(resolution=text("resolution"))
    ChecklistItem.objects.filter(work_order=planned).update(
        text=text("checklist answer"), answered_at=now, answered_by=technician.user
    )
    PartUsage.objects.create(
        work_order=planned,
        part_number=text("part number")[:64],
        description=text("part"),
        quantity=Decimal("1"),
        unit_cost=Decimal("12.50"),
        recorded_at=now,
        recorded_by=technician.user,
    )
    png = tiny_png()
    Attachment.objects.create(
        work_order=planned,
        kind=Attachment.Kind.PHOTO,
        file=ContentFile(png, name="photo.png"),
        content_type="image/png",
        size_bytes=len(png),
        sha256="0" * 64,
        caption=text("caption"),
        uploaded_at=now,
        uploaded_by=technician.user,
    )
    Signature.objects.create(
        work_order=planned,
        image=ContentFile(png, name="signature.png"),
        signer_name=text("signer"),
        signed_at=now,
        captured_by=technician.user,
    )
    queued = creation.work_order_create(
        site=site, kind="corrective", title=text("queued title"), by=dispatcher, priority=2
    )
    return World(
        territory=territory,
        account=account,
        site=site,
        contact=contact,
        equipment=equipment,
        contract=contract,
        task=task,
        planned=WorkOrder.objects.get(pk=planned.pk),
        queued=queued,
        texts=texts,
    )


@pytest.fixture
def world(demo: None, settings: Any, tmp_path: Any) -> Iterator[World]:
    settings.MEDIA_ROOT = tmp_path
    # The technician app's job lists are cached in Redis, which outlives the test database.
    with own_cache_keys(settings, "script-payloads"):
        yield store_payloads()


class Reader:
    """A person's browser: every dialog is recorded (and dismissed), every page checked."""

    def __init__(self, browser: Browser, live_server: Any, who: str, **options: Any) -> None:
        self.dialogs: list[str] = []
        self.live_server = live_server
        defaults = {
            "locale": "en-US",
            "timezone_id": settings.TIME_ZONE,
            "viewport": {"width": 1366, "height": 900},
        }
        self.context: BrowserContext = browser.new_context(**{**defaults, **options})
        pin_browser_clock(self.context)  # and the Content-Security-Policy watch
        self.context.on("dialog", self._dialog)
        self.page = self.context.new_page()
        self.who = who

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{self.who} on {self.page.url}: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def open(self, path: str, *shown: str, settled: bool = False) -> Page:
        """Open `path` (`settled`: and wait for what htmx loads with it) and check it."""
        self.page.goto(self.live_server.url + path)
        if settled:
            self.page.wait_for_load_state("networkidle")
        self.check(*shown)
        return self.page

    def check(self, *shown: str) -> None:
        """No dialog so far, nothing injected, and each of `shown` on the page as text."""
        assert not self.dialogs, self.dialogs
        injected = self.page.locator(INJECTED)
        assert injected.count() == 0, f"{self.page.url}: {injected.first.evaluate('e => e.outerHTML')}"
        body = self.page.locator("body")
        for text in shown:
            expect(body).to_contain_text(text)

    def close(self) -> None:
        self.context.close()
        assert not self.dialogs, self.dialogs


def hover_every_marker(reader: Reader) -> list[str]:
    """The text of each map marker's tooltip, which must hold text only (the marker's name in
    the span board.js makes)."""
    page = reader.page
    markers = page.locator("#board-map path.leaflet-interactive")
    expect(markers.first).to_be_attached()
    tooltips, markup = [], []
    for index in range(markers.count()):
        marker = markers.nth(index)
        marker.dispatch_event("mouseover")
        tooltip = page.locator(".leaflet-tooltip")
        expect(tooltip).to_have_count(1)
        tooltips.append(tooltip.text_content() or "")
        markup.append(tooltip.inner_html())
        marker.dispatch_event("mouseout")
    reader.check()  # dialogs first: what an attacker would have seen
    elements = [html for html in markup if re.search(r"<(?!/?span[ >])", html)]
    assert not elements, elements
    return tooltips


def test_script_in_stored_text_never_runs(world: World, browser: Browser, live_server: Any) -> None:
    texts, planned, queued = world.texts, world.planned, world.queued
    today = clock.today().isoformat()

    dispatcher = Reader(browser, live_server, "dispatcher")
    login(dispatcher.page, live_server, "dispatcher")
    board = f"/dispatch/?day={today}&territory={world.territory.pk}"
    dispatcher.open(
        board, texts["territory"], texts["technician"], texts["title"], texts["queued title"], settled=True
    )
    tooltips = hover_every_marker(dispatcher)
    assert f"{texts['site']} ({texts['account']})" in tooltips, tooltips  # the site, as text
    assert texts["technician"] in tooltips, tooltips
    dispatcher.page.get_by_role("button", name=f"Move {planned.number}").click()
    expect(dispatcher.page.locator("#reassign-panel")).to_contain_text(texts["title"])
    dispatcher.check(texts["site"])
    dispatcher.page.get_by_role("button", name=f"Place {queued.number}").click()
    expect(dispatcher.page.locator("#reassign-panel")).to_contain_text(texts["queued title"])
    dispatcher.check()
    dispatcher.open(
        f"/work-orders/{planned.pk}/",
        *(texts[k] for k in ("title", "account", "site", "address", "technician", "description")),
        *(
            texts[k]
            for k in ("resolution", "checklist label", "checklist answer", "part", "caption", "signer")
        ),
    )
    dispatcher.open(
        f"/dispatch/work-orders/{planned.pk}/move/?version={planned.version}&day={today}", texts["title"]
    )
    # The desk: a search typed with a payload in it, the results and the chosen machine's panel.
    dispatcher.open("/desk/?" + urlencode({"q": texts["serial"]}), texts["serial"])
    panel = f"/desk/?equipment={world.equipment.pk}"
    dispatcher.open(panel, *(texts[k] for k in ("serial", "account", "site", "address")))
    dispatcher.open("/work-orders/?" + urlencode({"q": texts["title"]}), texts["title"], texts["account"])
    dispatcher.open("/kpis/")
    dispatcher.close()

    manager = Reader(browser, live_server, "account manager")
    login(manager.page, live_server, "manager")
    manager.open("/accounts/", texts["task"], texts["account manager"])  # the top bar names them
    manager.open(
        f"/accounts/{world.account.pk}/",
        *(texts[k] for k in ("account", "contract", "site", "contact", "contact title")),
        *(texts[k] for k in ("serial", "manufacturer", "model number", "title")),
    )
    manager.open("/kpis/")
    manager.close()

    office = Reader(browser, live_server, "admin")
    login(office.page, live_server, "admin")
    for model, obj, shown in [
        (Account, world.account, "account"),
        (Site, world.site, "site"),
        (Contact, world.contact, "contact"),
        (Equipment, world.equipment, "serial"),
        (EquipmentModel, world.equipment.equipment_model, "model"),
        (ServiceContract, world.contract, "contract"),
        (AccountTask, world.task, "task"),
        (WorkOrder, planned, "title"),
        (Technician, Technician.objects.get(user__username="tech01"), "home address"),
        (User, User.objects.get(username="tech01"), "technician"),
        (Territory, world.territory, "territory"),
    ]:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        office.open(reverse(f"{name}_changelist") + f"?id__exact={obj.pk}")
        office.open(reverse(f"{name}_change", args=[obj.pk]))
        # A form holds the text in its fields' values: there, intact.
        assert texts[shown] in office.page.evaluate(FORM_TEXT), (model, shown)
    office.open("/admin/")
    office.open(reverse("admin:assets_import_csv"))
    office.open("/api/v1/docs")  # Swagger UI, from local files, under the same policy
    expect(office.page.locator(".swagger-ui .info")).to_be_visible()
    office.open("/api/mobile/v1/docs")
    expect(office.page.locator(".swagger-ui .info")).to_be_visible()
    office.close()

    customer = Reader(browser, live_server, "customer")
    customer.open(f"/survey/{survey_token_for(planned)}/", texts["title"])
    customer.close()

    # The customer's contact in the portal (signed in with a session, as the emailed link does),
    # and the public page of the machine's QR label, which shows nothing of it.
    contact = Reader(browser, live_server, "portal contact")
    session = Client()
    session.force_login(portal_access_ensure(contact=world.contact).user)
    contact.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    machine = (
        texts["serial"],
        texts["asset tag"],
        texts["model"],
        texts["manufacturer"],
        texts["model number"],
    )
    contact.open(
        "/portal/", texts["account"], texts["contact"], texts["title"], texts["site"], texts["serial"]
    )
    contact.open("/portal/equipment/", *machine, texts["site"])
    contact.open(f"/portal/equipment/{world.equipment.pk}/", *machine, texts["title"])
    contact.open("/portal/work-orders/", texts["title"], texts["queued title"])
    contact.open("/portal/contracts/", texts["contract"])
    complaint = case_open(
        account=world.account,
        kind=Case.Kind.COMPLAINT,
        severity=2,
        channel=Case.Channel.PHONE,
        title=payload("case", 1),
        description=payload("case description", 2),
        by=None,
        contact=world.contact,
    )
    contact.open("/portal/cases/", complaint.title)
    contact.open(f"/portal/cases/{complaint.pk}/", complaint.title, complaint.description)
    contact.open("/portal/cases/new/")
    contact.open("/portal/report/")
    assert texts["serial"] in contact.page.evaluate(FORM_TEXT)  # the machine's choice, as text
    contact.close()
    stranger = Reader(browser, live_server, "someone at the machine")
    stranger.open(f"/l/{label_token(world.equipment)}/")
    assert not any(texts[k] in stranger.page.content() for k in ("serial", "account", "site"))
    stranger.close()

    phone = Reader(
        browser,
        live_server,
        "technician",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        service_workers="allow",
    )
    phone.page.goto(f"{live_server.url}/app/")
    phone.page.get_by_label("User name").fill("tech01")
    phone.page.get_by_label("Password").fill("demo")
    phone.page.get_by_role("button", name="Log in").click()
    card = phone.page.locator(f'.job-card[data-job="{planned.number}"]')
    expect(card).to_contain_text(texts["title"])
    phone.check(texts["account"], texts["site"])
    card.click()
    expect(phone.page.locator("h1")).to_contain_text(texts["title"])
    phone.check(
        *(texts[k] for k in ("description", "account", "site", "address", "access notes", "contact")),
        *(texts[k] for k in ("contact title", "serial", "checklist label", "part", "caption", "signer")),
        texts["resolution"],
    )
    phone.close()


@pytest.mark.deep
def test_every_back_office_page_and_both_languages_show_stored_text_as_text(
    world: World, browser: Browser, live_server: Any
) -> None:
    """Every registered model's list, add form and change form (of the row with payloads, or
    the latest), with a search for a payload; then the board and the job in Chinese."""
    texts = world.texts
    ours = {
        type(obj): obj
        for obj in (world.account, world.site, world.contact, world.equipment, world.contract, world.task)
    } | {WorkOrder: world.planned, Territory: world.territory}
    office = Reader(browser, live_server, "admin")
    login(office.page, live_server, "admin")
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages = [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        if model_admin.search_fields:
            pages.append(reverse(f"{name}_changelist") + "?" + urlencode({"q": PAYLOADS[1]}))
        row = ours.get(model) or model._default_manager.order_by("-pk").first()
        if row is not None:
            pages.append(reverse(f"{name}_change", args=[row.pk]))
        for path in pages:
            response = office.page.goto(live_server.url + path)
            assert response is not None and response.status < 500, (path, response and response.status)
            office.check()
    # The autocomplete of a related field lists names from JSON: as text.
    technician = Technician.objects.get(user__username="tech01")
    office.open(reverse("admin:scheduling_technician_change", args=[technician.pk]))
    office.page.locator(".field-territory .select2-selection").click()
    search = office.page.locator(".select2-search__field")
    search.fill(texts["territory"].split(" ", 1)[0])
    expect(office.page.locator(".select2-results__option").first).to_contain_text(texts["territory"])
    office.check()
    office.close()

    dispatcher = Reader(browser, live_server, "dispatcher")
    login(dispatcher.page, live_server, "dispatcher")
    dispatcher.open("/dispatch/")
    with dispatcher.page.expect_navigation():
        dispatcher.page.get_by_label("Language").select_option("zh-hans")
    dispatcher.open(
        f"/dispatch/?day={clock.today().isoformat()}&territory={world.territory.pk}",
        texts["title"],
        settled=True,
    )
    assert f"{texts['site']} ({texts['account']})" in hover_every_marker(dispatcher)
    dispatcher.open(f"/work-orders/{world.planned.pk}/", texts["description"], texts["caption"])
    dispatcher.close()

    phone = Reader(browser, live_server, "technician", locale="zh-CN", service_workers="allow")
    phone.page.goto(f"{live_server.url}/app/")
    phone.page.locator("#username, input[name=username]").first.fill("tech01")
    phone.page.locator("input[type=password]").fill("demo")
    phone.page.locator("form button[type=submit]").click()
    phone.page.locator(f'.job-card[data-job="{world.planned.number}"]').click()
    expect(phone.page.locator("h1")).to_contain_text(texts["title"])
    phone.check(texts["description"], texts["contact"], texts["caption"], texts["resolution"])
    phone.close()


def test_the_audit_trail_in_the_back_office(admin_user: User, page: Page, live_server: Any) -> None:
    """The back office's audit trail (its own list, and the history under a contract) shows
    stored text, old and new, as text; the demo has no entries, so this makes some."""
    account = factories.account(name=payload("account", 0))
    contract = factories.contract(account=account)
    note, old, new = payload("audit note", 1), payload("old number", 2), payload("new number", 3)
    audit_record(
        obj=contract,
        action="changed",
        by=admin_user,
        source="admin",
        changes={"number": [old, new]},
        note=note,
    )
    dialogs: list[str] = []

    def dismissed(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismissed)
    login(page, live_server, "admin")
    for path, shown in [
        (reverse("admin:fieldservice_auditentry_changelist"), (old, new)),
        (reverse("admin:contracts_servicecontract_change", args=[contract.pk]), (old, new)),
    ]:
        page.goto(live_server.url + path)
        assert page.locator(INJECTED).count() == 0
        for text in shown:
            expect(page.locator("body")).to_contain_text(text)
    assert not dialogs, dialogs
    assert not policy_violations(page.context)
