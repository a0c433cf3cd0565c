"""How API callers prove who they are: the web session (with CSRF) or a bearer token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from fieldservice.models import ApiToken
from fieldservice.tokens import token_lookup


class IntegrationTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with an integration token (manage.py create_api_token)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_lookup(token, kind=ApiToken.Kind.INTEGRATION)
        if found is None:
            return None
        request.user = found.user
        return found.user


# Bearer first: SessionAuth enforces CSRF on writes and would refuse a token call that has none.
session_or_token = [IntegrationTokenAuth(), SessionAuth()]


class AuthedRequest(HttpRequest):
    """The request as an authenticated API handler sees it (for type checking)."""

    auth: User
