"""Technicians: the login (a Django user in the technician role) and the workforce record.

The file never carries a password. A new login gets an unusable one: an admin then sets a
first password in the back office (Users → the user → "Set password"; the project has no
self-service password reset) and hands it over, to be changed by the technician. An
existing user is taken over only if it is nobody's technician yet and not staff: a staff
login must not also become a technician's phone login by way of a spreadsheet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice import roles
from importing import cells
from importing.cells import CellError, Column
from importing.kinds.base import EXTERNAL_ID, Kind, Plan, Progress, any_of, no_progress
from importing.reading import Row
from importing.validation import refuse_repeats
from scheduling.models import Skill, Technician, TechnicianSkill, Territory

User = get_user_model()
USER_COLUMNS = {
    "username": "username",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
}


def username(value: str) -> str:
    try:
        UnicodeUsernameValidator()(value)
    except ValidationError:
        raise CellError(
            _("%(value)s is not a username (letters, digits and @ . + - _ only)")
            % {"value": cells.quoted(value)}
        ) from None
    return value


class TechnicianKind(Kind[Technician]):
    name = "technicians"
    label = gettext_lazy("Technicians")
    model = Technician
    columns = (
        EXTERNAL_ID,
        Column("employee_code", cells.text, required=True, blank=False, max_chars=32),
        Column(
            "username",
            username,
            required=True,
            blank=False,
            max_chars=150,
            help=gettext_lazy("The technician's login; a new one gets no usable password."),
        ),
        Column("first_name", cells.text, max_chars=150),
        Column("last_name", cells.text, max_chars=150),
        Column("email", cells.email, max_chars=254),
        Column("phone", cells.text, max_chars=40),
        Column("home_base_lat", cells.latitude, required=True, blank=False, max_chars=32),
        Column("home_base_lon", cells.longitude, required=True, blank=False, max_chars=32),
        Column("home_address", cells.text, max_chars=300),
        Column("territory", cells.text, max_chars=100, help=gettext_lazy("Name of an existing territory.")),
        Column("time_zone", cells.time_zone, max_chars=64),
        Column("active", cells.boolean, max_chars=5),
        Column(
            "skills",
            cells.code_levels,
            max_chars=500,
            help=gettext_lazy("Existing skill codes with a level of 1-3, such as compressor:2;hvac:1"),
        ),
    )
    copied = {
        "external_id": "external_id",
        "employee_code": "employee_code",
        "phone": "phone",
        "home_address": "home_address",
        "time_zone": "time_zone",
        "active": "active",
    }

    def existing_queryset(self) -> Any:
        return Technician.objects.select_related("user")

    def load_references(self, rows: Sequence[Row]) -> None:
        self.in_file = {row.external_id for row in rows if row.external_id}
        usernames = [row.values["username"] for row in rows if row.has("username")]
        # username -> (pk, is_staff or superuser, external id of its technician or "" if it has one without)
        self.users: dict[str, tuple[int, bool, str | None]] = {}
        for name, pk, staff, superuser, tech_pk, tech_external_id in User.objects.filter(
            username__in=any_of(usernames)
        ).values_list(
            "username", "pk", "is_staff", "is_superuser", "technician__pk", "technician__external_id"
        ):
            holder = None if tech_pk is None else (tech_external_id or "")
            self.users[name] = (pk, staff or superuser, holder)
        codes = [row.values["employee_code"] for row in rows if row.has("employee_code")]
        self.code_holders: dict[str, str | None] = dict(
            Technician.objects.filter(employee_code__in=any_of(codes)).values_list(
                "employee_code", "external_id"
            )
        )
        self.skills = dict(Skill.objects.values_list("code", "pk"))
        self.territories = dict(Territory.objects.values_list("name", "pk"))
        self.group = Group.objects.get(name=roles.TECHNICIAN)
        user_ids = [tech.user_id for tech in self.existing.values()]
        self.in_group = set(
            User.groups.through.objects.filter(user_id__in=user_ids, group=self.group).values_list(
                "user_id", flat=True
            )
        )
        # technician pk -> {skill pk: (row pk, level)}
        self.current_skills: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
        for pk, technician_id, skill_id, level in TechnicianSkill.objects.filter(
            technician_id__in=[tech.pk for tech in self.existing.values()]
        ).values_list("pk", "technician_id", "skill_id", "level"):
            self.current_skills[technician_id][skill_id] = (pk, level)

    def check_row(self, row: Row) -> None:
        self._check_username(row)
        if row.has("employee_code"):
            holder = self.code_holders.get(row.values["employee_code"], row.external_id)
            if holder != row.external_id and (holder is None or holder not in self.in_file):
                row.refuse("employee_code", _("another technician has this employee code"))
        if row.has("territory") and row.values["territory"] not in self.territories:
            row.refuse(
                "territory",
                _("no territory is named %(value)s") % {"value": cells.quoted(row.values["territory"])},
            )
        unknown = sorted(set(row.values.get("skills") or {}) - set(self.skills))
        if unknown:
            row.refuse(
                "skills",
                _("unknown skill codes: %(unknown)s (the skills are: %(known)s)")
                % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(self.skills)) or _("none yet")},
            )

    def _check_username(self, row: Row) -> None:
        if not row.has("username") or row.values["username"] not in self.users:
            return  # a new login
        _pk, staff, holder = self.users[row.values["username"]]
        current = self.existing.get(row.external_id)
        if current is not None and current.user.username == row.values["username"]:
            return
        if holder is not None:
            # Even if that technician moves to another username in this same file: logins
            # change hands in the back office, one at a time, not by a swap in a spreadsheet.
            row.refuse("username", _("this login already belongs to another technician"))
        elif staff:
            row.refuse("username", _("this is a staff login; a technician needs a login of their own"))

    def check_rows(self, rows: Sequence[Row]) -> None:
        for column in ("username", "employee_code"):
            refuse_repeats(
                rows,
                column=column,
                key=lambda row, column=column: row.values[column] if row.has(column) else None,  # type: ignore[misc]
                reason=_("%(value)s is also on line %(lines)s"),
            )

    # --- values ----------------------------------------------------------------------------

    def derived_values(self, row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {
            "home_base": Point(row.values["home_base_lon"], row.values["home_base_lat"], srid=4326)
        }
        if "territory" in row.cells:
            territory = row.values.get("territory")
            values["territory_id"] = self.territories[territory] if territory else None
        return values

    def _user_values(self, row: Row) -> dict[str, Any]:
        return {
            attname: row.values.get(column) or ""
            for column, attname in USER_COLUMNS.items()
            if column in row.cells
        }

    def _wanted_skills(self, row: Row) -> dict[int, int] | None:
        if "skills" not in row.cells:
            return None
        return {self.skills[code]: level for code, level in (row.values.get("skills") or {}).items()}

    def related_changed(self, row: Row, obj: Technician | None) -> bool:
        if obj is None:
            return False
        user = obj.user
        wanted_skills = self._wanted_skills(row)
        current_skills = {skill: level for skill, (_pk, level) in self.current_skills[obj.pk].items()}
        return (
            any(getattr(user, attname) != value for attname, value in self._user_values(row).items())
            or user.pk not in self.in_group
            or (wanted_skills is not None and wanted_skills != current_skills)
        )

    # --- writing ---------------------------------------------------------------------------

    def write(self, plan: Plan[Technician], progress: Progress = no_progress) -> None:
        new_users = []
        changed_users = []
        for row, tech in plan.creates:
            values = self._user_values(row)
            known = self.users.get(values["username"])
            if known is None:
                user = User(**values, password=make_password(None))  # unusable: see the module docstring
                new_users.append((tech, user))
            else:
                user = User.objects.get(pk=known[0])  # taking over a login is rare: one query is fine
                changed_users.append(user)
                for attname, value in values.items():
                    setattr(user, attname, value)
                tech.user_id = user.pk
        for row, tech, _changed in plan.updates:
            user = tech.user
            values = self._user_values(row)
            if any(getattr(user, attname) != value for attname, value in values.items()):
                for attname, value in values.items():
                    setattr(user, attname, value)
                changed_users.append(user)
        User.objects.bulk_create([user for _tech, user in new_users])
        for tech, user in new_users:
            tech.user_id = user.pk
        if changed_users:
            User.objects.bulk_update(changed_users, list(USER_COLUMNS.values()))
        members = [tech.user_id for _row, tech in plan.creates] + [
            tech.user_id for _row, tech, _c in plan.updates
        ]
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=pk, group_id=self.group.pk) for pk in members], ignore_conflicts=True
        )
        super().write(plan, progress)

    def write_related(self, plan: Plan[Technician]) -> None:
        dropped: list[int] = []
        added: list[TechnicianSkill] = []
        relevelled: list[TechnicianSkill] = []
        rows = [(row, tech) for row, tech in plan.creates] + [(row, tech) for row, tech, _c in plan.updates]
        for row, tech in rows:
            wanted = self._wanted_skills(row)
            if wanted is None:
                continue
            current = self.current_skills[tech.pk]
            dropped += [pk for skill, (pk, _level) in current.items() if skill not in wanted]
            for skill, level in wanted.items():
                if skill not in current:
                    added.append(TechnicianSkill(technician_id=tech.pk, skill_id=skill, level=level))
                elif current[skill][1] != level:
                    relevelled.append(TechnicianSkill(pk=current[skill][0], level=level))
        TechnicianSkill.objects.filter(pk__in=dropped).delete()
        TechnicianSkill.objects.bulk_create(added)
        TechnicianSkill.objects.bulk_update(relevelled, ["level"])
