"""`manage.py create_api_token USERNAME [--name N] [--days D]`: a bearer token for an integration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue


class Command(BaseCommand):
    help = "Create an integration API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'ERP sync'")
        parser.add_argument("--days", type=int, default=365, help="lifetime in days (0: never expires)")

    def handle(self, *args: Any, username: str, name: str, days: int, **options: Any) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        raw, token = token_issue(
            user=user,
            kind=ApiToken.Kind.INTEGRATION,
            name=name,
            ttl=dt.timedelta(days=days) if days else None,
        )
        expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.prefix}… for {username} ({expiry}). Send it as 'Authorization: Bearer <token>'."
        )
