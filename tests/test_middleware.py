"""Web pages while the database is unreachable: a 503 page with Retry-After."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from fieldservice.middleware import RETRY_AFTER_SECONDS, DatabaseUnavailableMiddleware

middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())


def test_a_lost_database_connection_is_a_503_page() -> None:
    for error in (OperationalError("connection refused"), InterfaceError("connection already closed")):
        response = middleware.process_exception(RequestFactory().get("/dispatch/"), error)
        assert response is not None and response.status_code == 503
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "稍后再试" in response.content.decode()


def test_other_errors_are_left_to_django() -> None:
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("a bug")) is None
