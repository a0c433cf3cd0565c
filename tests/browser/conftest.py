"""Browser tests: Playwright driving Debian's headless Chromium against a live server
seeded with the `small` demo. Screenshots go to test-results/screenshots/.

Playwright never downloads a browser here: it is pointed at /usr/bin/chromium
(deploy/bootstrap.sh installs it for the tests)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import BrowserContext

from fieldservice import clock
from tests.conftest import ensure_role_groups

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"

# pytest-django's live server runs in a thread; sync Playwright keeps an event loop in the
# main one, which Django would otherwise take for async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not CHROMIUM.exists():
        skip = pytest.mark.skip(reason="no /usr/bin/chromium: run deploy/bootstrap.sh --browser")
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(skip)


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
    """For contexts a test makes itself (browser.new_context())."""
    context.clock.install(time=clock.now())


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
