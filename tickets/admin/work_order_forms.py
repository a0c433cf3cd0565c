"""The work-order forms of the back office: "Add work order" and an open work order's corrections.

A new work order is opened as the API opens one: the same input schema
(tickets.schemas.WorkOrderIn) and the same service (tickets.creation.work_order_create),
which gives it its number, covering contract, billability and SLA clocks; its form offers only
the chosen account's sites and equipment. An open work order's change page edits what the
API's PATCH edits (tickets.creation.EDITABLE_FIELDS), checked by the same schema
(tickets.schemas.WorkOrderPatch), with the version the page was read at.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Model
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as SchemaError
from pydantic_core import ErrorDetails

from assets.models import Account, Equipment, Site
from fieldservice.errors import Invalid
from tickets import creation, schemas
from tickets.models import WorkOrder

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What makes sense when a job comes in; the rest (technician, plan, status, …) comes later,
# through the work-order services.
INTAKE_FIELDS = [
    "account",
    "site",
    "equipment",
    "kind",
    "priority",
    "title",
    "description",
    "estimated_minutes",
    "required_skills",
    "earliest_start",
    "latest_end",
]
# The service's refusals (tickets.creation.work_order_create_check), each beside its field.
INTAKE_REFUSALS = {
    "equipment_not_at_site": ("equipment", _("This equipment is not installed at the chosen site.")),
    "equipment_decommissioned": ("equipment", _("This equipment is decommissioned.")),
    "window_ordered": ("latest_end", _("The latest end must be after the earliest start.")),
}
# The API schema's names for the form's fields, where they differ.
SCHEMA_FIELDS = {"site_id": "site", "equipment_id": "equipment"}
# The hidden field that carries the version the change page was read at.
SEEN_VERSION = "seen_version"


def _schema_refusal(error: ErrorDetails) -> ValidationError:
    """The API schema's refusal of one value, in Django's own (translated) words."""
    context = error.get("ctx", {})
    if error["type"] == "less_than_equal":
        return ValidationError(
            MaxValueValidator.message, code="max_value", params={"limit_value": context["le"]}
        )
    if error["type"] == "greater_than_equal":
        return ValidationError(
            MinValueValidator.message, code="min_value", params={"limit_value": context["ge"]}
        )
    return ValidationError(RegexValidator.message, code="invalid")  # "Enter a valid value."


def _label(field_name: str) -> StrOrPromise:
    # As a model form labels the work order's own field.
    field = WorkOrder._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return capfirst(field.verbose_name)


class _EquipmentBySiteIterator(ModelChoiceIterator):
    """The account's equipment grouped under the site it is installed at."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        units = self.queryset.order_by("site__name", "site_id", "serial_number", "pk")
        for site, at_site in itertools.groupby(units, key=attrgetter("site")):
            yield (site.name, [self.choice(unit) for unit in at_site])


class _EquipmentChoiceField(forms.ModelChoiceField):
    iterator = _EquipmentBySiteIterator


