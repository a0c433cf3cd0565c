"""What a column of an import file is, and how one cell's text becomes a typed value.

A parser receives the cell stripped and non-empty (an empty cell never reaches it) and
either returns the value or raises `CellError` with a reason a person can act on; the
reader adds the line and the column. Choices come from the models' own TextChoices, so a
new status or industry is importable the day it is added.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from fieldservice import ranges

Parser = Callable[[str], Any]
# How much of a bad value a message quotes: enough to find it, not a whole pasted paragraph.
QUOTED_VALUE_CHARS = 40
# A list cell (`a;b;c`) separates its items with this; commas would clash with CSV quoting.
LIST_SEPARATOR = ";"
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


class CellError(ValueError):
    """One cell's value is unusable; the message says why (without the line and column)."""


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    # Required columns must be in the header; `blank=False` cells must also be filled.
    required: bool = False
    blank: bool = True
    # The longest text the column takes: the model field's max_length for text.
    max_chars: int = 64
    help: str | Promise = ""


def quoted(value: str) -> str:
    """The value in double quotes (as the column names are), cut short if long."""
    if len(value) > QUOTED_VALUE_CHARS:
        value = value[:QUOTED_VALUE_CHARS] + "…"
    return f'"{value}"'


def text(value: str) -> str:
    return value


def code(value: str) -> str:
    if not SLUG.match(value):
        raise CellError(
            _("%(value)s is not a code (letters, digits, - and _ only)") % {"value": quoted(value)}
        )
    return value


def choice(choices: Iterable[tuple[Any, Any]]) -> Parser:
    """One of the model's choice values, case-insensitive (`Active` is `active`)."""
    allowed = {str(value).lower(): value for value, _label in choices}

    def parse(value: str) -> Any:
        try:
            return allowed[value.lower()]
        except KeyError:
            raise CellError(
                _("%(value)s is not one of: %(allowed)s")
                % {"value": quoted(value), "allowed": ", ".join(str(v) for v in allowed.values())}
            ) from None

    return parse


def named_integer_choice(choices: Mapping[str, int]) -> Parser:
    """An IntegerChoices value given as its number (`3`) or its name (`high`)."""
    allowed = {name.lower(): number for name, number in choices.items()}
    numbers = set(allowed.values())

    def parse(value: str) -> int:
        if value.lower() in allowed:
            return allowed[value.lower()]
        if value.isdigit() and int(value) in numbers:
            return int(value)
        listed = ", ".join(f"{number} ({name})" for name, number in allowed.items())
        raise CellError(
            _("%(value)s is not one of: %(allowed)s") % {"value": quoted(value), "allowed": listed}
        )

    return parse


def integer(*, minimum: int, maximum: int) -> Parser:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise CellError(_("%(value)s is not a whole number") % {"value": quoted(value)}) from None
        if not minimum <= number <= maximum:
            raise CellError(
                _("%(value)s is out of range (%(minimum)s..%(maximum)s)")
                % {"value": number, "minimum": minimum, "maximum": maximum}
            )
        return number

    return parse


def decimal(
    *, max_digits: int, places: int, minimum: Decimal | None = None, maximum: Decimal | None = None
) -> Parser:
    """A decimal as the model field stores it: a point for decimals, no thousands separators."""
    whole_digits = max_digits - places

    def parse(value: str) -> Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            hint = (
                _(" (use a point for decimals and no thousands separators: 1234.50)") if "," in value else ""
            )
            raise CellError(_("%(value)s is not a number") % {"value": quoted(value)} + hint) from None
        if not number.is_finite():
            raise CellError(_("%(value)s is not a number") % {"value": quoted(value)})
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise CellError(
                _("%(value)s has more than %(places)s decimal places") % {"value": value, "places": places}
            )
        if abs(number) >= Decimal(10) ** whole_digits:
            raise CellError(
                _("%(value)s is too large (at most %(digits)s digits before the point)")
                % {"value": value, "digits": whole_digits}
            )
        if minimum is not None and number < minimum:
            raise CellError(_("%(value)s is below %(minimum)s") % {"value": value, "minimum": minimum})
        if maximum is not None and number > maximum:
            raise CellError(_("%(value)s is above %(maximum)s") % {"value": value, "maximum": maximum})
        return number.quantize(Decimal(1).scaleb(-places))

    return parse


