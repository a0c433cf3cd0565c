"""Browser tests: Playwright driving Debian's headless Chromium against a live server
seeded with the `small` demo. Screenshots go to test-results/screenshots/.

Every page a browser test opens is held to the Content-Security-Policy: a test in which any
page reports a violation (a refused inline style or script, an image from another origin)
fails, whatever it was testing (`_no_policy_violations`).

Playwright never downloads a browser here: it is pointed at /usr/bin/chromium
(deploy/bootstrap.sh installs it for the tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import BrowserContext, ConsoleMessage
from playwright.sync_api import Error as PlaywrightError

from fieldservice import clock
from tests.conftest import ensure_role_groups

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"

# pytest-django's live server runs in a thread; sync Playwright keeps an event loop in the
# main one, which Django would otherwise take for async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deep: a longer variant of a browser test, run only with -m deep")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not CHROMIUM.exists():
        skip = pytest.mark.skip(reason="no /usr/bin/chromium: run deploy/bootstrap.sh --browser")
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(skip)
    # The deep variants stay out of `make test`: they run when asked for (`pytest -m deep`).
    if "deep" not in (config.getoption("markexpr") or ""):
        shallow = pytest.mark.skip(reason="a deep variant: run with -m deep")
        for item in items:
            if item.get_closest_marker("deep"):
                item.add_marker(shallow)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    options = {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"]}
    options.pop("channel", None)
    return options


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1366, "height": 768},
        "locale": "en-US",
        "timezone_id": settings.TIME_ZONE,
    }


@pytest.fixture(autouse=True)
def _browser_clock(context: BrowserContext) -> None:
    """Chromium's clock starts at the test's pinned instant too (tests/clock_pin.py), so the
    pages' own "now" (countdowns, the app's timestamps) agrees with the server's."""
    pin_browser_clock(context)


def pin_browser_clock(context: BrowserContext) -> None:
    """For contexts a test makes itself (browser.new_context()): the pinned clock, and the
    watch on the Content-Security-Policy that every context gets."""
    context.clock.install(time=clock.now())
    watch_policy_violations(context)


# --- The Content-Security-Policy, in every page the tests open --------------------------------------

# What Chromium reports, from each page and frame, before the page's own scripts run. (Playwright
# injects it outside the page's policy.)
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__fieldservicePolicyViolation({
    page: location.href, directive: event.effectiveDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  });
});
"""
# The violations reported in the running test, from any of its contexts.
_violations: list[str] = []


def watch_policy_violations(context: BrowserContext) -> None:
    """Record every violation of the Content-Security-Policy in `context`'s pages: the
    `securitypolicyviolation` events, and Chromium's console errors about the policy (which
    also cover what happens before a document's scripts can listen), with its complaints about
    the Permissions-Policy header. Once per context."""
    if getattr(context, "_fieldservice_watched", False):
        return
    context._fieldservice_watched = True  # type: ignore[attr-defined]

    def reported(source: Any, violation: dict[str, Any]) -> None:
        where = f"{violation['source']}:{violation['line']}" if violation.get("source") else ""
        _violations.append(
            f"{violation['page']}: {violation['directive']} refused {violation['blocked'] or '?'}"
            f" {where} {violation.get('sample') or ''}".rstrip()
        )

    def console(message: ConsoleMessage) -> None:
        # Chromium's word for a refusal, and for a Permissions-Policy it cannot read.
        if "Content Security Policy" in message.text or "Permissions-Policy header" in message.text:
            _violations.append(f"{message.page.url if message.page else '?'}: console: {message.text}")

    context.expose_binding("__fieldservicePolicyViolation", reported)
    context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", console)


def policy_violations(context: BrowserContext) -> list[str]:
    """The violations reported so far in this test, which are then forgotten: for a test that
    asserts on them itself."""
    for page in context.pages:  # a round trip to each page lets its last reports reach us
        with contextlib.suppress(PlaywrightError):  # a page that is navigating away, or gone
            page.evaluate("0")
    found, _violations[:] = list(dict.fromkeys(_violations)), []
    return found


@pytest.fixture(autouse=True)
def _no_policy_violations(context: BrowserContext) -> Iterator[None]:
    """Fails the test if any page it opened violated the Content-Security-Policy."""
    _violations.clear()
    watch_policy_violations(context)
    yield
    found = policy_violations(context)
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def demo(transactional_db: None, settings: Any) -> None:
    """The `small` demo of the pinned day, seeded into the test database (the command needs
    DEBUG on)."""
    settings.DEBUG = True
    ensure_role_groups()
    call_command("seed_demo", scale="small", seed=1, today=clock.today().isoformat(), verbosity=0)


@pytest.fixture
def screenshot_dir() -> Iterator[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOTS


def login(page: Any, live_server: Any, username: str, password: str = "demo") -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def keep_for_readme(path: Path, name: str) -> None:
    """Copy a screenshot into docs/screenshots/ (committed, shown in the README)."""
    target = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
