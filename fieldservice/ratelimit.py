"""Login throttling, the same on every login door: the web's /login/, the back office's
/admin/login/ (fieldservice.web) and the technician app's token endpoint (mobile_api.api).

Three counters, each one that only its own victim can trip or that no office reaches by
mistyping (the numbers are settings, explained in fieldservice/settings.py):

- **a user name from one client address**: after LOGIN_MAX_FAILURES failures that pair is
  refused until its window ends. Only someone typing that name at that address can cause it,
  so it blocks the person mistyping, not their colleagues behind the same NAT address;
- **a client address, whatever the names**: after LOGIN_ADDRESS_MAX_FAILURES failures the
  address may try no new names until its window ends (password spraying). The limit is
  high, as a whole site can share one address;
- **a user name from everywhere**: after LOGIN_ACCOUNT_FREE_FAILURES failures each further
  attempt waits for its turn, the wait doubling with each failure up to a cap, and is
  forgotten a window after the last failure. Guessing from many addresses stays slow, but
  the account is never locked: the user can log in once the wait is over.

An address a user has logged in from within LOGIN_KNOWN_ADDRESS_DAYS is "known" for that
user and exempt from the last two: an attacker on the internet can slow down guessing at an
admin's account, never lock the admin out of their usual office or home.

Names are counted as Django's login form matches them (NFKC, so `ｔｅｃｈ４０` is `tech40`), and
case-folded (fieldservice.login_counters). The client address is what `client_ip` says
(fieldservice.client_address): a proxy's X-Real-IP is believed only when the request comes
from one of TRUSTED_PROXIES.

Concurrent attempts cannot slip through together: each attempt is counted *before* the
password is checked (an atomic INCR, whose result is the attempt's own number), and the
count is given back if the attempt is refused (a refusal is not a guess, so a person
retrying during a wait does not prolong it or push the site's address towards its limit)
or logs in (successes are not failures). Past the free failures, one attempt at a time
holds a user name's turn, and checks the wait only once it holds it.

A lockout of a real user (the pair limit reached, or the waits starting) is written to the
audit trail and mailed to the admins, at most once per user per window. Counters live in
Redis (fieldservice.login_counters): while it is unreachable they are not kept and nothing is
refused (fieldservice.cache).
"""

from __future__ import annotations

import enum
import functools
import logging
import math
from types import TracebackType

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from fieldservice import clock, roles
from fieldservice.audit import Action, Source, audit_record
from fieldservice.errors import DomainError
from fieldservice.login_counters import counter_add, keys_for, login_name, seconds_left

logger = logging.getLogger(__name__)

# How long one attempt may hold a throttled user name's turn while its password is checked
# (milliseconds, normally): a worker that dies holding it releases it after this.
TURN_SECONDS = 10
# An alert is handed to the mail server within this, or given up (and logged): a slow mail
# server must not hold a login request, and the lockout is in the audit trail anyway.
ALERT_EMAIL_TIMEOUT_SECONDS = 10
# The doubling of the wait stops here long before any cap a setting could name.
MAX_DOUBLINGS = 30
# The audit entry's fields (codes, read in each reader's language by the audit list).
LOCKOUT_FIELD = "login_lockout"
FAILURES_FIELD = "failed_logins"
ADDRESS_FIELD = "client_address"


class Throttle(enum.StrEnum):
    """Which limit refused an attempt or locked a user out."""

    USER_AT_ADDRESS = "user_at_address"  # this user name from this address: refused for the window
    USER_DELAYED = "user_delayed"  # this user name from new addresses: each try waits its turn
    ADDRESS = "address"  # this address, for names not known there: refused for the window