def _coordinate(value: str, limit: int, message: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CellError(message % {"value": quoted(value)}) from None
    if not -limit <= number <= limit:  # also refuses nan; inf is out of range anyway
        raise CellError(message % {"value": value})
    return number


def latitude(value: str) -> float:
    return _coordinate(value, 90, _("%(value)s is not a latitude (-90..90)"))


def longitude(value: str) -> float:
    return _coordinate(value, 180, _("%(value)s is not a longitude (-180..180)"))


def date(value: str) -> dt.date:
    # ISO only: 03/04/2026 is March in one country and April in the next.
    day = None
    if len(value) == 10:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if day is None:
        raise CellError(_("%(value)s is not a date (YYYY-MM-DD)") % {"value": quoted(value)})
    if not ranges.in_date_range(day):
        raise CellError(
            _("Enter a date between %(earliest)s and %(latest)s.")
            % {"earliest": ranges.EARLIEST_DATE.isoformat(), "latest": ranges.LATEST_DATE.isoformat()}
        )
    return day


def clock(value: str) -> dt.time:
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) not in (5, 8):
        raise CellError(_("%(value)s is not a time of day (HH:MM)") % {"value": quoted(value)})
    return parsed


def boolean(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("%(value)s is not yes or no (true/false, yes/no, 1/0)") % {"value": quoted(value)})


def time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CellError(
            _("%(value)s is not an IANA time zone (such as Asia/Shanghai)") % {"value": quoted(value)}
        ) from None
    return value


def email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise CellError(_("%(value)s is not an email address") % {"value": quoted(value)}) from None
    return value


def currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise CellError(
            _("%(value)s is not a currency code (three letters, such as CNY)") % {"value": quoted(value)}
        )
    return value.upper()


def country(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise CellError(
            _("%(value)s is not a country code (two letters, such as CN)") % {"value": quoted(value)}
        )
    return value.upper()


def items(value: str) -> list[str]:
    """The non-empty items of a list cell, in order."""
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def weekdays(value: str) -> list[int]:
    """`mon;tue;wed` → [0, 1, 2] (Monday = 0, as the model stores them)."""
    days: set[int] = set()
    for item in items(value):
        try:
            days.add(WEEKDAY_NAMES.index(item.lower()[:3]))
        except ValueError:
            raise CellError(
                _("%(value)s is not a weekday (%(names)s)")
                % {"value": quoted(item), "names": ", ".join(WEEKDAY_NAMES)}
            ) from None
    if not days:
        raise CellError(_("names no weekday"))
    return sorted(days)


def code_levels(value: str) -> dict[str, int]:
    """`cnc:2;hvac:1` → {"cnc": 2, "hvac": 1}; levels 1..3, each code once."""
    levels: dict[str, int] = {}
    for item in items(value):
        name, sep, level = item.partition(":")
        name = name.strip()
        if not sep or not name or level.strip() not in ("1", "2", "3"):
            raise CellError(
                _("%(value)s is not CODE:LEVEL with a level of 1, 2 or 3") % {"value": quoted(item)}
            )
        if name in levels:
            raise CellError(_("%(code)s is listed twice") % {"code": name})
        levels[code(name)] = int(level)
    return levels


def unique_items(value: str) -> list[str]:
    found = items(value)
    seen: set[str] = set()
    for item in found:
        if item in seen:
            raise CellError(_("%(value)s is listed twice") % {"value": quoted(item)})
        seen.add(item)
    return found
