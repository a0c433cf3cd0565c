"""The rows recorded on each work order: events, checklist answers, parts and surveys."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from fieldservice.demo import bulk
from fieldservice.demo.catalog import CHECKLISTS, PARTS, ChecklistItemSpec
from fieldservice.demo.context import SeedContext
from fieldservice.demo.workorders import CLOSED_STATUSES, WorkOrderPlan
from tickets.events import NewEvent, event_record_many, sla_breach_event
from tickets.models import ChecklistItem, PartUsage, Survey

CHUNK_ORDERS = 5_000
# How often the SLA sweep runs (the beat schedule's "sla-breaches").
SLA_SWEEP_EVERY = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sla-breaches"]["schedule"])
ARRIVAL_JITTER_DEG = 0.0009
METRES_PER_DEGREE = 111_320.0
CHECK_FAIL_BASE = 0.02
CHECK_FAIL_SPAN = 0.10
PM_PART_SHARE = 0.4
SURVEY_SHARE = 0.3
SURVEY_DELAY_HOURS = (2, 96)
CSAT_BASE, CSAT_QUALITY, CSAT_NOISE = 2.0, 2.8, 0.6
NPS_BASE, NPS_QUALITY, NPS_NOISE = 2.0, 7.5, 1.3
PENALTY_RESOLUTION, PENALTY_RESPONSE, PENALTY_REPEAT = 1.0, 0.5, 0.7
COMMENTS = {
    1: ("响应太慢，设备停机影响生产。", "Second visit for the same fault. Not acceptable."),
    2: ("工程师到场晚了，沟通不够。", "Took too long to fix."),
    3: ("问题解决了，但等待时间较长。", "OK, but please call before arriving."),
    4: ("工程师很专业。", "Good job, thanks."),
    5: ("非常满意，响应及时，一次修好！", "Excellent service, fixed on the first visit."),
}


class Recorder:
    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.events: list[NewEvent] = []
        self.checklist: list[dict[str, Any]] = []
        self.parts: list[dict[str, Any]] = []
        self.surveys: list[dict[str, Any]] = []
        self.next_ids = {"events": 1, "checklist": 1, "parts": 1, "surveys": 1}

    def _id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    def event(self, wo: WorkOrderPlan, kind: str, at: datetime, by: int | None, **extra: Any) -> None:
        self.events.append(
            NewEvent(
                id=self._id("events"), work_order_id=wo.id, type=kind, at=at, recorded_at=at, by=by, **extra
            )
        )

    def change(
        self, wo: WorkOrderPlan, old: str, new: str, at: datetime | None, by: int | None, **extra: Any
    ) -> None:
        assert at is not None, (wo.number, old, new)
        self.event(wo, "status_changed", at, by, from_status=old, to_status=new, **extra)

    def flush(self) -> None:
        ctx = self.ctx
        # Through the trail's one writer, which takes the demo's COPY to write with.
        ctx.count("work order events", event_record_many(self.events, write=bulk.copy_rows))
        ctx.count("checklist items", bulk.copy_rows(ChecklistItem, self.checklist))
        ctx.count("parts used", bulk.copy_rows(PartUsage, self.parts))
        ctx.count("surveys", bulk.copy_rows(Survey, self.surveys))
        self.events, self.checklist, self.parts, self.surveys = [], [], [], []

    def record(self, wo: WorkOrderPlan) -> None:
        dispatcher = self.ctx.users["dispatcher"]
        tech = wo.technician.user_id if wo.technician else None
        self.event(
            wo, "created", wo.created_at, wo.created_by, payload={"kind": wo.kind, "priority": wo.priority}
        )
        if wo.status == "cancelled":
            self.change(wo, "new", "cancelled", wo.cancelled_at, dispatcher)
            return
        if wo.status not in CLOSED_STATUSES:
            self._open_breaches(wo)
            self._checklist_to_fill(wo)
        if wo.status == "new":
            return
        self.change(wo, "new", "scheduled", wo.scheduled_at, dispatcher)
        assert wo.technician is not None and wo.scheduled_at is not None
        self.event(
            wo, "assigned", wo.scheduled_at, dispatcher, payload={"technician": wo.technician.username}
        )
        if wo.status == "scheduled":
            return
        self.change(wo, "scheduled", "dispatched", wo.dispatched_at, dispatcher)
        if wo.status == "dispatched":
            return
        self.change(wo, "dispatched", "en_route", wo.en_route_at, tech)
        if wo.status == "en_route":
            return
        location, distance = self._arrival_point(wo)
        self.change(
            wo, "en_route", "on_site", wo.arrived_at, tech, location=location, distance_from_site_m=distance
        )
        if wo.status == "on_site":
            return
        self.change(wo, "on_site", "in_progress", wo.actual_start, tech)
        if wo.status == "in_progress":
            return
        self._checklist(wo)
        self._parts(wo)
        self.change(wo, "in_progress", "completed", wo.completed_at, tech, location=wo.unit.site.ewkt)
        if wo.response_breached:
            self._breach(wo, "response", wo.sla_response_due)
        if wo.resolution_breached:
            self._breach(wo, "resolution", wo.sla_resolution_due)
        if wo.status == "closed":
            self.change(wo, "completed", "closed", wo.closed_at, dispatcher)
        self._survey(wo)

    def _breach(self, wo: WorkOrderPlan, clock: str, due: datetime | None) -> None:
        """The event tickets.sla_clocks records for a late clock: same time, payload and key."""
        assert due is not None
        breach = sla_breach_event(work_order_id=wo.id, clock=clock, due=due)
        self.events.append(replace(breach, id=self._id("events"), recorded_at=due))

    def _open_breaches(self, wo: WorkOrderPlan) -> None:
        """An open job whose clock ran out before the SLA sweep's last run, as the sweep
        records it; a clock that ran out since waits for the sweep's next run."""
        last_sweep = self.ctx.now - SLA_SWEEP_EVERY
        if wo.sla_response_due and wo.sla_response_due < last_sweep and wo.responded_at is None:
            self._breach(wo, "response", wo.sla_response_due)
        if wo.sla_resolution_due and wo.sla_resolution_due < last_sweep:
            self._breach(wo, "resolution", wo.sla_resolution_due)

    def _arrival_point(self, wo: WorkOrderPlan) -> tuple[str, float]:
        rng = self.ctx.rng
        site = wo.unit.site
        dlon, dlat = (
            rng.uniform(-ARRIVAL_JITTER_DEG, ARRIVAL_JITTER_DEG),
            rng.uniform(-ARRIVAL_JITTER_DEG, ARRIVAL_JITTER_DEG),
        )
        metres = METRES_PER_DEGREE * math.hypot(dlat, dlon * math.cos(math.radians(site.lat)))
        return f"SRID=4326;POINT({site.lon + dlon:.6f} {site.lat + dlat:.6f})", round(metres, 1)

    def _checklist_items(self, wo: WorkOrderPlan) -> tuple[ChecklistItemSpec, ...]:
        """A planned job follows its plan's checklist; an inspection without a plan the one
        for its equipment's kind; repairs have none."""
        if wo.plan is not None and wo.plan.template is not None:
            return CHECKLISTS[wo.plan.template.category][1]
        if wo.kind in ("preventive", "inspection") and wo.unit.model.category in CHECKLISTS:
            return CHECKLISTS[wo.unit.model.category][1]
        return ()

    def _unanswered(self, wo: WorkOrderPlan, position: int, item: ChecklistItemSpec) -> dict[str, Any]:
        label, kind, unit, required, _bounds = item
        return {
            "id": self._id("checklist"),
            "work_order_id": wo.id,
            "position": position,
            "label": label,
            "kind": kind,
            "unit": unit,
            "required": required,
            "result": "",
            "value": None,
            "text": "",
            "answered_at": None,
            "answered_by_id": None,
        }

    def _checklist_to_fill(self, wo: WorkOrderPlan) -> None:
        """An open job carries its checklist unanswered, for the technician app to fill."""
        for position, item in enumerate(self._checklist_items(wo), start=1):
            self.checklist.append(self._unanswered(wo, position, item))

    def _checklist(self, wo: WorkOrderPlan) -> None:
        if wo.plan is None or wo.plan.template is None:
            return
        rng = self.ctx.rng
        assert wo.actual_start is not None and wo.actual_end is not None and wo.technician is not None
        items = CHECKLISTS[wo.plan.template.category][1]
        fail_p = CHECK_FAIL_BASE + CHECK_FAIL_SPAN * (1 - wo.quality)
        span = wo.actual_end - wo.actual_start
        for position, item in enumerate(items, start=1):
            _label, kind, _unit, _required, bounds = item
            failed = rng.random() < fail_p
            row = {
                **self._unanswered(wo, position, item),
                "answered_at": wo.actual_start + span * position / (len(items) + 1),
                "answered_by_id": wo.technician.user_id,
            }
            if kind == "pass_fail":
                row["result"] = "fail" if failed else "pass"
            elif kind == "value" and bounds:
                low, high = bounds
                value = rng.uniform(low, high) + (high - low) * (0.3 if failed else 0.0)
                row["value"], row["result"] = Decimal(f"{value:.4f}"), "fail" if failed else "pass"
            else:
                row["text"] = (
                    "发现异常，已记录并通知客户。" if failed else ("一切正常" if rng.random() < 0.5 else "")
                )
            self.checklist.append(row)
        self.event(
            wo,
            "checklist_answered",
            wo.actual_end - timedelta(minutes=5),
            wo.technician.user_id,
            payload={"items": len(items)},
        )

    def _parts(self, wo: WorkOrderPlan) -> None:
        rng = self.ctx.rng
        catalog = PARTS[wo.unit.model.category]
        if wo.resolution_code == "replaced_part":
            chosen = rng.sample(catalog, rng.randint(1, min(2, len(catalog))))
        elif wo.kind == "preventive" and rng.random() < PM_PART_SHARE:
            chosen = [catalog[0]]
        else:
            return
        assert wo.actual_end is not None and wo.technician is not None
        at = wo.actual_end - timedelta(minutes=10)
        for number, description, cost in chosen:
            quantity = Decimal(rng.choice((1, 1, 1, 2)))
            self.parts.append(
                {
                    "id": self._id("parts"),
                    "work_order_id": wo.id,
                    "part_number": number,
                    "description": description,
                    "quantity": quantity,
                    "unit_cost": cost,
                    "recorded_at": at,
                    "recorded_by_id": wo.technician.user_id,
                }
            )
            self.event(
                wo,
                "part_used",
                at,
                wo.technician.user_id,
                payload={"part_number": number, "quantity": str(quantity)},
            )

    def _survey(self, wo: WorkOrderPlan) -> None:
        rng = self.ctx.rng
        if rng.random() >= SURVEY_SHARE:
            return
        assert wo.completed_at is not None
        submitted = wo.completed_at + timedelta(hours=rng.uniform(*SURVEY_DELAY_HOURS))
        if submitted > self.ctx.now:
            return
        penalty = (
            PENALTY_RESOLUTION * wo.resolution_breached
            + PENALTY_RESPONSE * wo.response_breached
            + PENALTY_REPEAT * (wo.first_time_fix is False)
        )
        csat = round(CSAT_BASE + CSAT_QUALITY * wo.quality + rng.gauss(0, CSAT_NOISE) - penalty)
        nps = round(NPS_BASE + NPS_QUALITY * wo.quality + rng.gauss(0, NPS_NOISE) - 2 * penalty)
        csat, nps = min(5, max(1, csat)), min(10, max(0, nps))
        comment = rng.choice(COMMENTS[csat]) if rng.random() < 0.5 else ""
        self.surveys.append(
            {
                "id": self._id("surveys"),
                "work_order_id": wo.id,
                "csat": csat,
                "nps": nps,
                "comment": comment,
                "submitted_at": submitted,
            }
        )


def chunks(orders: list[WorkOrderPlan]) -> Iterator[list[WorkOrderPlan]]:
    for start in range(0, len(orders), CHUNK_ORDERS):
        yield orders[start : start + CHUNK_ORDERS]


def record_all(ctx: SeedContext, orders: list[WorkOrderPlan]) -> None:
    recorder = Recorder(ctx)
    for chunk in chunks(orders):
        for wo in chunk:
            recorder.record(wo)
        recorder.flush()
