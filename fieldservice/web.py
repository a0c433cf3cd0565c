"""The web app's shared pieces: role-gated views, the landing page, login with rate limiting.

Both login pages, the web's (/login/) and the back office's (/admin/login/), count failed
attempts per user name and per client address (fieldservice.ratelimit, as the technician
app's token endpoint does) and refuse further attempts with 429 for a while.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice import ratelimit, roles

View = Callable[..., HttpResponse]
# Where each role starts its day, most specific first.
LANDING = [
    (roles.DISPATCHER, "/dispatch/"),
    (roles.ACCOUNT_MANAGER, "/accounts/"),
    (roles.ADMIN, "/dispatch/"),
    (roles.TECHNICIAN, "/app/"),  # the technician app: no web pages of its own
]


def role_required(*allowed: str) -> Callable[[View], View]:
    """Logged in (else to the login page) and holding one of `allowed` (else 403)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not roles.user_roles(request.user) & set(allowed):
                raise PermissionDenied(_("This page is not for your role."))
            return view(request, *args, **kwargs)

        return guarded

    return decorate


@login_required
def home(request: HttpRequest) -> HttpResponse:
    held = roles.user_roles(request.user)
    for role, url in LANDING:
        if role in held:
            return HttpResponseRedirect(url)
    return render(request, "fieldservice/no_web_role.html", status=403)


TOO_MANY_ATTEMPTS = "too_many_attempts"
TOO_MANY_ATTEMPTS_MESSAGE = gettext_lazy("Too many failed attempts. Wait a few minutes and try again.")


class RateLimitedLogin(forms.Form):
    """A login form that refuses to try the password once the user name or the client address
    has failed too often, and counts every attempt that does not log in as a failure."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))
        address = ratelimit.client_ip(self.request.META if self.request is not None else {})
        if ratelimit.login_blocked(username=username, client_ip=address):
            raise ValidationError(TOO_MANY_ATTEMPTS_MESSAGE, code=TOO_MANY_ATTEMPTS)
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.login_failed(username=username, client_ip=address)
            raise
        # No error, but no user either: a field was missing. Still an attempt that failed, and
        # it must not reset the user name's counter.
        if self.get_user() is None:  # type: ignore[attr-defined]
            ratelimit.login_failed(username=username, client_ip=address)
        else:
            ratelimit.login_succeeded(username=username)
        return cleaned or {}


class LoginForm(RateLimitedLogin, AuthenticationForm):
    pass


class AdminLoginForm(RateLimitedLogin, AdminAuthenticationForm):
    """The back office's login form (staff only) behind the same limit."""


def _refused_for_attempts(response: HttpResponse) -> HttpResponse:
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, TOO_MANY_ATTEMPTS):
        response.status_code = 429
    return response


class LoginView(auth_views.LoginView):
    """Django's login, refusing further attempts for a while after repeated failures."""

    authentication_form = LoginForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return _refused_for_attempts(super().form_invalid(form))


def admin_login(request: HttpRequest) -> HttpResponse:
    """The back office's own login page (admin.site.login, with AdminLoginForm as its form),
    answering 429 as /login/ does once attempts are refused."""
    return _refused_for_attempts(admin.site.login(request))
