"""The state shared by the seeding stages: the random source, the clock and what exists.

Rows are written with ids chosen here (1, 2, 3... after TRUNCATE ... RESTART IDENTITY), so
the stages can link rows without reading them back and the ids themselves are
deterministic. Users are the exception: they are created through the ORM because other,
non-demo users may share the table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fieldservice.demo.scales import Scale

TZ = ZoneInfo("Asia/Shanghai")
TIME_ZONE_NAME = "Asia/Shanghai"
HISTORY_DAYS = 730


@dataclass(slots=True, eq=False)
class Park:
    key: str
    name_en: str
    name_zh: str
    city_en: str
    city_zh: str
    lat: float
    lon: float
    area_code: str
    streets: tuple[str, ...]
    territory: str


@dataclass(slots=True, eq=False)
class AccountRec:
    id: int
    name: str
    industry: str
    tier: str
    park: Park
    code: str
    domain: str
    manager_id: int
    # Latent service quality in [0, 1] at the start of the history window, and its drift
    # per year; see fieldservice.demo.history for everything it drives.
    quality: float
    quality_trend: float
    contracted: bool
    created_at: datetime
    # Always renews (the demo's round-the-clock anchor, see customers.create_accounts).
    keeps_contract: bool = False
    sites: list[SiteRec] = field(default_factory=list)
    equipment: list[EquipmentRec] = field(default_factory=list)
    contracts: list[ContractRec] = field(default_factory=list)
    churned_on: date | None = None
    annual_contract_value: Decimal = Decimal("0.00")

    def quality_at(self, day: date, window_start: date) -> float:
        years = (day - window_start).days / 365.0
        return min(1.0, max(0.0, self.quality + self.quality_trend * years))


@dataclass(slots=True, eq=False)
class SiteRec:
    id: int
    account: AccountRec
    name: str
    park: Park
    lon: float
    lat: float
    territory_id: int
    opens: time
    closes: time
    weekdays: list[int]

    @property
    def ewkt(self) -> str:
        return f"SRID=4326;POINT({self.lon:.6f} {self.lat:.6f})"

    def open_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays


@dataclass(slots=True, eq=False)
class ModelSpec:
    id: int
    manufacturer: str
    model_number: str
    name: str
    category: str
    skill: str
    level: int
    serial_prefix: str


@dataclass(slots=True, eq=False)
class TemplateSpec:
    id: int
    name: str
    category: str
    items: list[dict[str, object]]


@dataclass(slots=True, eq=False)
class PlanRec:
    id: int
    equipment: EquipmentRec
    name: str
    trigger: str
    schedule: str
    interval_days: int | None
    anchor_date: date | None
    meter_interval: Decimal | None
    template: TemplateSpec | None
    skill: str
    level: int
    minutes: int
    active: bool
    # The first due date on or after the seeded day (set by the history stage).
    next_due: date | None = None


@dataclass(slots=True, eq=False)
class EquipmentRec:
    id: int
    site: SiteRec
    model: ModelSpec
    serial: str
    install_date: date
    criticality: int
    status: str
    parent_id: int | None
    usage_per_day: float | None
    decommissioned_on: date | None
    plans: list[PlanRec] = field(default_factory=list)
    covered: bool = True

    @property
    def account(self) -> AccountRec:
        return self.site.account


@dataclass(slots=True, eq=False)
class ContractRec:
    id: int
    account: AccountRec
    start: date
    end: date
    term_years: int
    status: str
    calendar: str
    annual_value: Decimal
    auto_renew: bool
    notice_days: int
    uplift: Decimal
    version: int
    predecessor: ContractRec | None = None
    number: str = ""
    # {priority: (response hours, resolution hours)}
    terms: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    covered_ids: set[int] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class TechRec:
    id: int
    user_id: int
    username: str
    full_name: str
    skills: dict[str, int]
    lon: float
    lat: float
    territory_id: int
    park: Park

    @property
    def ewkt(self) -> str:
        return f"SRID=4326;POINT({self.lon:.6f} {self.lat:.6f})"


@dataclass
class SeedContext:
    """`now` is the seeded instant: the world is as it stands then, whatever the hour (today's
    jobs done, under way or still ahead); nothing in it happens later."""

    seed: int
    scale: Scale
    now: datetime
    rng: random.Random
    users: dict[str, int] = field(default_factory=dict)
    territories: dict[str, int] = field(default_factory=dict)
    territory_shapes: dict[int, object] = field(default_factory=dict)
    accounts: list[AccountRec] = field(default_factory=list)
    sites: list[SiteRec] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)
    templates: dict[str, TemplateSpec] = field(default_factory=dict)
    equipment: list[EquipmentRec] = field(default_factory=list)
    plans: list[PlanRec] = field(default_factory=list)
    contracts: list[ContractRec] = field(default_factory=list)
    technicians: list[TechRec] = field(default_factory=list)
    preferred: dict[int, list[TechRec]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(TZ).date()

    @property
    def window_start(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, TZ)

    def count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
