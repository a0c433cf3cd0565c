"""The desk's new-work-order form: what a dispatcher fills in while the customer is on the line."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.models import Priority
from fieldservice import ranges
from tickets.models import WorkOrder

# What a phone call reports; planned work comes from maintenance plans.
CALL_KINDS = [
    (kind.value, kind.label)
    for kind in (WorkOrder.Kind.CORRECTIVE, WorkOrder.Kind.EMERGENCY, WorkOrder.Kind.INSPECTION)
]


class NewWorkOrderForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CALL_KINDS, initial=WorkOrder.Kind.CORRECTIVE)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.P3
    )
    title = forms.CharField(
        label=_("What is wrong"), max_length=WorkOrder._meta.get_field("title").max_length
    )
    description = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=ranges.LONG_TEXT_LENGTH,
        required=False,
    )
