"""Gunicorn for Fieldservice, behind nginx (deploy/nginx/fieldservice.conf).

    gunicorn --config deploy/gunicorn.conf.py     (run by deploy/systemd/fieldservice-web.service)

Optional environment (documented in deploy/env.example):
  GUNICORN_BIND                  where to listen; default 127.0.0.1:8000, loopback only
  GUNICORN_WORKERS               sync worker processes; default 2 x CPUs + 1
  GUNICORN_TIMEOUT               seconds a request may take; default 120 (PDF rendering)
  GUNICORN_FORWARDED_ALLOW_IPS   the proxies trusted for X-Forwarded-Proto; default loopback
"""

from __future__ import annotations

import os


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer") from None
    if value < 1:
        raise SystemExit(f"{name}={value} is below the minimum 1")
    return value


def _cpus() -> int:
    # The CPUs this process may run on (a cpuset or `taskset` can give it fewer than the host).
    return len(os.sched_getaffinity(0))


wsgi_app = "fieldservice.wsgi:application"
proc_name = "fieldservice"

# Loopback only: the app trusts the X-Real-IP and X-Forwarded-Proto headers that nginx sets
# (login rate limits count per X-Real-IP; HTTPS is known from X-Forwarded-Proto), so nothing
# but nginx may reach it. An app host behind an nginx on another host binds its private
# address instead, firewalled to that nginx, and lists it in GUNICORN_FORWARDED_ALLOW_IPS.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Only the header nginx sets; gunicorn refuses a request whose other scheme headers disagree.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Sync workers: requests are short database work, except PDFs rendered on first download,
# which are CPU-bound for a second or more; nginx buffers slow clients, so a worker is never
# held by a slow phone connection.
worker_class = "sync"
workers = _env_int("GUNICORN_WORKERS", 2 * _cpus() + 1)
# Long enough for a service report with many photos rendered on request (nginx allows the PDF
# endpoints a little longer, so that the timeout seen is this one, in the log).
timeout = _env_int("GUNICORN_TIMEOUT", 120)
# On reload (SIGHUP) or stop, a worker finishes what it is rendering.
graceful_timeout = timeout
# Recycle workers now and then, staggered, so that no slow leak grows without bound.
max_requests = 1000
max_requests_jitter = 100
# Not preloaded: each worker imports the code itself, so `systemctl reload` (SIGHUP) starts
# workers running the code just deployed.
preload_app = False
# The workers' heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm"

# Logs to stdout/stderr, which systemd sends to the journal. %(h)s is always nginx; the
# client is X-Real-IP. X-Request-ID is nginx's $request_id, in its access log too.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%({x-real-ip}i)s - %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}i)s'
)

# gunicornc's control socket: in the service's runtime directory under systemd
# (RuntimeDirectory=), otherwise none.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
else:
    control_socket_disable = True
