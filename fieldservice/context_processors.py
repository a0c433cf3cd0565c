"""What every page's layout needs: the user's roles, for the navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from fieldservice import roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    held = roles.user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "is_dispatcher": bool(held & {roles.DISPATCHER, roles.ADMIN}),
        "is_account_manager": bool(held & {roles.ACCOUNT_MANAGER, roles.ADMIN}),
        "is_admin": roles.ADMIN in held,
        "map_tile_url": settings.MAP_TILE_URL,
    }
