"""Small builders for test data: each makes a valid row with sensible defaults.

Keyword arguments override any field, so a test states only what it is about. Default dates
come from the business clock (the suite pins it; a test may pin its own): a contract runs a
year around today, equipment was installed years ago, a plan is anchored on 1 January of this
year. A test whose outcome depends on a date states that date, or pins its clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from assets.models import Account, Contact, Equipment, EquipmentModel, MaintenancePlan, Site
from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract
from fieldservice import clock
from scheduling.models import Shift, Skill, Technician, TechnicianSkill, Territory
from tickets.models import WorkOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
_counter = itertools.count(1)


def _next() -> int:
    return next(_counter)


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def one_year_term(*, start: dt.date | None = None, end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """A one-year term from `start` or to `end`; with neither, one that began on the first of
    a month six or seven months ago, so it covers today with months to spare either side."""
    day = dt.timedelta(days=1)
    if start is None and end is not None:
        return _years_from(end + day, -1), end
    start = start or (clock.today() - dt.timedelta(days=183)).replace(day=1)
    return start, end or _years_from(start, 1) - day


def user(*, username: str | None = None, role: str | None = None, **fields: Any) -> User:
    person = User.objects.create_user(username=username or f"user{_next()}", password="demo", **fields)
    if role:
        person.groups.add(Group.objects.get(name=role))
    return person


def account(**fields: Any) -> Account:
    defaults: dict[str, Any] = {
        "name": f"苏州精密电子有限公司 {_next()}",
        "industry": Account.Industry.ELECTRONICS_ASSEMBLY,
        "annual_contract_value": Decimal("120000.00"),
    }
    return Account.objects.create(**{**defaults, **fields})


def site(*, account: Account | None = None, lat: float = 31.32, lon: float = 120.72, **fields: Any) -> Site:
    defaults: dict[str, Any] = {
        "name": f"Plant {_next()}",
        "address": "苏州工业园区星湖街328号",
        "city": "Suzhou",
        "location": Point(lon, lat, srid=4326),
    }
    return Site.objects.create(account=account or globals()["account"](), **{**defaults, **fields})


def contact(*, site: Site, **fields: Any) -> Contact:
    defaults: dict[str, Any] = {
        "name": "王伟",
        "email": f"wang{_next()}@example.com",
        "phone": "+86 512 0000",
    }
    return Contact.objects.create(account=site.account, site=site, **{**defaults, **fields})


def equipment_model(**fields: Any) -> EquipmentModel:
    defaults: dict[str, Any] = {
        "manufacturer": "Atlas Copco",
        "model_number": f"GA{_next()}",
        "name": "Rotary screw compressor",
        "category": EquipmentModel.Category.COMPRESSOR,
        "required_skill": "compressor",
    }
    return EquipmentModel.objects.create(**{**defaults, **fields})


def equipment(*, site: Site | None = None, model: EquipmentModel | None = None, **fields: Any) -> Equipment:
    model = model or equipment_model()
    defaults: dict[str, Any] = {
        "serial_number": f"SN{_next():06d}",
        "install_date": dt.date(clock.today().year - 6, 1, 1),
    }
    return Equipment.objects.create(
        site=site or globals()["site"](),
        equipment_model=model,
        manufacturer=model.manufacturer,
        **{**defaults, **fields},
    )


def calendar_plan(*, equipment: Equipment, **fields: Any) -> MaintenancePlan:
    defaults: dict[str, Any] = {
        "name": "Quarterly service",
        "trigger": MaintenancePlan.Trigger.CALENDAR,
        "interval_days": 90,
        "anchor_date": dt.date(clock.today().year, 1, 1),
        "required_skill": "compressor",
    }
    return MaintenancePlan.objects.create(equipment=equipment, **{**defaults, **fields})


def contract(*, account: Account, covers: Sequence[Equipment] = (), **fields: Any) -> ServiceContract:
    """An active contract with the usual SLA terms; its term is `one_year_term` of the
    start or end date given (both: as given)."""
    start, end = one_year_term(start=fields.pop("start_date", None), end=fields.pop("end_date", None))
    defaults: dict[str, Any] = {
        "number": f"SC-{start.year}-{_next():04d}",
        "start_date": start,
        "end_date": end,
        "annual_value": Decimal("100000.00"),
        "status": ServiceContract.Status.ACTIVE,
    }
    created = ServiceContract.objects.create(account=account, **{**defaults, **fields})
    for priority, (response, resolution) in {1: (4, 24), 2: (8, 48), 3: (24, 120), 4: (72, 240)}.items():
        ContractSLATerm.objects.create(
            contract=created, priority=priority, response_hours=response, resolution_hours=resolution
        )
    for unit in covers:
        CoveredEquipment.objects.create(contract=created, equipment=unit)
    return created


def skill(code: str = "compressor") -> Skill:
    return Skill.objects.get_or_create(code=code, defaults={"name": code.title()})[0]


def territory(name: str = "Suzhou", **fields: Any) -> Territory:
    square = Polygon(((120.0, 31.0), (121.0, 31.0), (121.0, 32.0), (120.0, 32.0), (120.0, 31.0)))
    return Territory.objects.create(name=name, boundary=MultiPolygon(square, srid=4326), **fields)


def technician(
    *, person: User | None = None, skills: dict[str, int] | None = None, **fields: Any
) -> Technician:
    person = person or user(role="technician")
    defaults: dict[str, Any] = {
        "employee_code": f"T{_next():04d}",
        "home_base": Point(120.62, 31.30, srid=4326),
    }
    tech = Technician.objects.create(user=person, **{**defaults, **fields})
    for code, level in (skills or {"compressor": 2}).items():
        TechnicianSkill.objects.create(technician=tech, skill=skill(code), level=level)
    return tech


def shift(*, technician: Technician, date: dt.date, start: str = "08:00", end: str = "17:00") -> Shift:
    def at(clock: str) -> dt.datetime:
        return dt.datetime.combine(date, dt.time.fromisoformat(clock), tzinfo=SHANGHAI)

    return Shift.objects.create(technician=technician, date=date, starts_at=at(start), ends_at=at(end))


def work_order(*, site: Site | None = None, **fields: Any) -> WorkOrder:
    site = site or globals()["site"]()
    defaults: dict[str, Any] = {
        "number": f"WO-{clock.today().year}-{_next():06d}",
        "kind": WorkOrder.Kind.CORRECTIVE,
        "title": "Compressor trips on high temperature",
        "account": site.account,
    }
    return WorkOrder.objects.create(site=site, **{**defaults, **fields})
