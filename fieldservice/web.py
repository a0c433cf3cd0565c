"""The web app's shared pieces: role-gated views, the landing page, login with rate limiting."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

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


class LoginView(auth_views.LoginView):
    """Django's login, refusing further attempts for a while after repeated failures."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        address = ratelimit.client_ip(request.META)
        if ratelimit.login_blocked(username=username, client_ip=address):
            form = self.get_form()
            form.add_error(None, _("Too many failed attempts. Wait a few minutes and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            ratelimit.login_succeeded(username=username)
        else:
            ratelimit.login_failed(username=username, client_ip=address)
        return response
