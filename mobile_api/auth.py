"""The technician app's bearer tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer

from fieldservice import roles
from fieldservice.models import ApiToken
from fieldservice.tokens import token_lookup


class MobileTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_lookup(token, kind=ApiToken.Kind.MOBILE)
        if found is None or not roles.has_role(found.user, roles.TECHNICIAN):
            return None
        request.user = found.user
        request.mobile_token = found  # type: ignore[attr-defined]
        return found.user


class TechnicianRequest(HttpRequest):
    auth: User
    mobile_token: ApiToken
