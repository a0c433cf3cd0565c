"""Who changed what on contracts, equipment and work orders is recorded, whichever door the
change came through (a service, the back office), and only admins can read it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assets import services as asset_services
from assets.models import Equipment
from contracts import services as contract_services
from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract
from fieldservice import clock, roles
from fieldservice.models import AuditEntry
from tests import factories
from tickets.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

Source = AuditEntry.Source
Action = AuditEntry.Action
# The id of the audit inline on a change page (not Django's own "History" link beside it).
HISTORY_SECTION = 'id="fieldservice-auditentry-content_type-object_id-group"'


# --- the back office's forms, as a browser would post them ----------------------------------------------


class _FormReader(HTMLParser):
    """The fields of the admin's change form (`<form id="…_form">`) with the values a browser
    would send: text inputs, checked boxes, selected options, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = attr.get("id", "").endswith("_form")
        if not self._in_form or "__prefix__" in attr.get("name", ""):
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.data[name] = attr.get("value") or "on"
            elif kind not in ("submit", "button", "file"):
                self.data[name] = attr.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attr:
            self.data[self._select] = attr.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data.removeprefix("\n") if not self.data[self._textarea] else data


def change_form(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, url
    reader = _FormReader()
    reader.feed(response.content.decode())
    reader.data.pop("csrfmiddlewaretoken", None)
    return reader.data


def save(client: Client, url: str, data: dict[str, Any]) -> None:
    response = client.post(url, {**data, "_save": "Save"})
    errors = response.context and [
        response.context["adminform"].form.errors,
        [formset.errors for formset in response.context["inline_admin_formsets"]],
    ]
    assert response.status_code == 302, errors


# --- people and things ----------------------------------------------------------------------------------


@pytest.fixture
def staff_dispatcher() -> User:
    """A dispatcher who, as in the demo, may enter the back office for shifts and absences."""
    return factories.user(username="dispatcher-staff", role=roles.DISPATCHER, is_staff=True)


@pytest.fixture
def staff_manager() -> User:
    return factories.user(username="manager-staff", role=roles.ACCOUNT_MANAGER, is_staff=True)


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def unit() -> Equipment:
    return factories.equipment(serial_number="SN-AUDIT-1")


@pytest.fixture
def agreement(unit: Equipment) -> ServiceContract:
    return factories.contract(account=unit.site.account, covers=[unit], number="SC-AUDIT-1")


def entries_for(obj: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type__model=obj._meta.model_name, object_id=obj.pk).order_by(
            "at", "pk"
        )
    )


# --- contracts through their services -------------------------------------------------------------------


def test_a_contract_transition_records_who_from_where_and_the_status(
    agreement: ServiceContract, account_manager: User
) -> None:
    contract_services.contract_cancel(
        contract=agreement, by=account_manager, source=Source.WEB, reason="Plant closed"
    )

    [entry] = entries_for(agreement)
    assert (entry.action, entry.by, entry.source) == (Action.CHANGED, account_manager, Source.WEB)
    assert entry.changes == {"status": ["active", "cancelled"]}
    assert entry.note == "Plant closed" and entry.object_repr == "SC-AUDIT-1"


def test_a_renewal_records_the_successor_created_with_its_terms_and_coverage(
    agreement: ServiceContract,
) -> None:
    successor = contract_services.contract_renew(
        contract=agreement, today=agreement.end_date + dt.timedelta(days=5)
    )

    [created] = entries_for(successor)
    assert (created.action, created.by, created.source) == (Action.CREATED, None, Source.TASK)
    assert created.changes["number"] == [None, "SC-AUDIT-1-R2"]
    assert created.changes["coverage"] == [None, [f"SN-AUDIT-1 (#{agreement.coverage.get().equipment_id})"]]
    assert created.changes["sla_terms"][1][0] == "P1: 4.00 h / 24.00 h"
    # Renewed after its end date: the old one is marked renewed at once, and that is recorded too.
    [renewed] = entries_for(agreement)
    assert renewed.changes == {"status": ["active", "renewed"]}


