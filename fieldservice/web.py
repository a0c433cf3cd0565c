"""The web app's shared pieces: role-gated views, the landing page, login with rate limiting.

Both login pages, the web's (/login/) and the back office's (/admin/login/), are throttled by
fieldservice.ratelimit, as the technician app's token endpoint is: an attempt it refuses is
answered 429 with Retry-After, without the password being checked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from fieldservice import client_address, ratelimit, roles
from fieldservice.audit import Source

View = Callable[..., HttpResponse]
# Where each role starts its day, most specific first.
LANDING = [
    (roles.DISPATCHER, "/dispatch/"),
    (roles.ACCOUNT_MANAGER, "/accounts/"),
    (roles.ADMIN, "/dispatch/"),
    (roles.TECHNICIAN, "/app/"),  # the technician app: no web pages of its own
    (roles.CUSTOMER, "/portal/"),  # a customer's contact: the portal
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
    """A login form behind fieldservice.ratelimit: an attempt the limiter refuses is not tried,
    and every attempt that does not log in counts as a failure."""

    request: HttpRequest | None
    # The audit trail's name for this door.
    door = Source.WEB

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))
        address = client_address.client_ip(self.request.META if self.request is not None else {})
        try:
            with ratelimit.login_attempt(username=username, address=address, source=self.door) as attempt:
                # A ValidationError (a wrong password, an inactive or, here, non-staff user)
                # leaves the block as a failure; so does a form with a field missing.
                cleaned = super().clean()
                if self.get_user() is not None:  # type: ignore[attr-defined]
                    attempt.succeeded()
        except ratelimit.LoginRefused as refused:
            self.retry_after = refused.retry_after
            if refused.throttle == ratelimit.Throttle.USER_DELAYED:
                # A user name's turn comes back within seconds to minutes: say when.
                wait = ngettext_lazy(
                    "Too many failed attempts. Try again in %(seconds)d second.",
                    "Too many failed attempts. Try again in %(seconds)d seconds.",
                    "seconds",
                )
                raise ValidationError(
                    wait, code=TOO_MANY_ATTEMPTS, params={"seconds": refused.retry_after}
                ) from None
            raise ValidationError(TOO_MANY_ATTEMPTS_MESSAGE, code=TOO_MANY_ATTEMPTS) from None
        return cleaned or {}


class LoginForm(RateLimitedLogin, AuthenticationForm):
    pass


class AdminLoginForm(RateLimitedLogin, AdminAuthenticationForm):
    """The back office's login form (staff only) behind the same limits."""

    door = Source.ADMIN


def _refused_for_attempts(response: HttpResponse) -> HttpResponse:
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, TOO_MANY_ATTEMPTS):
        response.status_code = 429
        response["Retry-After"] = str(getattr(form, "retry_after", settings.LOGIN_FAILURE_WINDOW_SECONDS))
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
