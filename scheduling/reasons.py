"""Reasons and failures, stored as a code and parameters and rendered here, when read.

The solver says why a job is unplaced with a code and plain parameters; a run stores them
as they are (`ScheduleRun.unplaced`, `Assignment.reason`, `ScheduleRun.error_code` and
`error_params`), and every reader (the board, the API, `solve_day`) turns them into text
with these functions, in the language active for that reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

# Codes of a failed run (ScheduleRun.error_code).
QUEUE_UNAVAILABLE = "queue_unavailable"
NO_PLAN = "no_plan"
PLAN_INVALID = "plan_invalid"
ERROR = "error"
# An assignment's only code: why this technician, and what it costs.
ASSIGNED = "assigned"
# Rows written before reasons were codes keep their text under this code.
LEGACY_TEXT = "text"


def _skills(skills: Mapping[str, Any], template: str) -> str:
    return ", ".join(template % {"skill": code, "level": level} for code, level in sorted(skills.items()))


def unplaced_text(code: str, params: Mapping[str, Any]) -> str:
    """Why a job is not in the plan, in the active language."""
    pinned = bool(params.get("pinned"))
    if code == "no_skilled_technician":
        skills = params.get("skills") or {}
        if pinned:
            return _("The technician it is dispatched to lacks the required skills (%(skills)s).") % {
                "skills": _skills(skills, _("%(skill)s level %(level)s"))
            }
        if not skills:
            return _("There is no technician to plan with.")
        return _("No technician in the plan has the required skills (%(skills)s).") % {
            "skills": _skills(skills, _("%(skill)s level %(level)s"))
        }
    if code == "no_shift_time":
        if pinned:
            return _(
                "The technician it is dispatched to has no shift time left in this plan "
                "(off duty, absent, or the shift is over)."
            )
        return _(
            "None of the qualified technicians (%(count)s) has shift time left in this plan "
            "(off duty, absent, or the shift is over)."
        ) % {"count": params.get("qualified", 0)}
    if code == "outside_all_shifts":
        return _(
            "None of the job's time windows leaves room for its %(minutes)s min of service "
            "inside a qualified technician's shift."
        ) % {"minutes": params.get("service_minutes", 0)}
    if code == "unreachable_in_window":
        return _(
            "No qualified technician can drive there, do the %(minutes)s min of service inside "
            "a time window, take the lunch break and get back before the shift ends."
        ) % {"minutes": params.get("service_minutes", 0)}
    if code == "capacity":
        return _("No qualified technician has room left for it: their days are full with other work.")
    if code == "no_plan":
        return _("The optimizer found no plan.")
    return str(params.get("text", code))


def unplaced_entry_text(entry: Mapping[str, Any]) -> str:
    """The text of one entry of `ScheduleRun.unplaced`; older entries kept their text."""
    if "params" not in entry and entry.get("message"):
        return str(entry["message"])
    return unplaced_text(str(entry.get("reason", "")), entry.get("params") or {})


def assignment_text(reason: Mapping[str, Any], technician: str) -> str:
    """Why the run gave this job to `technician`, and what it costs."""
    params = reason.get("params") or {}
    if reason.get("code") != ASSIGNED:
        return str(params.get("text", ""))
    parts = []
    if params.get("skills"):
        parts.append(_("skilled: %(skills)s") % {"skills": _skills(params["skills"], "%(skill)s ≥%(level)s")})
    if params.get("preferred"):
        parts.append(_("the account's preferred technician"))
    parts.append(_("%(minutes)s min drive") % {"minutes": params.get("travel_minutes", 0)})
    late = params.get("late_minutes")
    if late is not None:
        parts.append(_("late vs SLA by %(minutes)s min") % {"minutes": late} if late > 0 else _("within SLA"))
    return _("%(technician)s: %(details)s") % {"technician": technician, "details": "; ".join(parts)}


def run_error_text(code: str, params: Mapping[str, Any], legacy: str = "") -> str:
    """Why a run failed; `legacy` is the text runs stored before failures were codes."""
    territory = params.get("territory") or _("All territories")
    if code == QUEUE_UNAVAILABLE:
        return _("The task queue is unavailable; start the run again in a moment.")
    if code == NO_PLAN:
        return _(
            "%(territory)s: the optimizer found no plan (solver status %(status)s). Nothing was "
            "changed; start the run again, and report it if it happens again."
        ) % {"territory": territory, "status": params.get("status", "")}
    if code == PLAN_INVALID:
        return _(
            "%(territory)s: the plan broke a rule and was discarded (%(violations)s). Nothing was changed."
        ) % {
            "territory": territory,
            "violations": "; ".join(params.get("violations", [])),
        }
    if code == ERROR:
        return _("%(territory)s: the run stopped on an error (%(error)s). Nothing was changed.") % {
            "territory": territory,
            "error": params.get("error", ""),
        }
    return legacy
