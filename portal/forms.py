"""The portal's forms. Every field is bounded (fieldservice.ranges): a bad value is a 400 with
the field's own error on the page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice import ranges

EMAIL_LENGTH = 254
PHONE_LENGTH = 40


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=EMAIL_LENGTH)


class FaultForm(forms.Form):
    equipment = forms.TypedChoiceField(label=_("Machine"), coerce=int, choices=())
    symptom = ranges.text_field(
        label=_("What is wrong?"),
        max_length=ranges.LONG_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    line_stopped = forms.TypedChoiceField(
        label=_("Is the production line stopped?"),
        choices=[("yes", _("Yes, the line is stopped")), ("no", _("No, it still runs"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: object, equipment_choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["equipment"].choices = equipment_choices  # type: ignore[attr-defined]


class LabelFaultForm(forms.Form):
    name = ranges.text_field(label=_("Your name"), max_length=ranges.NAME_LENGTH)
    email = forms.EmailField(label=_("Your email"), max_length=EMAIL_LENGTH)
    phone = ranges.text_field(label=_("Phone (optional)"), max_length=PHONE_LENGTH, required=False)
    symptom = ranges.text_field(
        label=_("What is wrong?"),
        max_length=ranges.LONG_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ComplaintForm(forms.Form):
    title = ranges.text_field(label=_("Subject"), max_length=ranges.NAME_LENGTH)
    description = ranges.text_field(
        label=_("What happened?"),
        max_length=ranges.LONG_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    severity = forms.TypedChoiceField(
        label=_("How serious is it?"),
        coerce=int,
        choices=[(1, _("Serious: it hurts our production")), (2, _("Important")), (3, _("Minor"))],
        initial=2,
    )
    work_order = forms.TypedChoiceField(
        label=_("About a work order (optional)"), coerce=int, required=False, empty_value=None, choices=()
    )

    def __init__(self, *args: object, work_order_choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["work_order"].choices = [("", "—"), *work_order_choices]  # type: ignore[attr-defined]


class CaseAnswerForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("Was this resolved for you?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    comment = ranges.text_field(
        label=_("Comment (optional)"), max_length=ranges.LONG_TEXT_LENGTH, required=False
    )
