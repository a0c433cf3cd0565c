"""Fieldservice settings: one module, read from the environment.

Every value that differs between a laptop and production comes from an environment
variable. A malformed value stops the process at start with a message naming the
variable, rather than surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from fieldservice.environment import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    tile_server_source,
    time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A development checkout's `.env` (written by `make demo` and `make test`, git-ignored) gives a
# fresh shell what it lacks: DEBUG=1 and the database. It is read only when the environment
# does not say DEBUG itself: the production units (deploy/systemd, deploy/manage.sh), the
# Makefile and the tests all do, so a stray `.env` never reaches them. The environment wins
# over the file for every variable.
DEVELOPMENT_ENV_FILE = BASE_DIR / ".env"
if "DEBUG" not in os.environ and DEVELOPMENT_ENV_FILE.is_file():
    load_dotenv(DEVELOPMENT_ENV_FILE, override=False)

# --- Core ---------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off. For development, run `make demo` or `make test` "
        "once in this checkout: they write a .env with DEBUG=1 that the settings read."
    )
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY is the development key: set a real one")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "ninja",  # serves its Swagger UI from local static files, not a CDN
    "fieldservice",
    "assets",
    "contracts",
    "tickets",
    "cases",
    "scheduling",
    "retention",
    "importing",
    "desk",
    "mobile_api",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every response gets the headers: error pages and the 503 page too.
    "csp.middleware.CSPMiddleware",
    "fieldservice.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees a lost database connection from any view: 503 with Retry-After.
    "fieldservice.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "fieldservice.urls"
WSGI_APPLICATION = "fieldservice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fieldservice.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "postgres:///fieldservice"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "fieldservice.cache.ReusingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "fieldservice"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Language and time --------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = time_zone("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files --------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# In production `collectstatic` writes each file under a name carrying a digest of its
# content (app.3f2a9c1e04b7.css), so nginx can let browsers cache /static/ for a year and a
# deploy still reaches them at once. Off in development, where runserver serves the sources.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "fieldservice.storage.ManifestStaticStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Uploads above this are refused with 413 by the upload services.
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024, minimum=1)
# A request body above this, files aside (a JSON body, a form's fields), is refused with 413 and
# the error JSON by the APIs (fieldservice.api_common). nginx's client_max_body_size (11m) is set for
# the uploads and lets such bodies through to that answer.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1)

# --- Email --------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Fieldservice <service@fieldservice.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------------------
# With no broker configured, tasks run in-process so the demo needs nothing more.

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Solver runs take seconds to minutes of CPU: they go to their own queue, so a worker (or a
# host) can be given to them without delaying reports and reminders. Workers must consume it:
# `celery -A fieldservice worker -Q celery,solver` (or a dedicated `-Q solver` worker).
CELERY_TASK_ROUTES = {"scheduling.tasks.*": {"queue": env_str("SOLVER_QUEUE", "solver")}}
# Beat fires the schedule only while it holds a lock in Redis (fieldservice/beat.py), so a
# second beat, started by mistake or kept as a standby on another host, cannot double-fire.
# The lock and the schedule's state live beside the broker's queues, not in the cache, which
# `cache.clear()` would flush. A beat that dies is replaced by a standby within ~1⅓ TTL.
CELERY_BEAT_SCHEDULER = "fieldservice.beat:LockedScheduler"
BEAT_REDIS_URL = env_str("BEAT_REDIS_URL", CELERY_BROKER_URL or REDIS_URL)
BEAT_KEY_PREFIX = env_str("BEAT_KEY_PREFIX", "fieldservice:beat")
BEAT_LOCK_TTL_SECONDS = env_float("BEAT_LOCK_TTL_SECONDS", 60.0, minimum=1.0)

# --- Security (production values when DEBUG is off) -----------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Debian bookworm ships GDAL 3.6, which cannot block file and network access while reading
# spatial references. The product never hands user input to GDAL: coordinates arrive as
# numbers or WKT and are parsed by GEOS.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each layout step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Product defaults -----------------------------------------------------------------------

# Company shown on service reports and quotes.
COMPANY_NAME = env_str("COMPANY_NAME", "Fieldservice Industrial Services")
# SLA targets (hours) for work orders that no contract covers; they are billable.
DEFAULT_SLA_HOURS = {1: (4, 24), 2: (8, 48), 3: (24, 120), 4: (72, 240)}
# A running SLA clock due within this many hours is "at risk": the board colours it and the
# work-order list filters by it.
SLA_AT_RISK_HOURS = env_int("SLA_AT_RISK_HOURS", 4, minimum=1)
# Business-hours SLA calendar, in the site's time zone, Monday to Friday.
SLA_BUSINESS_DAY_START = "08:00"
SLA_BUSINESS_DAY_END = "18:00"
# Calendar for work orders that no contract covers.
DEFAULT_SLA_CALENDAR = "business_hours"
DEFAULT_ESTIMATED_MINUTES = 60
# A corrective visit to the same equipment within this many days of a completed one means
# the earlier visit did not fix it the first time.
FIRST_TIME_FIX_WINDOW_DAYS = 30
# Cases (cases/): without an active contract with SLA terms for the case's severity (1/2/3 take
# the P1/P2/P3 terms), a case is due to be acknowledged and resolved within these hours,
# counted in this calendar; the case records that its clocks are the default ones.
CASE_DEFAULT_HOURS = {1: (4, 24), 2: (8, 72), 3: (24, 120)}
CASE_DEFAULT_CALENDAR = DEFAULT_SLA_CALENDAR
# A resolved case the customer has not confirmed within this many days closes unconfirmed.
CASE_CONFIRM_DAYS = env_int("CASE_CONFIRM_DAYS", 7, minimum=1)
# A survey answer this low opens a complaint (NPS 0-10, CSAT 1-5), of this severity.
CASE_DETRACTOR_NPS_MAX = 6
CASE_DETRACTOR_CSAT_MAX = 2
CASE_SURVEY_SEVERITY = 2

# Periodic tasks. The daily ones run at fixed local times (CELERY_TIMEZONE): preventive work
# orders and health overnight, renewal reminders before the account managers' day starts.
CELERY_BEAT_SCHEDULE = {
    "preventive-work-orders": {
        "task": "tickets.tasks.preventive_work_orders_generate",
        "schedule": crontab(hour=1, minute=0),
    },
    "sla-breaches": {"task": "tickets.tasks.sla_breaches_sweep", "schedule": 5 * 60},
    "case-escalations": {"task": "cases.tasks.case_escalations_sweep", "schedule": 5 * 60},
    "cases-close-unconfirmed": {"task": "cases.tasks.cases_close_unconfirmed_sweep", "schedule": 60 * 60},
    # Reports whose task could not be queued at completion (the broker was down).
    "service-reports": {"task": "tickets.tasks.service_reports_sweep", "schedule": 10 * 60},
    "renewals": {"task": "contracts.tasks.renewals_run_daily", "schedule": crontab(hour=7, minute=0)},
    "account-health": {
        "task": "contracts.tasks.health_compute_nightly",
        "schedule": crontab(hour=2, minute=0),
    },
    "mobile-housekeeping": {
        "task": "mobile_api.tasks.mobile_housekeeping",
        "schedule": crontab(hour=3, minute=30),
    },
}
# Preventive work orders are created this many days ahead of their due date.
PM_HORIZON_DAYS = env_int("PM_HORIZON_DAYS", 14, minimum=0)
# Meter-based plans project the due date from the average daily usage of this many days.
PM_USAGE_WINDOW_DAYS = 90
# Photo and document attachments: accepted types (checked against the file's first bytes).
ATTACHMENT_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"]
MAX_SIGNATURE_BYTES = env_int("MAX_SIGNATURE_BYTES", 512 * 1024, minimum=1)
# Images are decoded when they arrive (tickets/records/images.py): one with more pixels than this is
# refused (an 8000 x 8000 PNG of 248 kB took 750 MB to decode), and Pillow refuses twice this
# anywhere in the process. 50 MP keeps a 48-MP phone's full-size photo.
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000, minimum=1)
# ... then stored as a JPEG at most this many pixels on its long side, upright, with only its
# capture time kept from its metadata: what the app sends already, enough to zoom into on a
# screen, and the report (which prints them at 640) decodes one in a third of a 12-MP photo's time.
PHOTO_MAX_SIDE_PX = env_int("PHOTO_MAX_SIDE_PX", 1600, minimum=640)
PHOTO_JPEG_QUALITY = 85
MAX_PHOTOS_PER_WORK_ORDER = env_int("MAX_PHOTOS_PER_WORK_ORDER", 30, minimum=1)
# A signature pad is at most a phone's width at 4x: anything bigger is not a signature.
SIGNATURE_MAX_PIXELS = 4_000_000
SIGNATURE_MAX_SIDE_PX = 1600
# A meter cannot run faster than its machine: a reading further above the last one than this
# rate allows over the time between them (plus the grace, for readings stamped by day) is held
# for review instead of becoming the baseline every later reading is checked against.
METER_MAX_RATE_PER_HOUR = {"operating_hours": 1, "cycles": 3600}
METER_JUMP_GRACE_HOURS = 24

# Technician app (mobile API)
MOBILE_TOKEN_TTL_HOURS = env_int("MOBILE_TOKEN_TTL_HOURS", 14 * 24, minimum=1)
# Login throttling, on every login door (fieldservice/ratelimit.py explains the design). Each
# limit is one that only its own victim can trip, or one no office reaches by mistyping:
# - one user name from one client address: LOGIN_MAX_FAILURES failures, then that pair (only)
#   is refused until LOGIN_FAILURE_WINDOW_SECONDS after its first failure;
# - one client address, whatever the names: LOGIN_ADDRESS_MAX_FAILURES failures in the window,
#   then names never logged in from there are refused (a site of 200 behind one NAT address
#   needs many people's typos to get there, and its regulars keep logging in);
# - one user name from everywhere: after LOGIN_ACCOUNT_FREE_FAILURES failures, each further
#   attempt from an address the user has not logged in from waits, LOGIN_ACCOUNT_DELAY_SECONDS
#   after the first and twice as long after each next failure, up to
#   LOGIN_ACCOUNT_MAX_DELAY_SECONDS: a slower guess, never a lock. It is forgotten a window
#   after the last failure; a distributed guesser gets ~12 tries an hour at the cap.
# - An address the user logged in from within LOGIN_KNOWN_ADDRESS_DAYS is exempt from the
#   last two, so nobody on the internet can lock an admin out of their usual office or home.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1)
LOGIN_ADDRESS_MAX_FAILURES = env_int("LOGIN_ADDRESS_MAX_FAILURES", 50, minimum=1)
LOGIN_ACCOUNT_FREE_FAILURES = env_int("LOGIN_ACCOUNT_FREE_FAILURES", 5, minimum=1)
LOGIN_ACCOUNT_DELAY_SECONDS = env_int("LOGIN_ACCOUNT_DELAY_SECONDS", 2, minimum=1)
LOGIN_ACCOUNT_MAX_DELAY_SECONDS = env_int(
    "LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 5 * 60, minimum=LOGIN_ACCOUNT_DELAY_SECONDS
)
LOGIN_KNOWN_ADDRESS_DAYS = env_int("LOGIN_KNOWN_ADDRESS_DAYS", 30, minimum=1)


# The reverse proxies whose X-Real-IP (or X-Forwarded-For) names the client: a request from
# any other address is its own client, whatever headers it sends. nginx runs on the same host
# (deploy/README.md), so loopback; a web host behind an nginx elsewhere lists that nginx.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
# Events from the app may be queued offline for this long; older or future ones are refused.
MOBILE_EVENT_MAX_AGE_DAYS = env_int("MOBILE_EVENT_MAX_AGE_DAYS", 30, minimum=1)
MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES = 60
# The change log behind sync, and stored responses for retries, are kept this long. A sync
# cursor older than the change log's horizon gets a full resync; a retry older than the
# idempotency horizon is applied as new (the app's queue gives up long before).
MOBILE_CHANGE_LOG_DAYS = env_int("MOBILE_CHANGE_LOG_DAYS", 30, minimum=1)
MOBILE_IDEMPOTENCY_DAYS = env_int("MOBILE_IDEMPOTENCY_DAYS", 31, minimum=1)
# An arrival farther than this from the site is accepted but flagged for the dispatcher.
ARRIVAL_MAX_DISTANCE_M = env_int("ARRIVAL_MAX_DISTANCE_M", 500, minimum=1)

# Scheduling: the great-circle travel model and the technicians' lunch break.
SCHEDULING_DETOUR_FACTOR = env_float("SCHEDULING_DETOUR_FACTOR", 1.3, minimum=1.0)
SCHEDULING_SPEED_KMH = env_float("SCHEDULING_SPEED_KMH", 40.0, minimum=1.0)
# Lunch may start between these local times and lasts this many minutes.
SCHEDULING_LUNCH_EARLIEST = "11:30"
SCHEDULING_LUNCH_LATEST = "13:30"
SCHEDULING_LUNCH_MINUTES = 30
SCHEDULING_DEFAULT_TIME_LIMIT_S = env_int("SCHEDULING_DEFAULT_TIME_LIMIT_S", 20, minimum=1)

# Renewals: milestones in days before the key date (the end date, or for auto-renewing
# contracts the notice deadline). Each happens once per contract.
RENEWAL_MILESTONE_DAYS = {"t120": 120, "t90": 90, "t60": 60, "t30": 30, "t7": 7, "t0": 0}
# A renewal quote stays valid this many days after it is drafted.
RENEWAL_QUOTE_VALID_DAYS = 45

# Account health: components, weights and thresholds (good / average / poor). A component
# scores 100 at good, 60 at average, 0 at poor, linearly between; the score is the weighted
# mean over components that have data.
HEALTH_WINDOW_DAYS = 90
HEALTH_COMPONENTS = {
    "sla_breach_rate": {"weight": 25, "good": 0.05, "average": 0.15, "poor": 0.30},
    "first_time_fix_rate": {"weight": 15, "good": 0.85, "average": 0.70, "poor": 0.50},
    "reliability": {"weight": 15, "good": 1.2, "average": 1.0, "poor": 0.6},  # MTBF / fleet MTBF
    "open_urgent_past_sla": {"weight": 15, "good": 0, "average": 1, "poor": 4},
    "sentiment": {"weight": 15, "good": 4.5, "average": 3.8, "poor": 2.5},  # CSAT-equivalent, 1-5
    "pm_compliance": {"weight": 15, "good": 0.95, "average": 0.80, "poor": 0.50},
}
HEALTH_SENTIMENT_HALF_LIFE_DAYS = 90
HEALTH_BANDS = {"green": 76, "yellow": 51}  # score >= green → green; >= yellow → yellow; else red
# Hard overrides that force red whatever the score.
HEALTH_OVERRIDE_P1_PAST_SLA_HOURS = 48
HEALTH_OVERRIDE_BREACH_RATE = 0.25
HEALTH_DECLINE_POINTS = 15
HEALTH_DECLINE_DAYS = 30
# Risk ranking: (100 − score) × annual contract value × urgency by days to the key date.
RISK_URGENCY = [(90, 2.0), (180, 1.5)]
# RFM tiers: quintile scores (1-5) per dimension; a dimension is "high" at or above this.
RFM_HIGH_QUINTILE = 4
RFM_LOW_QUINTILE = 2
RFM_NEW_ACCOUNT_DAYS = 180

# The customer portal (portal/): contacts sign in by a one-time link sent by email.
# A link is good for this many minutes, once.
PORTAL_LINK_VALID_MINUTES = env_int("PORTAL_LINK_VALID_MINUTES", 15, minimum=1)
# Links asked for one email address, and from one client address, within
# LOGIN_FAILURE_WINDOW_SECONDS: a few for a person who lost the mail, more for an office of many
# contacts behind one NAT address; beyond them the page says to wait (the same for any address).
PORTAL_LINKS_PER_EMAIL = env_int("PORTAL_LINKS_PER_EMAIL", 5, minimum=1)
PORTAL_LINKS_PER_CLIENT = env_int("PORTAL_LINKS_PER_CLIENT", 30, minimum=1)
# Fault reports from a machine's QR label page (no sign-in), within the same window: per label,
# per reporter's email address and per client address. A machine with a fault is reported by a
# few people, not by hundreds.
PORTAL_LABEL_REPORTS_PER_LABEL = env_int("PORTAL_LABEL_REPORTS_PER_LABEL", 5, minimum=1)
PORTAL_LABEL_REPORTS_PER_EMAIL = env_int("PORTAL_LABEL_REPORTS_PER_EMAIL", 5, minimum=1)
PORTAL_LABEL_REPORTS_PER_CLIENT = env_int("PORTAL_LABEL_REPORTS_PER_CLIENT", 20, minimum=1)
# A label report becomes a work order only when its emailed confirmation link is followed
# within this many hours.
PORTAL_FAULT_CONFIRM_HOURS = env_int("PORTAL_FAULT_CONFIRM_HOURS", 24, minimum=1)
# Photos a contact may attach to one fault report (each within MAX_ATTACHMENT_BYTES).
PORTAL_MAX_FAULT_PHOTOS = env_int("PORTAL_MAX_FAULT_PHOTOS", 5, minimum=1)
# The service desk's phone number, printed on every QR label.
SERVICE_PHONE = env_str("SERVICE_PHONE", "400-800-1234")

# Map tiles for the dispatch board. Empty: the map draws sites and technicians on a plain
# background, which works with no network; set e.g. an internal tile server's URL template.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")


# --- Content-Security-Policy and Permissions-Policy -------------------------------------------
# Every response carries a Content-Security-Policy (django-csp): pages load scripts, styles,
# images and data from this origin only. No inline script, style or event handler: templates
# never hold <script>…</script>, <style>, style="" or on…="" (tests/test_csp.py reads them
# all), scripts set styles through the CSSOM, and htmx runs with eval off (base.html). Names
# and notes that reached the page as HTML could not run even if a sink were missed. Only the
# map's tile server, when there is one, adds an origin (for images). django-csp leaves Django's
# debug pages alone (DEBUG with a 404 or 500): they are inline by design and never production.


MAP_TILE_SOURCE = tile_server_source(MAP_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # data: for the icons inside Swagger UI's stylesheet (the API docs): an image cannot
        # run script, whatever its source.
        "img-src": ["'self'", "data:", *([MAP_TILE_SOURCE] if MAP_TILE_SOURCE else [])],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# What the pages may ask the device for: the technician app's arrival check reads the
# position; nothing uses the camera API (photos come from a file input), the microphone or
# the rest. Origins in an allowlist are written bare: the middleware quotes them.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "geolocation": ["self"],
    "camera": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "midi": [],
    "accelerometer": [],
    "gyroscope": [],
    "magnetometer": [],
    "display-capture": [],
    "fullscreen": [],
    "autoplay": [],
}
