"""From the uploaded bytes to rows of cells, refusing files that are not a readable table.

Everything here is about the file as a whole: its encoding, its header, cells too large to
be data. A problem found here refuses the file (nothing is written, even with --partial),
because a file with a wrong header or a broken quote cannot be trusted row by row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from importing.cells import Column
from importing.report import FileRefused, Problem

# Beyond about 500,000 rows of any kind: larger files should be split.
MAX_FILE_BYTES = 64 * 1024 * 1024
# No column takes more than a few hundred characters; a cell this long is a broken file
# (an unclosed quote swallows the lines after it), not data.
MAX_CELL_CHARS = 10_000
# How many unknown or oversized names a file-level message lists before "and N more".
LISTED_AT_MOST = 20

# csv's own cell limit (128 KiB) stops at the first huge cell without saying which column it
# is in. The whole file is already in memory and capped above, so let csv read any cell and
# refuse the oversized ones by column below. (The limit is process-wide; it is only raised.)
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))


@dataclass
class Row:
    line: int
    cells: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return bool(self.problems)

    def refuse(self, column: str | None, reason: str) -> None:
        self.problems.append(Problem(reason=reason, line=self.line, column=column))

    def has(self, column: str) -> bool:
        """The column was read and holds a value (it is in the file, filled and valid)."""
        return self.values.get(column) is not None

    @property
    def external_id(self) -> str:
        return str(self.values.get("external_id") or "")


@dataclass
class Table:
    header: list[str]
    rows: list[Row]


def decode(data: bytes) -> str:
    """UTF-8 text, with or without the byte-order mark Excel writes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            [Problem(_("The file is UTF-16 (Excel's “Unicode text”); save it as “CSV UTF-8” instead."))]
        )
    if data.startswith(b"PK\x03\x04"):
        raise FileRefused([Problem(_("The file is an Excel workbook, not CSV; save it as “CSV UTF-8”."))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileRefused(
            [
                Problem(
                    _(
                        "The file is not UTF-8 text (byte 0x%(byte)02X on line %(line)s; Chinese Excel "
                        "saves GBK by default). Save it as “CSV UTF-8” and import it again."
                    )
                    % {"byte": data[error.start], "line": line}
                )
            ]
        ) from None


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(f'"{name}"' for name in names[:LISTED_AT_MOST])
    if len(names) > LISTED_AT_MOST:
        shown += _(" and %(count)s more") % {"count": len(names) - LISTED_AT_MOST}
    return shown


def _check_header(header: list[str], columns: Sequence[Column]) -> list[Problem]:
    known = {column.name for column in columns}
    problems = []
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        return [
            Problem(_("The header has one column: the file is separated by semicolons or tabs, not commas."))
        ]
    if any(not name for name in header):
        problems.append(Problem(_("The header has an empty column name (line 1).")))
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        problems.append(
            Problem(_("The header repeats these columns: %(names)s.") % {"names": _listed(duplicates)})
        )
    missing = [column.name for column in columns if column.required and column.name not in header]
    if missing:
        problems.append(
            Problem(_("The header lacks these required columns: %(names)s.") % {"names": _listed(missing)})
        )
    unknown = [name for name in header if name and name not in known]
    if unknown:
        problems.append(
            Problem(
                _("The header has unknown columns: %(names)s. The columns are: %(known)s.")
                % {"names": _listed(unknown), "known": ", ".join(column.name for column in columns)}
            )
        )
    return problems


def read_table(data: bytes, *, columns: Sequence[Column]) -> Table:
    """The file's rows keyed by column name, each with the line it starts on.

    Raises FileRefused with every file-level problem found. A row whose cell count differs
    from the header's is kept, marked bad: the other rows can still be judged.
    """
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            [
                Problem(
                    _("The file is %(size)s MB; the most one import takes is %(limit)s MB. Split it.")
                    % {"size": len(data) // (1024 * 1024), "limit": MAX_FILE_BYTES // (1024 * 1024)}
                )
            ]
        )
    text = decode(data)
    if not text.strip():
        raise FileRefused([Problem(_("The file is empty."))])
    if "\x00" in text:
        raise FileRefused([Problem(_("The file contains NUL characters: it is not a CSV text file."))])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    header: list[str] | None = None
    rows: list[Row] = []
    limits = {column.name: column for column in columns}
    ended_on = 0
    try:
        for record in reader:
            line, ended_on = ended_on + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and Excel's trailing ",,,," rows
            if header is None:
                header = [name.strip().lower() for name in record]
                problems += _check_header(header, columns)
                if problems:
                    raise FileRefused(problems)
                continue
            row = Row(line=line, cells={})
            if len(record) != len(header):
                # Its cells cannot be matched to columns, so they are not judged one by one.
                row.refuse(
                    None,
                    _("has %(cells)s cells; the header has %(columns)s (a value with a comma needs quotes)")
                    % {"cells": len(record), "columns": len(header)},
                )
                rows.append(row)
                continue
            for name, cell in zip(header, record, strict=False):
                if len(cell) > MAX_CELL_CHARS:
                    problems.append(
                        Problem(
                            _(
                                "the cell is %(size)s characters long; this column takes at most %(limit)s, "
                                "so the file is refused (is a quote left open?)"
                            )
                            % {"size": f"{len(cell):,}", "limit": limits[name].max_chars},
                            line=line,
                            column=name,
                        )
                    )
                    cell = ""
                row.cells[name] = cell.strip()
            rows.append(row)
    except csv.Error as error:
        problems.append(
            Problem(
                _("line %(line)s: the file is not valid CSV (%(error)s)")
                % {"line": ended_on + 1 if ended_on else 1, "error": error}
            )
        )
    if problems:
        raise FileRefused(problems)
    if header is None or not rows:
        raise FileRefused([Problem(_("The file has a header but no rows."))])
    return Table(header=header, rows=rows)
