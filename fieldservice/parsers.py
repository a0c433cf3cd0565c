"""How the APIs read request bodies, query strings and forms: as django-ninja does, except that
text holding a NUL character (U+0000) is refused, wherever it is: in a query string or a form
as invalid (422, with where), in a JSON body as a body that cannot be read (400: django-ninja
turns any error of its body parser into that).

PostgreSQL cannot store NUL in a text column: such a value reached the database and failed
there as a 500 (a search, a work order's title, a renewal filter). Refusing it here, where
every parameter and body of both APIs is read, covers every field, today's and tomorrow's.
Django's own forms refuse it already (ProhibitNullCharactersValidator).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


def _refuse_nul(data: Any, where: str) -> None:
    if holds_nul(data):
        raise ValidationError(
            [
                {
                    "type": "nul_character",
                    "loc": [where],
                    "msg": "Text cannot contain the NUL character (U+0000).",
                }
            ]
        )


class TextParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        _refuse_nul(data, "body")
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(parsed, "query" if data is request.GET else "form")
        return parsed
