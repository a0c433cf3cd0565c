"""Query lookups the project adds to Django's, registered when the project's app is ready."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import CharField, Lookup


@CharField.register_lookup
class ContainsIgnoringCase(Lookup):
    """`field ILIKE '%value%'`: the form a trigram index serves (Django's icontains compares
    UPPER() of both sides, which it cannot)."""

    lookup_name = "trigram_contains"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs}::text ILIKE {rhs}", [*lhs_params, *rhs_params]

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        escaped = re.sub(r"([\\%_])", r"\\\1", value)
        return "%s", [f"%{escaped}%"]
