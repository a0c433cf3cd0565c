"""Account health scoring, pure: from one account's aggregates (Inputs) to its score, band,
explained components and overrides (Snapshot). No database here: the aggregates come from
retention.health (SQL), the snapshots are stored there, and alerts are retention.health_alerts.
The definitions are in retention.health's docstring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from contracts.models import HealthScore

RELIABILITY_PRIOR_FAILURES = 1
SCORE_AT_GOOD, SCORE_AT_AVERAGE, SCORE_AT_POOR = 100.0, 60.0, 0.0

Band = HealthScore.Band


# --- scoring ------------------------------------------------------------------------------------


def component_score(raw: float, *, good: float, average: float, poor: float) -> float:
    """100 at good, 60 at average, 0 at poor, linear between, clamped. Works both ways:
    when good < poor, lower raw values are better."""
    sign = 1.0 if good >= poor else -1.0
    value = sign * raw
    g, a, p = sign * good, sign * average, sign * poor
    if value >= g:
        return SCORE_AT_GOOD
    if value <= p:
        return SCORE_AT_POOR
    if value >= a:
        return SCORE_AT_AVERAGE + (SCORE_AT_GOOD - SCORE_AT_AVERAGE) * (value - a) / (g - a)
    return SCORE_AT_POOR + (SCORE_AT_AVERAGE - SCORE_AT_POOR) * (value - p) / (a - p)


def band_of(score: int) -> str:
    if score >= settings.HEALTH_BANDS["green"]:
        return Band.GREEN
    if score >= settings.HEALTH_BANDS["yellow"]:
        return Band.YELLOW
    return Band.RED


def risk_of(score: int, annual_value: Decimal, days_to_key_date: int | None) -> Decimal:
    """(100 − score) × annual contract value × urgency (RISK_URGENCY: the first
    (days, factor) whose days the key date is under; 1 when none or no key date)."""
    urgency = 1.0
    if days_to_key_date is not None:
        for days, factor in settings.RISK_URGENCY:
            if days_to_key_date < days:
                urgency = factor
                break
    return (Decimal(100 - score) * Decimal(annual_value) * Decimal(str(urgency))).quantize(Decimal("0.01"))


# --- sentences ----------------------------------------------------------------------------------

# Stored with the snapshot in every language (HealthScore.components), so that a page shows the
# reason in its reader's language without recomputing; the texts come from locale/.
REASONS = {
    "sla_breach_rate": gettext_noop("SLA breached on %(rate)s of work orders in %(days)s days"),
    "first_time_fix_rate": gettext_noop("%(rate)s of repairs fixed on the first visit in %(days)s days"),
    "reliability": gettext_noop("Equipment MTBF at %(ratio)s× the fleet of the same models"),
    "open_urgent_past_sla": gettext_noop("%(count)s open P1/P2 work orders past SLA"),
    "sentiment": gettext_noop(
        "Customer sentiment %(value)s/5 from %(surveys)s surveys (recent ones weigh more)"
    ),
    "pm_compliance": gettext_noop("%(rate)s of planned PM visits done on time (%(on_time)s/%(planned)s)"),
    "p1_past_sla": gettext_noop("A P1 work order is %(hours)s h past its SLA (over %(limit)s h): red"),
    "breach_rate": gettext_noop("SLA breach rate %(rate)s is over %(limit)s: red"),
}
POINTS_LOST = gettext_noop("%(reason)s (−%(points)s)")


def _pct(value: float) -> str:
    return f"{round(value * 100)} %"


def in_every_language(message: str, **values: Any) -> dict[str, str]:
    """The message, translated and filled in, for each of settings.LANGUAGES."""
    sentences = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            sentences[code] = gettext(message) % values
    return sentences


def _component_reason(key: str, raw: float, extra: dict[str, Any], lost: float) -> dict[str, str]:
    values: dict[str, Any] = {"days": settings.HEALTH_WINDOW_DAYS, "rate": _pct(raw), **extra}
    if key == "reliability":
        values["ratio"] = f"{raw:.2f}"
    elif key == "open_urgent_past_sla":
        values["count"] = int(raw)
    elif key == "sentiment":
        values["value"] = f"{raw:.1f}"
    reasons = in_every_language(REASONS[key], **values)
    points = round(lost)
    sentences = {}
    for code, reason in reasons.items():
        with translation.override(code):
            sentences[code] = gettext(POINTS_LOST) % {"reason": reason, "points": points}
    return sentences


# --- from aggregated rows to snapshots ----------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """One account's aggregates for one date, as the health SQL returns them."""

    account_id: int
    day: dt.date
    account_manager_id: int | None
    sla_counted: int | None
    sla_breached: int | None
    repairs: int | None
    fixed: int | None
    expected_failures: float | None
    failures: int | None
    urgent_past_sla: int
    p1_hours_over: float | None
    sentiment: float | None
    surveys: int | None
    pm_planned: int | None
    pm_on_time: int | None