def test_the_daily_close_records_each_contract_it_marks_renewed(agreement: ServiceContract) -> None:
    contract_services.contract_renew(contract=agreement, today=agreement.end_date - dt.timedelta(days=60))
    assert entries_for(agreement) == []  # still running: renewed later

    assert contract_services.contracts_close_renewed(today=agreement.end_date + dt.timedelta(days=2)) == 1

    [entry] = entries_for(agreement)
    assert (entry.source, entry.by, entry.changes) == (Source.TASK, None, {"status": ["active", "renewed"]})


def test_a_contract_saved_whole_records_old_and_new_values(
    agreement: ServiceContract, account_manager: User
) -> None:
    agreement.annual_value = Decimal("123456.78")
    agreement.notice_days = 90
    contract_services.contract_save(contract=agreement, by=account_manager, source=Source.API)

    [entry] = entries_for(agreement)
    assert entry.by == account_manager and entry.source == Source.API
    assert entry.changes == {"annual_value": ["100000.00", "123456.78"], "notice_days": [60, 90]}


def test_saving_a_contract_unchanged_records_nothing(agreement: ServiceContract, admin_user: User) -> None:
    contract_services.contract_save(contract=agreement, by=admin_user, source=Source.ADMIN)
    assert entries_for(agreement) == []


def test_an_unknown_source_is_refused(agreement: ServiceContract) -> None:
    with pytest.raises(ValueError, match="source"):
        contract_services.contract_cancel(contract=agreement, source="email")
    assert ServiceContract.objects.get(pk=agreement.pk).status == ServiceContract.Status.ACTIVE


# --- equipment through its service ------------------------------------------------------------------------


def test_an_equipment_change_records_who_and_the_fields(unit: Equipment, dispatcher: User) -> None:
    unit.status = Equipment.Status.DOWN
    unit.asset_tag = "FAB2-07"
    asset_services.equipment_save(equipment=unit, by=dispatcher, source=Source.IMPORT)

    [entry] = entries_for(unit)
    assert (entry.action, entry.by, entry.source) == (Action.CHANGED, dispatcher, Source.IMPORT)
    assert entry.changes == {"asset_tag": ["", "FAB2-07"], "status": ["operational", "down"]}


def test_new_equipment_is_recorded_as_created(unit: Equipment, admin_user: User) -> None:
    added = Equipment(site=unit.site, equipment_model=unit.equipment_model, serial_number="SN-NEW")
    asset_services.equipment_save(equipment=added, by=admin_user, source=Source.ADMIN)

    [entry] = entries_for(added)
    assert entry.action == Action.CREATED
    assert entry.changes["serial_number"] == [None, "SN-NEW"]
    assert entry.changes["site"] == [None, f"{unit.site} (#{unit.site_id})"]


# --- the back office --------------------------------------------------------------------------------------


def test_a_contract_edited_in_the_admin_records_fields_terms_and_coverage(
    agreement: ServiceContract, unit: Equipment, admin_client: Client, admin_user: User
) -> None:
    url = reverse("admin:contracts_servicecontract_change", args=[agreement.pk])
    data = change_form(admin_client, url)
    later_end = agreement.end_date + dt.timedelta(days=90)
    data["end_date"] = later_end.isoformat()
    # The coverage inline: drop the one covered unit; the SLA inline: slower P4 resolution.
    coverage_prefix = next(key for key in data if key.endswith("-0-equipment")).removesuffix("-0-equipment")
    data[f"{coverage_prefix}-0-DELETE"] = "on"
    terms_prefix = next(key for key in data if key.endswith("-3-resolution_hours")).removesuffix(
        "-3-resolution_hours"
    )
    data[f"{terms_prefix}-3-resolution_hours"] = "300"
    save(admin_client, url, data)

    assert not CoveredEquipment.objects.filter(contract=agreement).exists()
    [entry] = entries_for(agreement)
    assert (entry.action, entry.by, entry.source) == (Action.CHANGED, admin_user, Source.ADMIN)
    assert entry.changes["end_date"] == [agreement.end_date.isoformat(), later_end.isoformat()]
    assert entry.changes["coverage"] == [[f"SN-AUDIT-1 (#{unit.pk})"], []]
    old_terms, new_terms = entry.changes["sla_terms"]
    assert old_terms[3] == "P4: 72.00 h / 240.00 h" and new_terms[3] == "P4: 72.00 h / 300.00 h"
    assert set(entry.changes) == {"end_date", "coverage", "sla_terms"}


