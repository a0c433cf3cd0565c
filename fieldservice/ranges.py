"""The allowed range of every input, defined once: dates, times, text lengths, numbers.

Every API schema, web form, query parameter and command takes its bounds from here, so a bad
value is refused as invalid (422 in the APIs, a field error on a page) naming the field, never
a 500 and never a stored row that later breaks a page (a planned end of 9999-12-31 did: every
page that added a day to it overflowed).

- In django-ninja schemas, annotate with the types below: `planned_end: BoundedDateTime`,
  `caption: ShortText = ""`. The bounds appear in the OpenAPI schema (`maxLength`, `maximum`,
  and `formatMinimum`/`formatMaximum` for dates, as JSON Schema has no date bounds of its own).
- In Django forms, use `date_field()` / `datetime_field()` / `text_field()`, or add
  `DATE_VALIDATORS` to a field of your own.
- For a query parameter read by hand in a view, `parse_date(value, field=...)` raises
  `Invalid` with the field's name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, Field

from fieldservice.errors import Invalid

# Business dates: service history, contracts, plans. Wide enough for any real equipment's
# history and any contract term, narrow enough that date arithmetic on them cannot overflow.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
EARLIEST_DATETIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_DATETIME = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC)

# Text, in characters: a name or title fits a line; a note fits a page.
NAME_LENGTH = 200
SHORT_TEXT_LENGTH = 200
LONG_TEXT_LENGTH = 10_000
CODE_LENGTH = 64

# Numbers.
MAX_MONEY = Decimal("99999999.99")  # a single price or line, in the contract's currency
MAX_QUANTITY = Decimal("100000")
MAX_MINUTES = 7 * 24 * 60  # a job's estimate or a window's length: a week


def _date_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


def _datetime_in_range(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset, e.g. 2027-03-14T09:00:00+08:00")
    if not EARLIEST_DATETIME <= value <= LATEST_DATETIME:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


# --- django-ninja / pydantic ----------------------------------------------------------------------

BoundedDate = Annotated[
    dt.date,
    AfterValidator(_date_in_range),
    Field(json_schema_extra={"formatMinimum": str(EARLIEST_DATE), "formatMaximum": str(LATEST_DATE)}),
]
BoundedDateTime = Annotated[
    dt.datetime,
    AfterValidator(_datetime_in_range),
    Field(
        json_schema_extra={
            "formatMinimum": EARLIEST_DATETIME.isoformat(),
            "formatMaximum": LATEST_DATETIME.isoformat(),
        }
    ),
]
Name = Annotated[str, Field(max_length=NAME_LENGTH)]
ShortText = Annotated[str, Field(max_length=SHORT_TEXT_LENGTH)]
LongText = Annotated[str, Field(max_length=LONG_TEXT_LENGTH)]
Code = Annotated[str, Field(max_length=CODE_LENGTH)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, max_digits=10, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, le=MAX_QUANTITY, max_digits=12, decimal_places=3)]
Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES)]


# --- Django forms ------------------------------------------------------------------------------


def _validate_date(value: dt.date | dt.datetime | None) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."),
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE, "latest": LATEST_DATE},
        )


DATE_VALIDATORS = [_validate_date]


def date_field(**kwargs: Any) -> forms.DateField:
    return forms.DateField(validators=DATE_VALIDATORS, **kwargs)


def datetime_field(**kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(validators=DATE_VALIDATORS, **kwargs)


def text_field(*, max_length: int = SHORT_TEXT_LENGTH, **kwargs: Any) -> forms.CharField:
    return forms.CharField(max_length=max_length, **kwargs)


def number_validators(minimum: Decimal | int, maximum: Decimal | int) -> list[Any]:
    return [MinValueValidator(minimum), MaxValueValidator(maximum)]


def length_validators(limit: int) -> list[Any]:
    return [MaxLengthValidator(limit)]


# --- values read by hand -------------------------------------------------------------------------


def parse_date(value: str, *, field: str) -> dt.date:
    """A YYYY-MM-DD query parameter inside the range, or Invalid naming `field`."""
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(f"{field}: {value!r} is not a date (YYYY-MM-DD).", code="invalid_date") from None
    try:
        return _date_in_range(day)
    except ValueError as error:
        raise Invalid(f"{field}: {error}.", code="date_out_of_range") from None


def in_date_range(day: dt.date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE
