"""Users and the workforce: logins, roles, skills, technicians, shifts, absences."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from fieldservice import roles
from fieldservice.demo import bulk, names
from fieldservice.demo.catalog import SKILL_CODES, SKILLS
from fieldservice.demo.context import TZ, Park, SeedContext, TechRec
from fieldservice.demo.geography import HOME_BASE_RADIUS_KM, PARKS, scatter_in_territory
from fieldservice.models import StaffProfile
from scheduling.models import Absence, PreferredTechnician, Shift, Skill, Technician, TechnicianSkill

DEMO_PASSWORD = "demo"
LOGIN_TECHNICIANS = 40
SHIFT_DAYS = 14
SHIFT_START = time(8, 0)
SHIFT_END = time(17, 0)
SATURDAY = 5
SATURDAY_SHARE = 0.2
ABSENCE_SHARE = 0.08
# Absences start from this day on, so today's and tomorrow's boards are complete.
FIRST_ABSENCE_DAY = 2
MIN_SKILLS, MAX_SKILLS = 2, 4
MIN_TECHNICIANS_PER_SKILL = 2
PREFERRED_SHARE = 0.4
PRIMARY_LEVELS = (2, 3)

# username, first, last, staff, superuser, role, reports_to
STAFF: tuple[tuple[str, str, str, bool, bool, str, str | None], ...] = (
    ("admin", "Admin", "Demo", True, True, roles.ADMIN, None),
    ("director", "建国", "钱", True, False, roles.ACCOUNT_MANAGER, None),
    ("manager", "丽", "周", True, False, roles.ACCOUNT_MANAGER, "director"),
    ("manager2", "Kevin", "Xu", True, False, roles.ACCOUNT_MANAGER, "director"),
    ("manager3", "晓燕", "顾", True, False, roles.ACCOUNT_MANAGER, "director"),
    ("dispatcher", "静", "陈", True, False, roles.DISPATCHER, None),
)


def technician_username(n: int) -> str:
    return f"tech{n:02d}" if n <= LOGIN_TECHNICIANS else f"tech{n:03d}"


def _groups() -> dict[str, Group]:
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    if len(groups) != len(roles.ALL_ROLES):
        raise CommandError("The role groups are missing: run `manage.py migrate` first.")
    return groups


def _create_users(ctx: SeedContext, specs: list[tuple[str, str, str, bool, bool, str]]) -> None:
    user_model = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 per user would dominate
    joined = datetime.combine(ctx.today - timedelta(days=3 * 365), time(9, 0), TZ)
    users = [
        user_model(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@fieldservice.example",
            is_staff=staff,
            is_superuser=superuser,
            password=password,
            date_joined=joined,
        )
        for username, first, last, staff, superuser, _ in specs
    ]
    created = user_model.objects.bulk_create(users)
    groups = _groups()
    through = user_model.groups.through
    through.objects.bulk_create(
        [through(user_id=u.pk, group_id=groups[spec[5]].pk) for u, spec in zip(created, specs, strict=True)]
    )
    ctx.users.update({u.username: u.pk for u in created})
    ctx.count("users", len(created))


def create_staff(ctx: SeedContext) -> None:
    _create_users(ctx, [s[:6] for s in STAFF])
    StaffProfile.objects.bulk_create(
        [
            StaffProfile(
                user_id=ctx.users[username],
                reports_to_id=ctx.users[boss] if boss else None,
                phone=names.mobile(ctx.rng),
                language="zh-hans" if not first.isascii() else "en",
            )
            for username, first, _, _, _, _, boss in STAFF
        ]
    )


def create_skills(ctx: SeedContext) -> dict[str, int]:
    rows = [
        {"id": i, "code": code, "name": name, "description": text}
        for i, (code, name, text) in enumerate(SKILLS, start=1)
    ]
    bulk.copy_rows(Skill, rows)
    return {code: i for i, (code, _, _) in enumerate(SKILLS, start=1)}


def _primary_skills(ctx: SeedContext) -> list[str]:
    """Skills in the installed base at a level a level-2 technician can work, most common first."""
    installed = Counter(
        u.model.skill
        for u in ctx.equipment
        if u.status != "decommissioned" and u.model.level <= PRIMARY_LEVELS[0]
    )
    ranked = sorted(installed, key=lambda code: (-installed[code], code))
    return ranked or list(SKILL_CODES)


def _skill_sets(ctx: SeedContext, n: int) -> list[dict[str, int]]:
    """Every technician's first skill is one the installed base needs, at level 2 or 3."""
    rng = ctx.rng
    primaries = _primary_skills(ctx)
    sets: list[dict[str, int]] = []
    for i in range(n):
        primary = primaries[i % len(primaries)]
        others = [c for c in SKILL_CODES if c != primary]
        extra = rng.sample(others, rng.randint(MIN_SKILLS, MAX_SKILLS) - 1)
        skills = {primary: rng.choice(PRIMARY_LEVELS)}
        skills.update({code: rng.randint(1, 3) for code in extra})
        sets.append(skills)
    coverage = Counter(code for s in sets for code in s)
    for code in SKILL_CODES:  # every skill held by several technicians, one of them at level 3
        while coverage[code] < min(MIN_TECHNICIANS_PER_SKILL, n):
            candidates = [s for s in sets if code not in s and len(s) < MAX_SKILLS]
            target = min(candidates, key=len) if candidates else rng.choice(sets)
            target[code] = 2
            coverage[code] += 1
        holders = [s for s in sets if code in s]
        if max(s[code] for s in holders) < 3:
            holders[0][code] = 3
    return sets


def _crew_the_anchor(ctx: SeedContext, homes: list[Park], skill_sets: list[dict[str, int]]) -> None:
    """The first technician lives in the park of the round-the-clock anchor account
    (customers.create_accounts) and can service its machines, whose sites are open every day:
    whatever day tomorrow is, the optimizer has work it can place (see backlog)."""
    anchor = next((a for a in ctx.accounts if a.keeps_contract), None)
    units = [u for u in ctx.equipment if anchor and u.account is anchor and u.status != "decommissioned"]
    if not units or not homes:
        return
    homes[0] = units[0].site.park
    for unit in units[:2]:
        skill_sets[0][unit.model.skill] = max(skill_sets[0].get(unit.model.skill, 0), unit.model.level)


def create_technicians(ctx: SeedContext) -> None:
    rng = ctx.rng
    n = ctx.scale.technicians
    people = [names.person(rng) for _ in range(n)]
    usernames = [technician_username(i + 1) for i in range(n)]
    _create_users(
        ctx, [(u, p[1], p[0], False, False, roles.TECHNICIAN) for u, p in zip(usernames, people, strict=True)]
    )
    skill_ids = create_skills(ctx)
    sites_per_park = Counter(site.park.key for site in ctx.sites)
    parks = [p for p in PARKS if sites_per_park[p.key]] or list(PARKS)
    # Every park with customers gets a technician first, the rest follow the site density.
    homes = parks[:n] + rng.choices(
        parks, weights=[sites_per_park[p.key] for p in parks], k=max(0, n - len(parks))
    )
    skill_sets = _skill_sets(ctx, n)
    _crew_the_anchor(ctx, homes, skill_sets)
    techs, skill_rows = [], []
    for i in range(n):
        lon, lat, territory_id = scatter_in_territory(
            rng, homes[i], HOME_BASE_RADIUS_KM, ctx.territory_shapes
        )
        tech = TechRec(
            id=i + 1,
            user_id=ctx.users[usernames[i]],
            username=usernames[i],
            full_name=people[i][0] + people[i][1],
            skills=skill_sets[i],
            lon=lon,
            lat=lat,
            territory_id=territory_id,
            park=homes[i],
        )
        techs.append(tech)
        skill_rows += [
            {"technician_id": tech.id, "skill_id": skill_ids[code], "level": level}
            for code, level in sorted(tech.skills.items())
        ]
    created = datetime.combine(ctx.today - timedelta(days=3 * 365), time(9, 0), TZ)
    bulk.copy_rows(
        Technician,
        [
            {
                "id": t.id,
                "user_id": t.user_id,
                "employee_code": f"FS-{t.id:04d}",
                "phone": names.mobile(rng),
                "home_base": t.ewkt,
                "home_address": names.street_address(rng, t.park),
                "territory_id": t.territory_id,
                "time_zone": "Asia/Shanghai",
                "created_at": created,
            }
            for t in techs
        ],
    )
    bulk.copy_rows(TechnicianSkill, [{"id": i, **row} for i, row in enumerate(skill_rows, start=1)])
    ctx.technicians = techs
    ctx.count("technicians", n)
    ctx.count("technician skills", len(skill_rows))
    _create_shifts(ctx)


def _shift_days(ctx: SeedContext, works_saturday: bool) -> list[date]:
    days = [ctx.today + timedelta(days=d) for d in range(SHIFT_DAYS)]
    # Today and tomorrow are working days for everyone, even on a weekend, so the dispatch
    # board and the optimizer always have a full crew to plan.
    return [
        d
        for i, d in enumerate(days)
        if i < FIRST_ABSENCE_DAY or d.weekday() < SATURDAY or (d.weekday() == SATURDAY and works_saturday)
    ]


def _create_shifts(ctx: SeedContext) -> None:
    rng = ctx.rng
    shifts: list[dict[str, object]] = []
    absences: list[dict[str, object]] = []
    for tech in ctx.technicians:
        for day in _shift_days(ctx, rng.random() < SATURDAY_SHARE):
            shifts.append(
                {
                    "id": len(shifts) + 1,
                    "technician_id": tech.id,
                    "date": day,
                    "starts_at": ctx.at(day, SHIFT_START),
                    "ends_at": ctx.at(day, SHIFT_END),
                }
            )
        if rng.random() < ABSENCE_SHARE:
            first = ctx.today + timedelta(days=rng.randint(FIRST_ABSENCE_DAY, SHIFT_DAYS - 3))
            last = first + timedelta(days=rng.randint(0, 2))
            absences.append(
                {
                    "id": len(absences) + 1,
                    "technician_id": tech.id,
                    "starts_at": ctx.at(first, SHIFT_START),
                    "ends_at": ctx.at(last, SHIFT_END),
                    "reason": rng.choice(("vacation", "sick", "training")),
                }
            )
    ctx.count("shifts", bulk.copy_rows(Shift, shifts))
    ctx.count("absences", bulk.copy_rows(Absence, absences))


def create_preferred_technicians(ctx: SeedContext) -> None:
    rng = ctx.rng
    rows: list[dict[str, object]] = []
    for account in ctx.accounts:
        if rng.random() >= PREFERRED_SHARE or not account.sites:
            continue
        territory = account.sites[0].territory_id
        local = [t for t in ctx.technicians if t.territory_id == territory] or ctx.technicians
        chosen = rng.sample(local, min(len(local), rng.randint(1, 2)))
        ctx.preferred[account.id] = chosen
        for rank, tech in enumerate(chosen, start=1):
            rows.append(
                {"id": len(rows) + 1, "account_id": account.id, "technician_id": tech.id, "rank": rank}
            )
    ctx.count("preferred technicians", bulk.copy_rows(PreferredTechnician, rows))
