"""The production configuration in deploy/ holds together: the environment deploy/env.example
prescribes passes `check --deploy`, pages render with the hashed static files it implies,
and gunicorn, the systemd units and nginx agree with the settings they depend on."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from mobile_api import views as mobile_views
from tests.clock_pin import pinned_command

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
NGINX = (DEPLOY / "nginx" / "fieldservice.conf").read_text()
# The test run's own development settings must not leak into the production environment.
LEAKING = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def prescribed_env() -> dict[str, str]:
    """deploy/env.example read the way deploy/manage.sh reads /etc/fieldservice/env, with the
    one value an operator must generate filled in, over a clean environment."""
    read = subprocess.run(
        ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "-", str(DEPLOY / "env.example")],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    example = dict(item.split("=", 1) for item in read.stdout.split("\0") if "=" in item)
    base = {k: v for k, v in os.environ.items() if k not in LEAKING}
    return {
        **base,
        **example,
        "SECRET_KEY": secrets.token_urlsafe(64),
        # check --deploy does not connect; should that change, no real database is touched.
        "DATABASE_URL": f"postgres:///fs_deploy_check_{os.getpid()}",
    }


def run(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


# --- settings -----------------------------------------------------------------------------------


def test_env_example_leaves_the_secret_key_to_the_operator() -> None:
    assert re.search(r"^SECRET_KEY=$", (DEPLOY / "env.example").read_text(), re.M)


def test_check_deploy_is_clean_with_the_environment_the_deploy_docs_prescribe() -> None:
    env = prescribed_env()
    assert env["DEBUG"] == "0"
    result = run(sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_env_example_documents_every_variable_the_deployment_reads() -> None:
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.M))
    settings_source = (ROOT / "fieldservice" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_\w+|time_zone)\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    gunicorn_source = (DEPLOY / "gunicorn.conf.py").read_text()
    read |= set(re.findall(r'(?:os\.environ\.get|_env_int)\("([A-Z][A-Z0-9_]+)"', gunicorn_source))
    read.discard("RUNTIME_DIRECTORY")  # systemd's own
    for unit in UNITS.glob("*.service"):
        read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)\}", unit.read_text()))
    read |= set(re.findall(r"^: \"\$\{([A-Z_]+)", (DEPLOY / "backup.sh").read_text(), re.M))
    read |= set(re.findall(r"^([A-Z_]+)=\$\{\1:-", (DEPLOY / "backup.sh").read_text(), re.M))
    read.discard("TEST_DATABASE_NAME")  # the test suite's alone
    assert {"DATABASE_URL", "SECRET_KEY", "GUNICORN_WORKERS", "SOLVER_QUEUE", "BACKUP_DIR"} <= read
    assert read - documented == set()


@pytest.mark.slow
def test_pages_render_with_hashed_static_files_in_production(tmp_path: Path) -> None:
    env = {**prescribed_env(), "STATIC_ROOT": str(tmp_path / "static")}
    collected = run(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()
    probe = """
import json
from django.test import Client
client = Client(HTTP_HOST="fieldservice.example.com")
pages = {}
for path in ("/login/", "/app/", "/app/sw.js"):
    response = client.get(path, secure=True)
    pages[path] = [response.status_code, response.headers.get("Cache-Control", ""), response.content.decode()]
