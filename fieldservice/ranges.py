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
  `Invalid` with the field's name (for an API); a page cleans it with `date_field()`, whose
  errors are in the reader's language.
- Every back-office form takes its date and date-time fields from here (fieldservice/admin.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, Field

from fieldservice.errors import Invalid

# Business dates: service history, contracts, plans. Wide enough for any real equipment's
# history (a machine installed in the 1980s is still serviced) and any contract term, narrow
# enough that date arithmetic on them cannot overflow.
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
EARLIEST_DATETIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_DATETIME = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC)

# Text, in characters: a name or title fits a line; a note fits a page.
NAME_LENGTH = 200
SHORT_TEXT_LENGTH = 200
LONG_TEXT_LENGTH = 10_000
CODE_LENGTH = 64
# What a search box takes (the desk's, the work-order list's): a fragment, not a document.
SEARCH_QUERY_LENGTH = 100
# An opaque value a client hands back (the technician app's sync cursor), in characters.
CURSOR_LENGTH = 4096
# A client's Idempotency-Key, in characters (mobile_api.models.IdempotencyRecord.key).
IDEMPOTENCY_KEY_LENGTH = 100

# Numbers.
MAX_MONEY = Decimal("99999999.99")  # a single price or line, in the contract's currency
MAX_QUANTITY = Decimal("100000")
MAX_MINUTES = 7 * 24 * 60  # a job's estimate or a window's length: a week
MAX_ID = 2**63 - 1  # a primary key (BigAutoField: PostgreSQL bigint)
MAX_CONTRACT_VALUE = Decimal("999999999999.99")  # a contract's annual value (ServiceContract.annual_value)
MAX_METER_VALUE = Decimal("999999999999.99")  # a meter's reading: what MeterReading.value holds
MAX_MEASUREMENT = Decimal("9999999999.9999")  # a checklist value, either sign: ChecklistItem.value
MAX_POSITION = 1000  # an item's number in a list (a checklist)
MAX_VERSION = 2_147_483_647  # a row's version, as the client last saw it (a PostgreSQL integer)


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
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ContractValue = Annotated[Decimal, Field(ge=0, le=MAX_CONTRACT_VALUE, max_digits=14, decimal_places=2)]
MeterValue = Annotated[Decimal, Field(ge=0, le=MAX_METER_VALUE, max_digits=14, decimal_places=2)]
Measurement = Annotated[
    Decimal, Field(ge=-MAX_MEASUREMENT, le=MAX_MEASUREMENT, max_digits=14, decimal_places=4)
]
Position = Annotated[int, Field(ge=1, le=MAX_POSITION)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]


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


DATE_VALIDATORS: list[Callable[[Any], None]] = [_validate_date]


class BoundedDateField(forms.DateField):
    default_validators = DATE_VALIDATORS


class BoundedDateTimeField(forms.DateTimeField):
    default_validators = DATE_VALIDATORS


class BoundedSplitDateTimeField(forms.SplitDateTimeField):
    """The back office's date-and-time field (two inputs), in the range."""

    default_validators = DATE_VALIDATORS


def date_field(**kwargs: Any) -> forms.DateField:
    return BoundedDateField(**kwargs)


def datetime_field(**kwargs: Any) -> forms.DateTimeField:
    return BoundedDateTimeField(**kwargs)


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


def command_date(value: str) -> dt.date:
    """A management command's YYYY-MM-DD argument (argparse's `type=`), in the range."""
    try:
        return _date_in_range(dt.date.fromisoformat(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date as YYYY-MM-DD between {EARLIEST_DATE} and {LATEST_DATE}"
        ) from None


def in_date_range(day: dt.date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


# --- values stored before the range was enforced ------------------------------------------------


class ShownAsStored(dt.datetime):
    """A date-time that templates show as it is, not in local time: the flag Django's own
    {% timezone %} tag sets on a value it has converted already."""

    convert_to_local_time = False


def _has_local_time(value: dt.datetime) -> bool:
    try:
        timezone.localtime(value)
    except OverflowError:
        return False
    return True


def show_out_of_range_as_stored(obj: models.Model) -> None:
    """Let a page show an object whose date-time was stored out of range before the range was
    enforced: 9999-12-31 23:59 UTC has no local time, and the work order's page and its admin
    form answered 500 on one. Such a value is shown in UTC, as stored; nothing is written."""
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(field, models.DateTimeField) and value is not None and not _has_local_time(value):
            stored = value.astimezone(dt.UTC)
            setattr(obj, field.attname, ShownAsStored.combine(stored.date(), stored.timetz()))
