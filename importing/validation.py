"""Judge every row before anything is written, and say what is wrong with each bad one.

Order: each cell on its own (type, required, length, choices), then the external ids that
repeat within the file, then the kind's own rules with its references loaded once, and
last the rows that depend on a refused row of the same file (with --partial they must be
refused too, or they would point at nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from importing.cells import CellError
from importing.kinds.base import WRITE_BATCH, Kind, Progress, no_progress
from importing.reading import Row


def read_cells(kind: Kind[Any], rows: Sequence[Row], progress: Progress = no_progress) -> None:
    columns = {column.name: column for column in kind.columns}
    for index, row in enumerate(rows, start=1):
        for name, cell in row.cells.items():
            column = columns[name]
            if not cell:
                if column.blank:
                    row.values[name] = None
                else:
                    row.refuse(name, _("is required"))
            elif len(cell) > column.max_chars:
                row.refuse(
                    name,
                    _("is %(length)s characters long; this column takes at most %(limit)s")
                    % {"length": len(cell), "limit": column.max_chars},
                )
            else:
                try:
                    row.values[name] = column.parse(cell)
                except CellError as error:
                    row.refuse(name, str(error))
        if index % WRITE_BATCH == 0:
            progress(_("checking"), index, len(rows))


def refuse_repeats(
    rows: Sequence[Row], *, column: str, key: Callable[[Row], Hashable | None], reason: str
) -> None:
    """Refuse every row whose key another row of the file also has, naming the other lines.

    All of them, not the later ones only: which one is right is not for the import to guess,
    and with --partial the survivor would be whichever came first. `reason` is formatted
    with %(value)s (the cell) and %(lines)s.
    """
    lines: dict[Hashable, list[int]] = defaultdict(list)
    for row in rows:
        found = key(row)
        if found is not None:
            lines[found].append(row.line)
    for row in rows:
        found = key(row)
        if found is None or len(lines[found]) < 2:
            continue
        others = [line for line in lines[found] if line != row.line]
        row.refuse(column, reason % {"value": row.cells.get(column, ""), "lines": _lines(others)})


def refuse_repeated_external_ids(rows: Sequence[Row]) -> None:
    refuse_repeats(
        rows,
        column="external_id",
        key=lambda row: row.external_id or None,
        reason=_("%(value)s is also on line %(lines)s"),
    )


def refuse_dependents(kind: Kind[Any], rows: Sequence[Row]) -> None:
    """Refuse rows that need a refused row of this file, until none is left to refuse."""
    by_external_id = {row.external_id: row for row in rows if row.external_id}
    changed = True
    while changed:
        changed = False
        for row in rows:
            if row.bad:
                continue
            for column, external_id in kind.needs(row):
                needed = by_external_id.get(external_id)
                if needed is not None and needed.bad:
                    row.refuse(
                        column,
                        _("%(id)s (line %(line)s) is refused, so this row is too")
                        % {"id": external_id, "line": needed.line},
                    )
                    changed = True
                    break


def validate(kind: Kind[Any], rows: Sequence[Row], progress: Progress = no_progress) -> None:
    read_cells(kind, rows, progress)
    refuse_repeated_external_ids(rows)
    kind.load(rows)
    for row in rows:
        kind.check_row(row)
    kind.check_rows(rows)
    refuse_dependents(kind, rows)


def _lines(lines: Sequence[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:10])
    return shown + (_(" and %(count)s more") % {"count": len(lines) - 10} if len(lines) > 10 else "")