def test_an_sla_term_edited_on_its_own_page_is_recorded_under_its_contract(
    agreement: ServiceContract, admin_client: Client, admin_user: User
) -> None:
    term = ContractSLATerm.objects.get(contract=agreement, priority=1)
    url = reverse("admin:contracts_contractslaterm_change", args=[term.pk])
    data = change_form(admin_client, url)
    data["response_hours"] = "2"
    save(admin_client, url, data)

    [entry] = entries_for(agreement)
    assert entry.by == admin_user and entry.source == Source.ADMIN
    assert entry.changes["sla_terms"][0][0] == "P1: 4.00 h / 24.00 h"
    assert entry.changes["sla_terms"][1][0] == "P1: 2.00 h / 24.00 h"


def test_equipment_edited_and_deleted_in_the_admin_is_recorded(
    unit: Equipment, admin_client: Client, admin_user: User
) -> None:
    url = reverse("admin:assets_equipment_change", args=[unit.pk])
    data = change_form(admin_client, url)
    data["status"] = Equipment.Status.DEGRADED
    warranty_end = (clock.today() + dt.timedelta(days=365)).isoformat()
    data["warranty_end"] = warranty_end
    save(admin_client, url, data)

    spare = factories.equipment(site=unit.site, serial_number="SN-SPARE")
    delete_url = reverse("admin:assets_equipment_delete", args=[spare.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Equipment.objects.filter(pk=spare.pk).exists()

    [changed] = entries_for(unit)
    assert (changed.action, changed.by, changed.source) == (Action.CHANGED, admin_user, Source.ADMIN)
    assert changed.changes == {"status": ["operational", "degraded"], "warranty_end": [None, warranty_end]}
    deleted = AuditEntry.objects.get(object_id=spare.pk, content_type__model="equipment")
    assert deleted.action == Action.DELETED and deleted.object_repr == str(spare)
    assert deleted.changes["serial_number"] == ["SN-SPARE", None]


def test_a_work_order_edited_in_the_admin_gets_the_event_the_api_writes(
    admin_client: Client, admin_user: User
) -> None:
    job = factories.work_order(title="Compressor trips", description="")
    url = reverse("admin:tickets_workorder_change", args=[job.pk])
    data = change_form(admin_client, url)
    data["title"] = "Compressor trips on high oil temperature"
    data["estimated_minutes"] = "90"
    save(admin_client, url, data)

    # Through tickets.creation.work_order_update, as the API's PATCH: one event, by whom.
    event = WorkOrderEvent.objects.get(work_order=job, type=WorkOrderEvent.Type.UPDATED)
    assert event.by == admin_user
    assert event.payload["changed"] == {
        "estimated_minutes": 90,
        "title": "Compressor trips on high oil temperature",
    }
    # Clients holding the old version are told the work order changed under them.
    assert WorkOrder.objects.get(pk=job.pk).version == job.version + 1


def test_a_deleted_work_order_leaves_an_audit_entry(admin_client: Client, admin_user: User) -> None:
    job = factories.work_order(number="WO-DEL001")
    delete_url = reverse("admin:tickets_workorder_delete", args=[job.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302

    entry = AuditEntry.objects.get(content_type__model="workorder", object_id=job.pk)
    assert (entry.action, entry.by, entry.object_repr) == (Action.DELETED, admin_user, str(job))


# --- who may read it --------------------------------------------------------------------------------------


def test_admins_read_the_audit_list_with_its_filters_and_each_history(
    agreement: ServiceContract, unit: Equipment, admin_client: Client, account_manager: User
) -> None:
    contract_services.contract_cancel(contract=agreement, by=account_manager, source=Source.WEB)
    asset_services.equipment_save(equipment=unit, by=account_manager, source=Source.ADMIN)  # unchanged: none
    unit.criticality = Equipment.Criticality.CRITICAL
    asset_services.equipment_save(equipment=unit, by=None, source=Source.IMPORT)

    url = reverse("admin:fieldservice_auditentry_changelist")
    listing = admin_client.get(url)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    contract_type = AuditEntry.objects.get(object_id=agreement.pk).content_type_id
    by_type = admin_client.get(url, {"content_type__id__exact": contract_type})
    assert [e.object_repr for e in by_type.context["cl"].result_list] == ["SC-AUDIT-1"]
    by_user = admin_client.get(url, {"by__id__exact": account_manager.pk})
    assert [e.object_repr for e in by_user.context["cl"].result_list] == ["SC-AUDIT-1"]
    today = clock.today()
    by_day = admin_client.get(url, {"at__year": today.year, "at__month": today.month, "at__day": today.day})
    assert by_day.context["cl"].result_count == 2

    contract_page = admin_client.get(reverse("admin:contracts_servicecontract_change", args=[agreement.pk]))
    assert HISTORY_SECTION in contract_page.content.decode()
    assert "active → cancelled" in contract_page.content.decode()
    unit_page = admin_client.get(reverse("admin:assets_equipment_change", args=[unit.pk]))
    assert "2 → 4" in unit_page.content.decode()


def test_nobody_edits_or_deletes_the_trail(agreement: ServiceContract, admin_client: Client) -> None:
    contract_services.contract_cancel(contract=agreement)
    entry = AuditEntry.objects.get()
    assert admin_client.get(reverse("admin:fieldservice_auditentry_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:fieldservice_auditentry_delete", args=[entry.pk])).status_code == 403
    )
    change = admin_client.post(
        reverse("admin:fieldservice_auditentry_change", args=[entry.pk]), {"note": "x"}
    )
    assert change.status_code == 403 and AuditEntry.objects.get().note == ""
    event = WorkOrderEvent.objects.create(
        work_order=factories.work_order(), type=WorkOrderEvent.Type.NOTE, at=clock.now()
    )
    event_delete = reverse("admin:tickets_workorderevent_delete", args=[event.pk])
    assert admin_client.post(event_delete, {"post": "yes"}).status_code == 403
    assert WorkOrderEvent.objects.filter(pk=event.pk).exists()


def test_admins_see_work_order_events_in_the_admin(admin_client: Client) -> None:
    job = factories.work_order()
    WorkOrderEvent.objects.create(work_order=job, type=WorkOrderEvent.Type.NOTE, at=clock.now())
    listing = admin_client.get(reverse("admin:tickets_workorderevent_changelist"))
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1


def test_a_dispatcher_cannot_open_the_audit_trail(staff_dispatcher: User, agreement: ServiceContract) -> None:
    contract_services.contract_cancel(contract=agreement)
    entry = AuditEntry.objects.get()
    client = Client()
    client.force_login(staff_dispatcher)
    assert client.get(reverse("admin:fieldservice_auditentry_changelist")).status_code == 403
    assert client.get(reverse("admin:fieldservice_auditentry_change", args=[entry.pk])).status_code == 403
    assert "auditentry" not in client.get(reverse("admin:index")).content.decode()
    # A dispatcher may see contracts in the back office, but not their History.
    contract_page = client.get(reverse("admin:contracts_servicecontract_change", args=[agreement.pk]))
    assert contract_page.status_code == 200
    assert "Cancelled" in contract_page.content.decode()  # the status field itself
    assert HISTORY_SECTION not in contract_page.content.decode()


def test_an_account_manager_cannot_open_the_audit_trail(
    staff_manager: User, agreement: ServiceContract
) -> None:
    agreement.account.account_manager = staff_manager
    agreement.account.save()
    contract_services.contract_cancel(contract=agreement, by=staff_manager, source=Source.WEB)
    client = Client()
    client.force_login(staff_manager)
    assert client.get(reverse("admin:fieldservice_auditentry_changelist")).status_code == 403
    contract_page = client.get(reverse("admin:contracts_servicecontract_change", args=[agreement.pk]))
    assert contract_page.status_code == 200
    assert HISTORY_SECTION not in contract_page.content.decode()