print(json.dumps(pages))
"""
    # The pages are rendered at the test's instant, as every process a test starts.
    result = run(*pinned_command([sys.executable, "manage.py", "shell", "-c", probe]), env=env)
    assert result.returncode == 0, result.stderr
    pages = json.loads(result.stdout.strip().splitlines()[-1])
    assert [status for status, _, _ in pages.values()] == [200, 200, 200]
    assert re.search(r"/static/css/app\.[0-9a-f]{12}\.css", pages["/login/"][2])
    assert re.search(r"/static/mobile_api/app\.[0-9a-f]{12}\.js", pages["/app/"][2])
    assert re.search(r'"/static/mobile_api/app\.[0-9a-f]{12}\.js"', pages["/app/sw.js"][2])  # what it caches
    assert "no-store" in pages["/app/sw.js"][1]
    # Each module the app imports is asked for by its hashed name, which exists, and the worker
    # holds it: the app starts offline after a deploy, and never mixes old and new modules.
    cached = set(re.findall(r'^\s+"(/static/[^"]+)",$', pages["/app/sw.js"][2], re.M))
    modules = sorted((tmp_path / "static" / "mobile_api").glob("*.????????????.js"))
    assert len(modules) == len(mobile_views.APP_MODULES)
    for module in modules:
        for imported in re.findall(r"""from ["']\./([^"']+)["'];""", module.read_text()):
            assert re.fullmatch(r"[\w-]+\.[0-9a-f]{12}\.js", imported), (module.name, imported)
            assert (module.parent / imported).is_file()
            assert f"/static/mobile_api/{imported}" in cached


# --- gunicorn ------------------------------------------------------------------------------------


def gunicorn_config(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**prescribed_env(), **overrides}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return run(gunicorn, "--config", str(DEPLOY / "gunicorn.conf.py"), "--print-config", env=env)


def test_gunicorn_runs_sync_workers_per_cpu_on_loopback_with_a_long_timeout() -> None:
    result = gunicorn_config()
    assert result.returncode == 0, result.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))
    assert config["wsgi_app"] == "fieldservice.wsgi:application"
    assert config["worker_class"] == "sync"
    assert int(config["workers"]) == 2 * len(os.sched_getaffinity(0)) + 1
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert config["secure_scheme_headers"] == "{'X-FORWARDED-PROTO': 'https'}"
    assert int(config["timeout"]) >= 120
    assert "x-real-ip" in config["access_log_format"]


def test_gunicorn_settings_from_the_environment_fail_loudly() -> None:
    assert "workers                            = 3" in gunicorn_config(GUNICORN_WORKERS="3").stdout
    refused = gunicorn_config(GUNICORN_WORKERS="many")
    assert refused.returncode != 0
    assert "GUNICORN_WORKERS='many' is not an integer" in refused.stdout + refused.stderr


# --- systemd -------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    """A unit's settings (all sections together), continuation lines joined."""
    text = (UNITS / name).read_text().replace("\\\n", " ")
    values: dict[str, list[str]] = {}
    for key, value in re.findall(r"^([A-Za-z]+)=(.*)$", text, re.M):
        values.setdefault(key, []).append(" ".join(value.split()))
    return values


def test_every_service_runs_as_the_service_user_with_the_environment_file() -> None:
    services = sorted(path.name for path in UNITS.glob("*.service"))
    assert services == [
        "fieldservice-backup.service",
        "fieldservice-beat.service",
        "fieldservice-solver-worker.service",
        "fieldservice-web.service",
        "fieldservice-worker.service",
    ]
    for name in services:
        values = unit(name)
        assert values["User"] == ["fieldservice"], name
        assert values["EnvironmentFile"] == ["/etc/fieldservice/env"], name
        assert values["ProtectSystem"] == ["strict"], name


def test_workers_consume_the_queues_the_settings_route_to() -> None:
    solver_queue = settings.CELERY_TASK_ROUTES["scheduling.tasks.*"]["queue"]
    default = unit("fieldservice-worker.service")["ExecStart"][0]
    assert " worker " in default and "--queues=celery " in default
    solver = unit("fieldservice-solver-worker.service")
    assert "--queues=${SOLVER_QUEUE} " in solver["ExecStart"][0]
    assert f"SOLVER_QUEUE={solver_queue}" in solver["Environment"]
    # Warm shutdown must outlast the longest solve a run may ask for.
    from scheduling.services import MAX_TIME_LIMIT_S

    assert int(solver["TimeoutStopSec"][0]) > MAX_TIME_LIMIT_S


def test_one_beat_unit_with_the_locked_scheduler() -> None:
    beats = [path.name for path in UNITS.glob("*.service") if " beat " in unit(path.name)["ExecStart"][0]]
    assert beats == ["fieldservice-beat.service"]
    assert settings.CELERY_BEAT_SCHEDULER == "fieldservice.beat:LockedScheduler"
    assert "--scheduler" not in unit("fieldservice-beat.service")["ExecStart"][0]  # the settings choose


def test_web_unit_runs_the_gunicorn_config() -> None:
    web = unit("fieldservice-web.service")
    assert web["ExecStart"] == ["/srv/fieldservice/.venv/bin/gunicorn --config deploy/gunicorn.conf.py"]
    assert web["Type"] == ["notify"]
    # systemd must wait for gunicorn's graceful stop (graceful_timeout = the request timeout).
    assert int(web["TimeoutStopSec"][0]) > 120


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    # The units name the production paths; here the checkout and its virtualenv stand in.
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(path.read_text().replace("/srv/fieldservice", str(ROOT)))
    units = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