class LoginRefused(DomainError):
    """Not tried: the password was not even checked. `retry_after` is in seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, *, throttle: Throttle, retry_after: int) -> None:
        super().__init__(
            "Too many failed logins. Wait and try again.",
            details={"retry_after_seconds": retry_after},
        )
        self.throttle = throttle
        self.retry_after = retry_after


def account_delay(failures: int) -> int:
    """Seconds the next attempt at a user name waits after its `failures`-th failure."""
    beyond = failures - settings.LOGIN_ACCOUNT_FREE_FAILURES
    if beyond < 0:
        return 0
    return int(
        min(
            settings.LOGIN_ACCOUNT_DELAY_SECONDS * 2 ** min(beyond, MAX_DOUBLINGS),
            settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS,
        )
    )


# --- one attempt ---------------------------------------------------------------------------------------


class LoginAttempt:
    """One login attempt, as a context manager around the password check:

        with ratelimit.login_attempt(username=..., address=..., source=Source.WEB) as attempt:
            user = authenticate(...)
            if user is None:
                raise ...  # or return: leaving without `attempt.succeeded()` is a failure
            attempt.succeeded()

    Entering raises LoginRefused if a limit refuses the attempt: the password is then not
    checked, and the attempt counts nowhere. Leaving counts it as a failure unless
    `succeeded()` was called, whatever the way out (a crash in between counts as a failure)."""

    def __init__(self, *, username: str, address: str, source: str) -> None:
        if source not in Source.values:
            raise ValueError(f"Unknown login door {source!r}.")
        self.name = login_name(username)
        self.address = address
        self.source = source
        self.keys = keys_for(self.name, address)
        self.known = False
        self._counted: dict[str, int] = {}
        self._holds_turn = False
        self._succeeded = False

    def succeeded(self) -> None:
        self._succeeded = True

    def __enter__(self) -> LoginAttempt:
        keys = self.keys
        self.known = cache.get(keys.known) is not None
        try:
            if self._count(keys.pair) > settings.LOGIN_MAX_FAILURES:
                raise self._refused(Throttle.USER_AT_ADDRESS, seconds_left(keys.pair))
            if not self.known:
                if self._count(keys.address) > settings.LOGIN_ADDRESS_MAX_FAILURES:
                    raise self._refused(Throttle.ADDRESS, seconds_left(keys.address))
                if self._count(keys.account) > settings.LOGIN_ACCOUNT_FREE_FAILURES:
                    self._take_turn()
        except LoginRefused:
            self._give_back()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._succeeded:
            self._after_success()
        else:
            self._after_failure()

    # --- entering ---

    def _count(self, key: str) -> int:
        value = counter_add(key, 1)
        if value is None:
            return 0
        self._counted[key] = value
        return value

    def _take_turn(self) -> None:
        # Race: many attempts at one name at once (a botnet). Only the one that adds the turn
        # key goes on; it reads the wait only then, after the previous holder stored its own.
        if not cache.add(self.keys.turn, 1, timeout=TURN_SECONDS):
            raise self._refused(Throttle.USER_DELAYED, 1)
        self._holds_turn = True
        next_try = cache.get(self.keys.next_try)
        if next_try is not None and float(next_try) > clock.now().timestamp():
            raise self._refused(Throttle.USER_DELAYED, math.ceil(float(next_try) - clock.now().timestamp()))

    def _refused(self, throttle: Throttle, retry_after: int) -> LoginRefused:
        return LoginRefused(throttle=throttle, retry_after=max(1, retry_after))

    def _give_back(self) -> None:
        for key in self._counted:
            counter_add(key, -1)
        self._counted.clear()
        self._release_turn()

    def _release_turn(self) -> None:
        if self._holds_turn:
            cache.delete(self.keys.turn)
            self._holds_turn = False

    # --- leaving ---

    def _after_success(self) -> None:
        keys = self.keys
        cache.delete(keys.pair)
        if keys.address in self._counted:
            counter_add(keys.address, -1)
        if not self.known:
            # The user's own typos from a new place end here. From a known address they do not
            # reset the name's waits: those failures were probably not theirs.
            cache.delete_many([keys.account, keys.next_try])
        self._release_turn()
        cache.set(keys.known, 1, timeout=settings.LOGIN_KNOWN_ADDRESS_DAYS * 24 * 60 * 60)

    def _after_failure(self) -> None:
        keys = self.keys
        pair = self._counted.get(keys.pair)
        if pair == settings.LOGIN_MAX_FAILURES:
            self._locked_out(Throttle.USER_AT_ADDRESS, failures=pair)
        if self._counted.get(keys.address) == settings.LOGIN_ADDRESS_MAX_FAILURES:
            logger.warning(
                "Login throttled: %s failed logins from %s, which may try no new user names for %s s",
                settings.LOGIN_ADDRESS_MAX_FAILURES,
                self.address,
                settings.LOGIN_FAILURE_WINDOW_SECONDS,
            )
        failures = self._counted.get(keys.account)
        if failures is not None:
            cache.touch(keys.account, settings.LOGIN_FAILURE_WINDOW_SECONDS)  # forgotten a window after this
            delay = account_delay(failures)
            if delay:
                # Stored before the turn is released, so the next holder reads it.
                cache.set(keys.next_try, clock.now().timestamp() + delay, timeout=delay + TURN_SECONDS)
            if failures == settings.LOGIN_ACCOUNT_FREE_FAILURES:
                self._locked_out(Throttle.USER_DELAYED, failures=failures)
        self._release_turn()

    def _locked_out(self, throttle: Throttle, *, failures: int) -> None:
        """Into the audit trail under the user, if there is one by that name; then the admins."""
        logger.warning("Login throttled (%s): %s failed logins from %s", throttle, failures, self.address)
        user = _user_named(self.name)
        if user is None:
            return
        audit_record(
            obj=user,
            action=Action.CHANGED,
            by=None,
            source=self.source,
            changes={
                LOCKOUT_FIELD: [None, throttle.value],
                FAILURES_FIELD: [None, failures],
                ADDRESS_FIELD: [None, self.address],
            },
        )
        if cache.add(self.keys.mailed, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS):
            alert = functools.partial(
                lockout_alert_send,
                user_id=user.pk,
                throttle=throttle,
                failures=failures,
                address=self.address,
                source=self.source,
            )
            transaction.on_commit(alert)


def login_attempt(*, username: str, address: str, source: str) -> LoginAttempt:
    """See LoginAttempt. `source` is the door, as the audit trail names it (Source.WEB,
    Source.ADMIN, Source.API)."""
    return LoginAttempt(username=username, address=address, source=source)


def _user_named(name: str) -> User | None:
    """The user whose name the limiter counts as `name`, if any."""
    candidates = User.objects.filter(username__iexact=name).order_by("pk")
    return next((user for user in candidates if login_name(user.get_username()) == name), None)


# --- telling the admins --------------------------------------------------------------------------------


def lockout_alert_send(*, user_id: int, throttle: Throttle, failures: int, address: str, source: str) -> None:
    """Email each active admin with an address, in their own language, that a user is
    locked out. A mail server that refuses or does not answer is logged, not raised: the
    lockout is in the audit trail already, and the login request must still be answered."""
    user = User.objects.get(pk=user_id)
    admins = (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name=roles.ADMIN), is_active=True)
        .exclude(email="")
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )
    connection = get_connection(timeout=ALERT_EMAIL_TIMEOUT_SECONDS)
    languages = {code for code, _name in settings.LANGUAGES}
    for admin in admins:
        profile = getattr(admin, "profile", None)
        language = profile.language if profile is not None and profile.language in languages else None
        with translation.override(language or settings.LANGUAGE_CODE):
            subject, body = _alert_text(
                username=user.get_username(),
                throttle=throttle,
                failures=failures,
                address=address,
                source=source,
            )
        message = EmailMessage(
            subject, body, settings.DEFAULT_FROM_EMAIL, [admin.email], connection=connection
        )
        try:
            message.send()
        except OSError:  # smtplib's errors are OSErrors, as are refused and timed-out connections
            logger.exception("Lockout alert for user %s not sent to %s", user_id, admin.email)


def _alert_text(
    *, username: str, throttle: Throttle, failures: int, address: str, source: str
) -> tuple[str, str]:
    minutes = math.ceil(settings.LOGIN_FAILURE_WINDOW_SECONDS / 60)
    facts = {"username": username, "failures": failures, "address": address, "minutes": minutes}
    if throttle == Throttle.USER_AT_ADDRESS:
        what = _(
            "%(failures)s failed logins for %(username)s from %(address)s. That address may not try "
            "this user name again for %(minutes)s minutes; from anywhere else the user logs in as usual."
        )
    else:
        facts["seconds"] = settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS
        what = _(
            "%(failures)s failed logins for %(username)s from several addresses, the latest "
            "%(address)s. Attempts from addresses this user has not logged in from now wait "
            "between tries, up to %(seconds)s seconds; from their usual addresses they log in as usual."
        )
    door = _("Through: %(door)s.") % {"door": Source(source).label}
    footer = _(
        "Each lockout is in the back office's audit trail. This email is sent at most once "
        "every %(minutes)s minutes per user."
    )
    subject = _("Failed logins for %(username)s") % {"username": username}
    return subject, "\n\n".join([what % facts, door, footer % facts])
