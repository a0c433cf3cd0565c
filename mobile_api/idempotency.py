"""Exactly-once mutating calls for an app that retries: the Idempotency-Key protocol.

The first call with a key runs and its status and body are stored; a replay of the same
key returns them unchanged and runs nothing; the same key with another request is 422.
Concurrent calls with one key serialise on the record's row: the loser's INSERT waits for
the winner's transaction, then finds the stored response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest

from fieldservice import clock, ranges
from fieldservice.errors import DomainError, Invalid
from mobile_api.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = ranges.IDEMPOTENCY_KEY_LENGTH
# The header as the OpenAPI schema states it on every call that takes it, for generated
# clients and fuzzers. Checked by hand in `run_once`, which names it in its refusal.
OPENAPI_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "A key of your choosing, new for each change: a retry with the same key "
    "returns the first answer and does nothing again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
}


def request_fingerprint(request: HttpRequest) -> str:
    """What makes two requests "the same": method, path and content. For multipart uploads
    the boundary differs on every retry, so fields and file digests are hashed instead."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            digest.update(f"{name}={request.POST.getlist(name)}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"{name}:{file_digest.hexdigest()}\n".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _jsonable(body: Any) -> Any:
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def run_once(request: HttpRequest, user: User, handler: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `handler` (returning status and a JSON-able body) at most once per key."""
    key = request.META.get(HEADER, "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(
            f"Send an Idempotency-Key header (1 to {MAX_KEY_LENGTH} characters) with every change.",
            code="idempotency_key_required",
            details={"field": "Idempotency-Key"},
        )
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO mobile_api_idempotencyrecord (user_id, key, request_hash, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
                [user.pk, key, fingerprint, clock.now()],
            )
            claimed = cursor.fetchone()
        record = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
        if claimed is None:
            if record.request_hash != fingerprint:
                raise Invalid(
                    "This Idempotency-Key was already used for a different request.",
                    code="idempotency_key_reused",
                )
            return record.status_code or 200, record.response_body
        try:
            with transaction.atomic():
                status, body = handler()
        except DomainError as error:
            status, body = error.status, error.as_dict()
        record.status_code, record.response_body = status, _jsonable(body)
        record.save(update_fields=["status_code", "response_body"])
        return status, record.response_body
