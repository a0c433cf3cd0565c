"""Equipment models, checklists, the installed base, meter readings and maintenance plans."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from assets.models import ChecklistTemplate, Equipment, EquipmentModel, MaintenancePlan, MeterReading
from fieldservice.demo import bulk
from fieldservice.demo.catalog import (
    CATEGORY_MIX,
    CHECKLISTS,
    COMPONENTS,
    EQUIPMENT_MODELS,
    METER_INTERVAL_HOURS,
    METERED_USAGE,
)
from fieldservice.demo.context import EquipmentRec, ModelSpec, PlanRec, SeedContext, SiteRec, TemplateSpec

MAIN_UNIT_SHARE = 0.92  # the rest of the scale's equipment count are components
COMPONENT_SHARE = 0.25
INSTALL_YEARS = (1, 12)
WARRANTY_YEARS = (1, 3)
DECOMMISSIONED_SHARE = 0.02
CRITICALITY_WEIGHTS = (15, 40, 30, 15)
# Current condition follows the account's service quality: P(down) = a + b * (1 - q).
DOWN_PROBABILITY = (0.004, 0.02)
DEGRADED_PROBABILITY = (0.02, 0.06)
METER_PLAN_SHARE = 0.5
FLOATING_SHARE = 0.3
INSPECTION_PLAN_SHARE = 0.2
INSPECTION_INTERVAL_DAYS = 365
INSPECTION_MINUTES = 60
PLAN_INTERVALS: dict[str, tuple[int, ...]] = {
    "cnc": (90, 180),
    "compressor": (90, 180),
    "chiller": (180, 365),
    "cleanroom_hvac": (90, 180),
    "smt": (90, 180),
    "ups": (180, 365),
    "lab_instrument": (180, 365),
    "other": (180, 365),
}
PLAN_MINUTES: dict[str, int] = {
    "cnc": 120,
    "compressor": 90,
    "chiller": 240,
    "cleanroom_hvac": 180,
    "smt": 240,
    "ups": 120,
    "lab_instrument": 150,
    "other": 60,
}
READING_HOUR = time(10, 0)
READING_JITTER = (0.97, 1.03)
SERIAL_START = (1_000, 5_000)
SERIAL_STEP = (1, 40)


def create_catalog(ctx: SeedContext) -> None:
    specs = list(EQUIPMENT_MODELS) + sorted(COMPONENTS.values())
    ctx.models = [ModelSpec(i, *spec) for i, spec in enumerate(specs, start=1)]
    created = ctx.at(ctx.window_start - timedelta(days=365), time(9, 0))
    bulk.copy_rows(
        EquipmentModel,
        [
            {
                "id": m.id,
                "manufacturer": m.manufacturer,
                "model_number": m.model_number,
                "name": m.name,
                "category": m.category,
                "required_skill": m.skill,
                "required_skill_level": m.level,
                "created_at": created,
            }
            for m in ctx.models
        ],
    )
    for i, (category, (name, items)) in enumerate(sorted(CHECKLISTS.items()), start=1):
        payload = [
            {"label": label, "kind": kind, "unit": unit, "required": required}
            for label, kind, unit, required, _ in items
        ]
        ctx.templates[category] = TemplateSpec(i, name, category, payload)
    bulk.copy_rows(
        ChecklistTemplate,
        [
            {"id": t.id, "name": t.name, "items": t.items, "created_at": created}
            for t in ctx.templates.values()
        ],
    )
    ctx.count("equipment models", len(ctx.models))
    ctx.count("checklist templates", len(ctx.templates))


def _years_ago(ctx: SeedContext, low: int, high: int) -> date:
    return ctx.today - timedelta(days=ctx.rng.randint(low * 365, high * 365))


def create_equipment(ctx: SeedContext) -> None:
    rng = ctx.rng
    mains = max(len(ctx.sites), round(ctx.scale.equipment * MAIN_UNIT_SHARE))
    counts = [1] * len(ctx.sites)
    weights = [{"strategic": 3, "key": 2, "standard": 1}[s.account.tier] for s in ctx.sites]
    for i in rng.choices(range(len(ctx.sites)), weights=weights, k=mains - len(counts)):
        counts[i] += 1
    by_category: dict[str, list[ModelSpec]] = {}
    for m in ctx.models[: len(EQUIPMENT_MODELS)]:
        by_category.setdefault(m.category, []).append(m)
    component_models = {
        cat: next(m for m in ctx.models if (m.manufacturer, m.model_number) == spec[:2])
        for cat, spec in COMPONENTS.items()
    }
    serials: dict[str, int] = {}
    tags: dict[int, int] = {}

    def add(site: SiteRec, model: ModelSpec, installed: date, parent: EquipmentRec | None) -> EquipmentRec:
        serials[model.manufacturer] = serials.get(
            model.manufacturer, rng.randint(*SERIAL_START)
        ) + rng.randint(*SERIAL_STEP)
        quality = site.account.quality_at(ctx.today, ctx.window_start)
        draw = rng.random()
        decommissioned = None
        if parent is None and draw < DECOMMISSIONED_SHARE:
            status = "decommissioned"
            decommissioned = max(installed + timedelta(days=30), ctx.window_start) + timedelta(
                days=rng.randint(0, 600)
            )
            decommissioned = min(decommissioned, ctx.today - timedelta(days=1))
        elif draw < DECOMMISSIONED_SHARE + DOWN_PROBABILITY[0] + DOWN_PROBABILITY[1] * (1 - quality):
            status = "down"
        elif rng.random() < DEGRADED_PROBABILITY[0] + DEGRADED_PROBABILITY[1] * (1 - quality):
            status = "degraded"
        else:
            status = "operational"
        usage = METERED_USAGE.get(model.category)
        unit = EquipmentRec(
            id=len(ctx.equipment) + 1,
            site=site,
            model=model,
            serial=f"{model.serial_prefix}{installed.year % 100:02d}{serials[model.manufacturer]:06d}",
            install_date=installed,
            status=status,
            parent_id=parent.id if parent else None,
            criticality=parent.criticality
            if parent
            else rng.choices((1, 2, 3, 4), weights=CRITICALITY_WEIGHTS)[0],
            usage_per_day=round(rng.uniform(*usage), 2) if usage and parent is None else None,
            decommissioned_on=decommissioned,
        )
        ctx.equipment.append(unit)
        site.account.equipment.append(unit)
        return unit

    for site, count in zip(ctx.sites, counts, strict=True):
        mix = CATEGORY_MIX[site.account.industry]
        for _ in range(count):
            category = rng.choices(list(mix), weights=list(mix.values()))[0]
            unit = add(site, rng.choice(by_category[category]), _years_ago(ctx, *INSTALL_YEARS), None)
            if category in component_models and rng.random() < COMPONENT_SHARE:
                add(site, component_models[category], unit.install_date, unit)
    rows = []
    for unit in ctx.equipment:
        tags[unit.account.id] = tags.get(unit.account.id, 0) + 1
        warranty = unit.install_date + timedelta(days=365 * rng.randint(*WARRANTY_YEARS))
        rows.append(
            {
                "id": unit.id,
                "site_id": unit.site.id,
                "equipment_model_id": unit.model.id,
                "manufacturer": unit.model.manufacturer,
                "serial_number": unit.serial,
                "asset_tag": f"{unit.account.code}-{tags[unit.account.id]:04d}",
                "parent_id": unit.parent_id,
                "install_date": unit.install_date,
                "warranty_end": warranty,
                "status": unit.status,
                "criticality": unit.criticality,
                "average_daily_usage": Decimal(str(unit.usage_per_day)) if unit.usage_per_day else None,
                "created_at": ctx.at(unit.install_date, time(9, 0)),
            }
        )
    ctx.count("equipment", bulk.copy_rows(Equipment, rows))
    ctx.count("meter readings", bulk.copy_rows(MeterReading, _meter_readings(ctx)))
    _create_plans(ctx)


def _meter_readings(ctx: SeedContext) -> list[dict[str, object]]:
    """Monthly operating hours over the history window; values only ever increase."""
    rng = ctx.rng
    rows: list[dict[str, object]] = []
    for unit in ctx.equipment:
        if unit.usage_per_day is None:
            continue
        last_day = unit.decommissioned_on or ctx.today - timedelta(days=1)
        day = max(unit.install_date + timedelta(days=1), ctx.window_start).replace(day=1) + timedelta(days=32)
        day = day.replace(day=1)
        hours = unit.usage_per_day * (day - unit.install_date).days
        previous = day
        while day <= last_day:
            hours += unit.usage_per_day * (day - previous).days * rng.uniform(*READING_JITTER)
            rows.append(
                {
                    "id": len(rows) + 1,
                    "equipment_id": unit.id,
                    "kind": "operating_hours",
                    "value": Decimal(f"{hours:.2f}"),
                    "read_at": ctx.at(day, READING_HOUR),
                    "source": "telemetry" if rng.random() < 0.5 else "import",
                }
            )
            previous = day
            day = (day + timedelta(days=32)).replace(day=1)
    return rows


def _create_plans(ctx: SeedContext) -> None:
    rng = ctx.rng
    for unit in ctx.equipment:
        if unit.parent_id is not None:
            continue
        category = unit.model.category
        template = ctx.templates[category]
        active = unit.status != "decommissioned"
        anchor = unit.install_date + timedelta(days=rng.randint(0, 30))
        if category in METER_INTERVAL_HOURS and rng.random() < METER_PLAN_SHARE:
            interval = METER_INTERVAL_HOURS[category]
            unit.plans.append(
                PlanRec(
                    id=len(ctx.plans) + 1,
                    equipment=unit,
                    name=f"{unit.model.name} {interval:.0f} h service",
                    trigger="meter",
                    schedule="floating",
                    interval_days=None,
                    anchor_date=None,
                    meter_interval=interval,
                    template=template,
                    skill=unit.model.skill,
                    level=unit.model.level,
                    minutes=PLAN_MINUTES[category],
                    active=active,
                )
            )
        else:
            days = rng.choice(PLAN_INTERVALS[category])
            unit.plans.append(
                PlanRec(
                    id=len(ctx.plans) + 1,
                    equipment=unit,
                    name=f"{unit.model.name} {days}-day PM",
                    trigger="calendar",
                    schedule="floating" if rng.random() < FLOATING_SHARE else "fixed",
                    interval_days=days,
                    anchor_date=anchor,
                    meter_interval=None,
                    template=template,
                    skill=unit.model.skill,
                    level=unit.model.level,
                    minutes=PLAN_MINUTES[category],
                    active=active,
                )
            )
        ctx.plans.append(unit.plans[-1])
        if rng.random() < INSPECTION_PLAN_SHARE:
            unit.plans.append(
                PlanRec(
                    id=len(ctx.plans) + 1,
                    equipment=unit,
                    name=f"Annual safety inspection {unit.serial}",
                    trigger="calendar",
                    schedule="fixed",
                    interval_days=INSPECTION_INTERVAL_DAYS,
                    anchor_date=anchor + timedelta(days=rng.randint(30, 200)),
                    meter_interval=None,
                    template=None,
                    skill=unit.model.skill,
                    level=1,
                    minutes=INSPECTION_MINUTES,
                    active=active,
                )
            )
            ctx.plans.append(unit.plans[-1])
    rows = [
        {
            "id": p.id,
            "equipment_id": p.equipment.id,
            "name": p.name,
            "trigger": p.trigger,
            "schedule": p.schedule,
            "interval_days": p.interval_days,
            "anchor_date": p.anchor_date,
            "meter_kind": "operating_hours" if p.trigger == "meter" else "",
            "meter_interval": p.meter_interval,
            "checklist_template_id": p.template.id if p.template else None,
            "required_skill": p.skill,
            "required_skill_level": p.level,
            "estimated_minutes": p.minutes,
            "active": p.active,
            "created_at": ctx.at(p.equipment.install_date, time(9, 0)),
        }
        for p in ctx.plans
    ]
    ctx.count("maintenance plans", bulk.copy_rows(MaintenancePlan, rows))