# --- nginx ---------------------------------------------------------------------------------------


def nginx_size(value: str) -> int:
    number, unit_ = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit_.lower()]


def location(pattern: str) -> str:
    """The body of the first nginx location whose line matches the pattern."""
    match = re.search(r"^ *location " + pattern + r" \{\n(.*?)^ {4}\}", NGINX, re.M | re.S)
    assert match, pattern
    return match.group(1)


def test_nginx_takes_uploads_up_to_the_attachment_limit() -> None:
    limit = nginx_size(re.search(r"client_max_body_size (\w+);", NGINX).group(1))  # type: ignore[union-attr]
    # The attachment itself, plus at most 1 MiB of multipart envelope and form fields.
    assert settings.MAX_ATTACHMENT_BYTES < limit <= settings.MAX_ATTACHMENT_BYTES + 1024**2


def test_nginx_never_serves_uploads_from_disk() -> None:
    media_root = re.search(r"^MEDIA_ROOT=(.*)$", (DEPLOY / "env.example").read_text(), re.M).group(1)  # type: ignore[union-attr]
    assert media_root not in NGINX
    assert "alias" not in NGINX
    assert location(r"\^~ /media/").strip() == "return 404;"


def test_nginx_serves_static_files_from_static_root_with_long_caching_for_hashed_names() -> None:
    static_root = re.search(r"^STATIC_ROOT=(.*)$", (DEPLOY / "env.example").read_text(), re.M).group(1)  # type: ignore[union-attr]
    static = location(r"\^~ /static/")
    root = re.search(r"root (\S+);", static).group(1)  # type: ignore[union-attr]
    assert f"{root}/static" == static_root
    assert 'Cache-Control "public, max-age=31536000, immutable"' in static


def test_nginx_passes_the_service_worker_to_django_uncached() -> None:
    worker = location(r"= /app/sw\.js")
    assert "proxy_pass http://fieldservice_app;" in worker
    assert "expires" not in worker and "Cache-Control" not in worker


def test_nginx_tls_hsts_forwarded_headers_and_pdf_timeouts() -> None:
    assert re.search(r"^ *ssl_protocols TLSv1\.2 TLSv1\.3;$", NGINX, re.M)
    assert "return 301 https://$host$request_uri;" in NGINX
    hsts = int(re.search(r'Strict-Transport-Security "max-age=(\d+)', NGINX).group(1))  # type: ignore[union-attr]
    assert hsts >= settings.SECURE_HSTS_SECONDS
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in NGINX
    assert "proxy_set_header X-Real-IP $remote_addr;" in NGINX
    pdf_timeout = re.search(r"proxy_read_timeout (\d+)s;", location(r"~ \\\.pdf\$")).group(1)  # type: ignore[union-attr]
    assert int(pdf_timeout) > 120  # gunicorn's timeout


def test_nginx_names_no_version() -> None:
    """server_tokens off in the http context the site is included in (outside every server
    block), so no server of it, nor nginx's own error pages, says which nginx it is."""
    outside_servers = re.sub(r"\nserver \{.*?\n\}", "", NGINX, flags=re.S)
    assert re.search(r"^server_tokens off;$", outside_servers, re.M)
    assert "server_tokens on" not in NGINX


# nginx reads an NGINX variable of its own (inherited sockets): this one is NGINX_BIN.
NGINX_BIN = shutil.which(os.environ.get("NGINX_BIN", "nginx"))


@pytest.mark.skipif(NGINX_BIN is None, reason="nginx is not installed (NGINX_BIN=path to try one)")
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    """`nginx -t` on the site, with a throwaway certificate and this test's paths."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test"]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    site = re.sub(r"/etc/letsencrypt/live/[^;]+/fullchain\.pem", str(tmp_path / "cert.pem"), NGINX)
    site = re.sub(r"/etc/letsencrypt/live/[^;]+/privkey\.pem", str(tmp_path / "key.pem"), site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n"
        + "".join(
            f"  {kind}_temp_path {tmp_path}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + "}\n"
    )
    assert NGINX_BIN
    result = subprocess.run(
        [NGINX_BIN, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
