"""Fast inserts with PostgreSQL COPY and ids chosen by the caller.

Rows are dicts keyed by attname (`account_id`, not `account`). Missing columns take the
field's default, computed once per table; `updated_at` falls back to `created_at`. Times
are never defaulted: a missing time column is a bug and raises. Geometry values are EWKT
strings (`SRID=4326;POINT(lon lat)`), which the geography type parses on input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db import connection, models

COPY_BATCH_ROWS = 20_000
_MISSING = object()


class CopyTable:
    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.table = model._meta.db_table
        self.attnames = [f.attname for f in self.fields]
        self.json_attnames = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if isinstance(f, models.DateTimeField) and not f.null:
                continue  # a time is never defaulted to the wall clock
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None

    def _value(self, row: Mapping[str, Any], attname: str) -> Any:
        value = row.get(attname, _MISSING)
        if value is _MISSING:
            if attname == "updated_at":
                value = row["created_at"]
            elif attname in self.defaults:
                value = self.defaults[attname]
            else:
                raise KeyError(f"{self.table}: no value and no default for {attname}")
        if attname in self.json_attnames:
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return value

    def _tuples(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield tuple(self._value(row, a) for a in self.attnames)

    def write(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """COPY the rows in batches; returns how many were written."""
        quoted = ", ".join(f'"{f.column}"' for f in self.fields)
        sql = f'COPY "{self.table}" ({quoted}) FROM STDIN'
        written = 0
        batch: list[tuple[Any, ...]] = []
        for values in self._tuples(rows):
            batch.append(values)
            if len(batch) >= COPY_BATCH_ROWS:
                written += _copy(sql, batch)
                batch = []
        if batch:
            written += _copy(sql, batch)
        return written


def _copy(sql: str, batch: list[tuple[Any, ...]]) -> int:
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for values in batch:
            copy.write_row(values)
    return len(batch)


def copy_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    return CopyTable(model).write(rows)


def reset_id_sequences(tables: Iterable[str]) -> None:
    """Point each table's id sequence past the ids written explicitly."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                f'FROM "{table}"',
                [table],
            )
