"""What an import says back: every problem with its line and column, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Problem:
    """A reason something was refused. Without a line it is about the whole file."""

    reason: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        if self.column is None:
            return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}
        return _('line %(line)s, column "%(column)s": %(reason)s') % {
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }


class FileRefused(Exception):
    """The file as a whole cannot be read as this kind of import; no row is looked at."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    partial: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: int = 0
    written: bool = False
    file_problems: list[Problem] = field(default_factory=list)
    row_problems: list[Problem] = field(default_factory=list)
    # Side effects worth telling the person (an equipment model added to the catalogue).
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [*self.file_problems, *self.row_problems]

    def summary(self) -> str:
        if self.file_problems:
            return _("The file was refused; nothing was written.")
        counts = {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad": self.bad_rows,
        }
        if self.dry_run:
            text = (
                _(
                    "%(kind)s, dry run (nothing written): %(rows)s rows; would create %(created)s, "
                    "update %(updated)s, leave %(unchanged)s unchanged"
                )
                % counts
            )
        elif self.bad_rows and not self.written:
            text = (
                _(
                    "%(kind)s: nothing written; the good rows would create %(created)s, update %(updated)s, "
                    "leave %(unchanged)s unchanged"
                )
                % counts
            )
        else:
            text = (
                _(
                    "%(kind)s: %(rows)s rows; %(created)s created, %(updated)s updated, "
                    "%(unchanged)s unchanged"
                )
                % counts
            )
        if self.bad_rows:
            text += "; " + ngettext("%(bad)s row refused", "%(bad)s rows refused", self.bad_rows) % counts
            if not self.partial and not self.dry_run:
                text += _(" (fix them and import again, or write the good rows only)")
        return text + "."
