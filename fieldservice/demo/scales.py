"""How much data each scale creates: one table, one row per scale."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    accounts: int
    sites: int
    equipment: int
    technicians: int
    history_work_orders: int
    open_work_orders: int
    # Jobs assigned to every technician on each of today and tomorrow (the dispatch board).
    assigned_jobs_per_day: int = 2


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale(
            "small",
            accounts=8,
            sites=15,
            equipment=80,
            technicians=6,
            history_work_orders=600,
            open_work_orders=40,
        ),
        Scale(
            "demo",
            accounts=150,
            sites=400,
            equipment=4_000,
            technicians=40,
            history_work_orders=30_000,
            open_work_orders=250,
        ),
        Scale(
            "large",
            accounts=1_500,
            sites=4_000,
            equipment=40_000,
            technicians=400,
            history_work_orders=300_000,
            open_work_orders=2_500,
        ),
    )
}