class _RequiredSkillsField(forms.JSONField):
    """Empty, not `{}`, when there is nothing to show: empty means the equipment model's skill
    (the API's default when the field is left out)."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value in (None, {}) else super().prepare_value(value)


class _SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Site)
        return obj.name  # the account is chosen already: its name would only repeat


class WorkOrderIntakeForm(forms.ModelForm):
    """The second step of "Add work order": the account is chosen (`account_chosen`, set on a
    subclass made per request), its sites and equipment are the only choices, and the input
    is checked as the API checks it (tickets.schemas.WorkOrderIn, then the service's rules),
    each refusal beside its field."""

    account_chosen: Account
    choose_account_url: str

    account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        disabled=True,
        label=_label("account"),
    )
    site = _SiteChoiceField(
        queryset=Site.objects.none(),
        label=_label("site"),
        error_messages={"invalid_choice": _("Choose a site of this account.")},
    )
    equipment = _EquipmentChoiceField(
        queryset=Equipment.objects.none(),
        required=False,
        label=_label("equipment"),
        error_messages={"invalid_choice": _("Choose equipment of this account.")},
    )
    required_skills = _RequiredSkillsField(
        required=False,
        label=_label("required_skills"),
        help_text=_(
            'Minimum level (1 to 3) per skill code, as JSON: {"compressor": 2}. '
            "Leave empty for the equipment model's skill."
        ),
    )

    class Meta:
        model = WorkOrder
        fields = INTAKE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.account_chosen
        self.intake: schemas.WorkOrderIn | None = None
        self.initial["account"] = account.pk
        self.fields["account"].queryset = Account.objects.filter(pk=account.pk)  # type: ignore[attr-defined]
        self.fields["account"].help_text = format_html(
            '<a href="{}">{}</a>', self.choose_account_url, _("Choose another account")
        )
        self.fields["site"].queryset = Site.objects.filter(account=account).order_by("name", "pk")  # type: ignore[attr-defined]
        self.fields["equipment"].queryset = Equipment.objects.filter(  # type: ignore[attr-defined]
            site__account=account
        ).select_related("site", "equipment_model")
        if not self.is_bound:
            self.initial.setdefault("kind", WorkOrder.Kind.CORRECTIVE)
            self.initial["estimated_minutes"] = settings.DEFAULT_ESTIMATED_MINUTES

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        site, equipment = cleaned.get("site"), cleaned.get("equipment")
        if site is not None and "equipment" not in self.errors:
            try:
                creation.work_order_create_check(
                    site=site,
                    equipment=equipment,
                    earliest_start=cleaned.get("earliest_start"),
                    latest_end=cleaned.get("latest_end"),
                )
            except Invalid as refusal:
                field, message = INTAKE_REFUSALS.get(refusal.code, (None, refusal.message))
                self.add_error(field, ValidationError(message, code=refusal.code))
        if self.errors or site is None:
            return cleaned
        try:
            self.intake = schemas.WorkOrderIn(
                site_id=site.pk,
                equipment_id=equipment.pk if equipment is not None else None,
                kind=cleaned["kind"],
                priority=cleaned["priority"],
                title=cleaned["title"],
                description=cleaned.get("description", ""),
                required_skills=cleaned.get("required_skills") or None,
                estimated_minutes=cleaned["estimated_minutes"],
                earliest_start=cleaned.get("earliest_start"),
                latest_end=cleaned.get("latest_end"),
            )
        except SchemaError as refused:
            _schema_refusals(self, refused)
        return cleaned

    def work_order_create_arguments(self) -> dict[str, Any]:
        """tickets.creation.work_order_create's arguments (but `by`), as the API passes them."""
        assert self.intake is not None, "only a valid form opens a work order"
        return {
            "site": self.cleaned_data["site"],
            "equipment": self.cleaned_data["equipment"],
            **self.intake.dict(exclude={"site_id", "equipment_id"}),
        }


def _schema_refusals(form: forms.BaseForm, refused: SchemaError) -> None:
    """Each of the API schema's refusals beside its field (or above the form)."""
    for error in refused.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field_name = SCHEMA_FIELDS.get(name, name)
        form.add_error(field_name if field_name in form.fields else None, _schema_refusal(error))


class WorkOrderCorrectionForm(forms.ModelForm):
    """An open work order's change page: the fields the API's PATCH edits, checked as it
    checks them (tickets.schemas.WorkOrderPatch, then the service's own check of the window),
    against the version the page was read at."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    required_skills = _RequiredSkillsField(
        required=False,
        label=_label("required_skills"),
        help_text=_('Minimum level (1 to 3) per skill code, as JSON: {"compressor": 2}.'),
    )

    class Meta:
        model = WorkOrder
        fields = sorted(creation.EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[SEEN_VERSION].initial = self.instance.version

    def corrections(self) -> dict[str, Any]:
        """work_order_update's changes: the editable fields this form changed."""
        changed = {
            name: self.cleaned_data[name] for name in self.changed_data if name in creation.EDITABLE_FIELDS
        }
        if "required_skills" in changed and changed["required_skills"] is None:
            changed["required_skills"] = {}  # emptied: no skill required
        return changed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        # The instance is the row as it is now (the admin reads it again for each POST).
        if cleaned[SEEN_VERSION] != self.instance.version:
            raise ValidationError(
                _(
                    "Someone else changed this work order since you opened it (it is at version "
                    "%(current)s, you saw %(seen)s). Reload it and make your change again."
                ),
                code="version_conflict",
                params={"current": self.instance.version, "seen": cleaned[SEEN_VERSION]},
            )
        changes = self.corrections()
        if not changes:
            return cleaned
        try:
            schemas.WorkOrderPatch(version=cleaned[SEEN_VERSION], **changes)
        except SchemaError as refused:
            _schema_refusals(self, refused)
            return cleaned
        try:
            creation.work_order_create_check(
                site=self.instance.site,
                equipment=None,
                earliest_start=cleaned.get("earliest_start"),
                latest_end=cleaned.get("latest_end"),
            )
        except Invalid as refusal:
            field, message = INTAKE_REFUSALS.get(refusal.code, (None, refusal.message))
            self.add_error(field, ValidationError(message, code=refusal.code))
        return cleaned
