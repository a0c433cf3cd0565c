"""The back office: an admin sees every model with its filters and search, and the back office
gives the answers the services and the API give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms as django_forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assets.models import MeterReading
from contracts.models import (
    AccountTask,
    CoveredEquipment,
    HealthScore,
    RenewalOpportunity,
    RenewalReminder,
    ServiceContract,
)
from fieldservice import clock, ranges, roles
from fieldservice.models import ApiToken, AuditEntry
from fieldservice.tokens import token_issue, token_lookup, token_revoke
from scheduling.models import Absence, Assignment, ScheduleRun, Technician
from tests import factories
from tests.test_audit import change_form

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"fieldservice", "assets", "contracts", "tickets", "cases", "scheduling"}


@pytest.fixture
def some_data() -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit])
    factories.work_order(site=unit.site, equipment=unit)
    factories.technician()


def project_models() -> list[type[Model]]:
    return [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


def test_every_project_model_is_in_the_admin() -> None:
    from django.apps import apps

    registered = set(admin.site._registry)
    missing = [
        model._meta.label
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in registered
    ]
    assert missing == []


@pytest.mark.usefixtures("some_data")
def test_admin_lists_search_and_filter_every_model(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    for model in project_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        model_admin = admin.site._registry[model]
        if model_admin.search_fields:
            assert client.get(url, {"q": "苏州"}).status_code == 200, url
        assert model_admin.list_filter or model_admin.search_fields, f"{url} has neither filters nor search"


@pytest.mark.usefixtures("some_data")
def test_admin_opens_each_change_form(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    for model in project_models():
        obj = model._default_manager.first()
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, url


def test_admin_login_page_serves(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200


def test_technician_cannot_enter_the_admin(client: Client, tech_a: User) -> None:
    client.force_login(tech_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- the back office gives the other doors' answers (issue 14) -----------------------------------------
# Each rule the services or the API keep is kept here too: the field is shown not edited, the
# action goes through the service, or the record is shown only. tickets.admin's own rules are
# in tests/tickets/test_backoffice.py.


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _change(model: Model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[model.pk])


def _saved(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, {**data, "_save": "Save"})


def _errors(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get("Location")
    return dict(response.context["adminform"].form.errors)


def test_a_contracts_status_moves_only_through_its_lifecycle_services(
    admin_client: Client, admin_user: User
) -> None:
    unit = factories.equipment()
    draft = factories.contract(account=unit.site.account, covers=[unit], status=ServiceContract.Status.DRAFT)
    data = change_form(admin_client, _change(draft))
    data["status"] = ServiceContract.Status.ACTIVE
    assert _saved(admin_client, _change(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ServiceContract.Status.DRAFT

    changelist = reverse("admin:contracts_servicecontract_changelist")
    cancelled = factories.contract(account=unit.site.account, status=ServiceContract.Status.CANCELLED)
    admin_client.post(changelist, {"action": "activate", "_selected_action": [draft.pk, cancelled.pk]})
    draft.refresh_from_db()
    cancelled.refresh_from_db()
    assert (draft.status, cancelled.status) == (
        ServiceContract.Status.ACTIVE,
        ServiceContract.Status.CANCELLED,
    )
    entry = AuditEntry.objects.get(content_type__model="servicecontract", object_id=draft.pk)
    assert (entry.by, entry.source, entry.changes) == (admin_user, "admin", {"status": ["draft", "active"]})

    admin_client.post(changelist, {"action": "cancel", "_selected_action": [draft.pk]})
    assert ServiceContract.objects.get(pk=draft.pk).status == ServiceContract.Status.CANCELLED


def test_a_contract_covers_only_its_own_accounts_equipment(admin_client: Client) -> None:
    unit, elsewhere = factories.equipment(), factories.equipment()
    agreement = factories.contract(account=unit.site.account, covers=[unit])
    add = reverse("admin:contracts_coveredequipment_add")
    errors = _errors(_saved(admin_client, add, {"contract": agreement.pk, "equipment": elsewhere.pk}))
    assert "another account" in str(errors["equipment"])
    # Nor through the contract's own page.
    data = change_form(admin_client, _change(agreement))
    prefix = next(key for key in data if key.endswith("-0-equipment")).removesuffix("-0-equipment")
    data[f"{prefix}-0-equipment"] = str(elsewhere.pk)
    assert _saved(admin_client, _change(agreement), data).status_code == 200
    assert list(CoveredEquipment.objects.filter(contract=agreement).values_list("equipment", flat=True)) == [
        unit.pk
    ]


def test_a_renewal_moves_through_its_service_and_a_closed_one_stays_closed(admin_client: Client) -> None:
    unit = factories.equipment()
    agreement = factories.contract(account=unit.site.account)
    renewal = RenewalOpportunity.objects.create(contract=agreement)
    data = change_form(admin_client, _change(renewal))
    data.update(stage=RenewalOpportunity.Stage.CONTACTED, proposed_value="-5")
    assert "proposed_value" in _errors(_saved(admin_client, _change(renewal), data))
    data["proposed_value"] = "120000.00"
    assert _saved(admin_client, _change(renewal), data).status_code == 302
    renewal.refresh_from_db()
    # stage_changed_at is what the T−30 escalation reads: set by opportunity_stage_set only.
    assert renewal.stage == RenewalOpportunity.Stage.CONTACTED and renewal.stage_changed_at is not None

    data["stage"] = RenewalOpportunity.Stage.WON
    assert _saved(admin_client, _change(renewal), data).status_code == 302
    data["stage"] = RenewalOpportunity.Stage.OPEN
    assert _saved(admin_client, _change(renewal), data).status_code == 403
    assert RenewalOpportunity.objects.get(pk=renewal.pk).stage == RenewalOpportunity.Stage.WON


def test_a_manager_sets_the_status_of_their_own_tasks_through_the_service() -> None:
    manager = factories.user(username="am-staff", role=roles.ACCOUNT_MANAGER, is_staff=True)
    boss = factories.user(username="am-boss", role=roles.ACCOUNT_MANAGER)
    account = factories.account(account_manager=manager)
    mine = AccountTask.objects.create(account=account, owner=manager, kind="save_plan", title="Call them")
    theirs = AccountTask.objects.create(account=account, owner=boss, kind="escalation", title="Escalated")
    client = Client()
    client.force_login(manager)
    data = change_form(client, _change(mine))
    data.update(status=AccountTask.Status.DONE, owner=str(boss.pk), title="Something else")
    assert _saved(client, _change(mine), data).status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.owner, mine.title) == (AccountTask.Status.DONE, manager, "Call them")
    # Another person's task, on an account they manage: the API answers 404; here it is shown.
    assert _saved(client, _change(theirs), {"status": AccountTask.Status.DONE}).status_code == 403
    assert AccountTask.objects.get(pk=theirs.pk).status == AccountTask.Status.OPEN


def test_a_technician_record_is_only_for_a_user_in_the_technician_group(admin_client: Client) -> None:
    tech = factories.technician()
    clerk = factories.user(username="clerk", role=roles.DISPATCHER)
    data = change_form(admin_client, _change(tech))
    data["user"] = str(clerk.pk)
    assert "technician group" in str(_errors(_saved(admin_client, _change(tech), data))["user"])
    assert Technician.objects.get(pk=tech.pk).user_id == tech.user_id


def test_what_the_runs_write_is_shown_and_never_edited(admin_client: Client) -> None:
    unit = factories.equipment()
    agreement = factories.contract(account=unit.site.account)
    tech = factories.technician()
    job = factories.work_order(site=unit.site)
    run = ScheduleRun.objects.create(horizon_start=clock.today(), status=ScheduleRun.Status.SUCCEEDED)
    start = clock.now()
    written = [
        run,
        Assignment.objects.create(
            run=run,
            work_order=job,
            technician=tech,
            sequence=1,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
        ),
        HealthScore.objects.create(account=agreement.account, date=clock.today(), score=80, band="green"),
        RenewalReminder.objects.create(contract=agreement, milestone="t90", due_date=clock.today()),
        MeterReading.objects.create(
            equipment=unit, kind="operating_hours", value=Decimal("100"), read_at=clock.now()
        ),
    ]
    for obj in written:
        meta = obj._meta
        add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        delete = reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[obj.pk])
        page = admin_client.get(_change(obj))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode(), meta.label
        answers = [
            _saved(
                admin_client, _change(obj), {"status": "accepted", "score": "5", "value": "1"}
            ).status_code,
            admin_client.get(add).status_code,
            admin_client.post(delete, {"post": "yes"}).status_code,
        ]
        assert answers == [403, 403, 403], meta.label
        assert type(obj)._default_manager.filter(pk=obj.pk).exists()
    assert ScheduleRun.objects.get(pk=run.pk).status == ScheduleRun.Status.SUCCEEDED


def test_a_token_revoked_stays_revoked_and_its_expiry_is_not_moved(admin_client: Client) -> None:
    owner = factories.user(username="integration")
    raw, token = token_issue(user=owner, kind=ApiToken.Kind.INTEGRATION, ttl=dt.timedelta(days=30))
    token_revoke(token=token)
    data = change_form(admin_client, _change(token))
    data.update(revoked_at_0="", revoked_at_1="", expires_at_0="", expires_at_1="", name="ERP sync")
    assert _saved(admin_client, _change(token), data).status_code == 302
    stored = ApiToken.objects.get(pk=token.pk)
    assert (
        stored.revoked_at is not None and stored.expires_at == token.expires_at and stored.name == "ERP sync"
    )
    assert token_lookup(raw, kind=ApiToken.Kind.INTEGRATION) is None

    live_raw, live = token_issue(user=owner, kind=ApiToken.Kind.INTEGRATION, ttl=dt.timedelta(days=30))
    assert token_lookup(live_raw, kind=ApiToken.Kind.INTEGRATION) is not None  # now cached
    changelist = reverse("admin:fieldservice_apitoken_changelist")
    admin_client.post(changelist, {"action": "revoke", "_selected_action": [live.pk]})
    assert token_lookup(live_raw, kind=ApiToken.Kind.INTEGRATION) is None


# --- dates in range (issue 14) ------------------------------------------------------------------


def test_every_date_in_every_back_office_form_is_in_the_range(rf: Any, admin_user: User) -> None:
    """Those of later models too: the back office takes its date fields from fieldservice.ranges."""
    request = rf.get("/admin/")
    request.user = admin_user
    unbounded, tried = [], 0
    for model in project_models():
        model_admin = admin.site._registry[model]
        for field in model._meta.concrete_fields:
            if not isinstance(field, db_models.DateField) or not field.editable:
                continue
            form_field = model_admin.formfield_for_dbfield(field, request)
            if form_field is None:
                continue
            tried += 1
            for edge in (
                ranges.EARLIEST_DATE - dt.timedelta(days=1),
                ranges.LATEST_DATE + dt.timedelta(days=1),
            ):
                typed = (
                    [edge.isoformat(), "12:00"]
                    if isinstance(form_field, django_forms.MultiValueField)
                    else edge
                )
                try:
                    form_field.clean(typed)
                except ValidationError as refused:
                    assert "date_out_of_range" in {error.code for error in refused.error_list}
                else:
                    unbounded.append(f"{model._meta.label}.{field.name} took {edge}")
    assert tried > 20
    assert unbounded == []


def test_a_date_time_stored_out_of_range_opens_and_must_be_corrected_to_save(
    admin_client: Client,
) -> None:
    """9999-12-31 23:59 UTC has no local time: the form answered 500, so the row could not be
    repaired. It opens showing the stored value (in UTC), and saves once it is in the range."""
    technician = factories.technician()
    absence = Absence.objects.create(
        technician=technician,
        starts_at=clock.now(),
        ends_at=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    )
    url = _change(absence)
    data = change_form(admin_client, url)
    assert (data["ends_at_0"], data["ends_at_1"]) == ("9999-12-31", "23:59:59")
    assert list(_errors(_saved(admin_client, url, data))) == ["ends_at"]
    tomorrow = clock.today() + dt.timedelta(days=1)
    data.update(ends_at_0=tomorrow.isoformat(), ends_at_1="23:00:00")
    assert _saved(admin_client, url, data).status_code == 302
    absence.refresh_from_db()
    assert timezone.localdate(absence.ends_at) == tomorrow
