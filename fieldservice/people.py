"""Who staff are to the product's messages: the language a member of staff reads email in, and
whom an escalation about someone's work goes to. Core: users, their StaffProfile and roles."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q

from fieldservice import roles

STAFF_LANGUAGES = ("en", "zh-hans")


def escalation_recipients(manager: User | None) -> list[User]:
    """Whom an escalation about someone's work goes to (a renewal that has not moved, a case
    past its clock): their manager (StaffProfile.reports_to), else every active admin (group
    admin or superuser); nobody's work goes to the admins."""
    profile = getattr(manager, "profile", None) if manager is not None else None
    boss = profile.reports_to if profile is not None else None
    if boss is not None and boss.is_active:
        return [boss]
    return admins()


def admins() -> list[User]:
    return list(
        User.objects.filter(Q(groups__name=roles.ADMIN) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("pk")
    )


def staff_language(user: User | None) -> str:
    """The language a member of staff reads email in (StaffProfile.language)."""
    profile = getattr(user, "profile", None) if user is not None else None
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    return language if language in STAFF_LANGUAGES else settings.LANGUAGE_CODE