@dataclass
class Snapshot:
    account_id: int
    day: dt.date
    account_manager_id: int | None
    score: int
    band: str
    components: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    declining: bool = False
    rfm_tier: str = ""


def _raw_values(i: Inputs) -> dict[str, tuple[float, dict[str, Any]]]:
    """Each component that has data: its raw value and what the sentence needs."""
    raw: dict[str, tuple[float, dict[str, Any]]] = {}
    if i.sla_counted:
        raw["sla_breach_rate"] = ((i.sla_breached or 0) / i.sla_counted, {"work_orders": i.sla_counted})
    if i.repairs:
        raw["first_time_fix_rate"] = ((i.fixed or 0) / i.repairs, {"repairs": i.repairs})
    if i.expected_failures:
        ratio = (float(i.expected_failures) + RELIABILITY_PRIOR_FAILURES) / (
            (i.failures or 0) + RELIABILITY_PRIOR_FAILURES
        )
        raw["reliability"] = (ratio, {"failures": i.failures or 0})
    raw["open_urgent_past_sla"] = (float(i.urgent_past_sla), {})
    if i.sentiment is not None:
        raw["sentiment"] = (float(i.sentiment), {"surveys": i.surveys})
    if i.pm_planned:
        raw["pm_compliance"] = (
            (i.pm_on_time or 0) / i.pm_planned,
            {"planned": i.pm_planned, "on_time": i.pm_on_time or 0},
        )
    return raw


def snapshot_of(i: Inputs) -> Snapshot:
    """Score, band, per-component explanation and overrides of one account's aggregates."""
    raw = _raw_values(i)
    config = cast(dict[str, dict[str, float]], settings.HEALTH_COMPONENTS)
    present = [key for key in config if key in raw]
    total_weight = sum(config[key]["weight"] for key in present)
    scored = {
        key: component_score(
            raw[key][0],
            good=config[key]["good"],
            average=config[key]["average"],
            poor=config[key]["poor"],
        )
        for key in present
    }
    mean = sum(config[key]["weight"] * scored[key] for key in present) / total_weight
    components = []
    for key in present:
        value, extra = raw[key]
        weight = config[key]["weight"]
        lost = weight * (100.0 - scored[key]) / total_weight
        components.append(
            {
                "key": key,
                "weight": weight,
                "raw": round(value, 4),
                "score": round(scored[key], 1),
                "points_lost": round(lost, 1),
                "reason": _component_reason(key, value, extra, lost),
                **extra,
            }
        )
    score = max(0, min(100, round(mean)))
    overrides = _overrides(i, raw)
    band = Band.RED if overrides else band_of(score)
    return Snapshot(i.account_id, i.day, i.account_manager_id, score, band, components, overrides)


def _overrides(i: Inputs, raw: dict[str, tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    found = []
    hours = settings.HEALTH_OVERRIDE_P1_PAST_SLA_HOURS
    if i.p1_hours_over is not None and i.p1_hours_over > hours:
        over = round(float(i.p1_hours_over))
        found.append(
            {
                "key": "p1_past_sla",
                "raw": over,
                "reason": in_every_language(REASONS["p1_past_sla"], hours=over, limit=hours),
            }
        )
    limit = settings.HEALTH_OVERRIDE_BREACH_RATE
    if "sla_breach_rate" in raw and raw["sla_breach_rate"][0] > limit:
        rate = raw["sla_breach_rate"][0]
        found.append(
            {
                "key": "breach_rate",
                "raw": round(rate, 4),
                "reason": in_every_language(REASONS["breach_rate"], rate=_pct(rate), limit=_pct(limit)),
            }
        )
    return found
