"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures: `browser` (one Chromium per test process), `phone` and `slow_phone` (a fresh page in a
phone-sized context; the slow one on a throttled connection), `site` (the live server's base URL),
`staff_login` (a staff user in a role's group) and `log_in` (through the real login form).
docs/testing.md explains the launch flags and the event-loop handling below.
"""

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Playwright cannot download its own browsers here. Without the background-networking flags
# Chromium phones home at start (component updates, sync, QUIC probes) and those connections are
# refused on the build machines. Playwright gives every launch a fresh empty profile of its own
# (it refuses --user-data-dir with launch()), so no state carries over between runs.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
# A slow mobile connection: ~400 kbit/s each way and 400 ms latency per request (CDP units are
# bytes per second and milliseconds).
SLOW_CONNECTION = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 // 8,
    "uploadThroughput": 400_000 // 8,
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every test that needs Chromium is a browser test, so `-m browser` / `-m "not browser"`
    select exactly the tests that need it, without relying on a marker someone may forget."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, save what each open page showed to var/test-artifacts/ and name the file
    in the report, so a CI log points at it."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        pages = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Page)]
        for number, page in enumerate(pages):
            if page.is_closed():
                continue
            folder = Path(settings.VAR_DIR) / "test-artifacts"
            folder.mkdir(parents=True, exist_ok=True)
            suffix = f"-{number}" if number else ""
            path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}{suffix}.png"
            try:
                page.screenshot(path=path, full_page=True, timeout=10_000)
            except Exception as error:  # the page may be what broke; keep the real failure
                report.sections.append(("browser screenshot", f"not saved: {error}"))
            else:
                report.sections.append(("browser screenshot", f"{path} (at {page.url})"))
    return report


# Playwright's sync API runs its asyncio loop in a greenlet of the test thread and, while it is
# alive, marks that loop as running in the thread (after every call: wait_for_future() in
# playwright/_impl/_greenlets.py). With the mark set, Django refuses the ORM in the thread
# (SynchronousOnlyOperation) and keeps its connections per asyncio context instead of per thread
# (asgiref's thread-critical Local), so the test body would get a second connection beside the
# one the test's database fixture set up; asyncio.run() and async_to_sync refuse to start. With
# one browser per test process (xdist worker) all of that would reach every later test of the
# worker. So the thread is Playwright's only during a browser test: `_chromium` takes the mark
# back after launching, and `_playwright_turn` hands it over for each browser test with
# DJANGO_ALLOW_ASYNC_UNSAFE set (no Playwright code runs while the test uses the ORM: the sync
# API waits for each call) and the thread's connections in the test's context, then takes it
# back.


def _hand_thread_to(playwright: Playwright | None) -> None:
    asyncio._set_running_loop(playwright._loop if playwright else None)


@dataclass
class _Chromium:
    playwright: Playwright
    browser: Browser


@pytest.fixture(scope="session")
def _chromium() -> Iterator[_Chromium]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"browser tests need Chromium at {CHROMIUM}: install Debian's chromium "
            "(make install does)",
            pytrace=False,
        )
    playwright = None
    try:
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
    except BaseException:
        if playwright is not None:
            playwright.stop()
        raise
    finally:
        _hand_thread_to(None)
    yield _Chromium(playwright, browser)
    _hand_thread_to(playwright)
    try:
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def browser(_chromium: _Chromium) -> Browser:
    """The session's Chromium (one per xdist worker), headless, launched with CHROMIUM_ARGS."""
    return _chromium.browser


@pytest.fixture(autouse=True)
def _playwright_turn(request) -> Iterator[None]:
    if "browser" not in request.fixturenames:
        yield
        return
    chromium = request.getfixturevalue("_chromium")
    thread_connections = {alias: connections[alias] for alias in connections}
    allowed = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _hand_thread_to(chromium.playwright)
    for alias, connection in thread_connections.items():
        connections[alias] = connection
    try:
        yield
    finally:
        _hand_thread_to(None)
        if allowed is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed


def _open_phone(browser: Browser, *, slow: bool) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        screen={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        # What Chrome on Android sends since its user-agent reduction.
        user_agent=(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{browser.version.split('.')[0]}.0.0.0 Mobile Safari/537.36"
        ),
        # The console's own default language and zone: what a collector's phone sends.
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = context.new_page()
    if slow:
        context.new_cdp_session(page).send("Network.emulateNetworkConditions", SLOW_CONNECTION)
    yield page
    # Closed before the test's database flush, so no request of this page is left in flight.
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh page in a new context sized and behaving like a phone (390×844, touch, ×3)."""
    yield from _open_phone(browser, slow=False)


@pytest.fixture
def slow_phone(browser: Browser) -> Iterator[Page]:
    """`phone` on a slow connection (SLOW_CONNECTION); pages opened from it are not throttled."""
    yield from _open_phone(browser, slow=True)


@pytest.fixture
def site(live_server) -> str:
    """The live server's base URL without a trailing slash: f"{site}/admin/"."""
    return live_server.url


@dataclass(frozen=True)
class Login:
    username: str
    password: str


@pytest.fixture
def staff_login(transactional_db) -> Callable[..., Login]:
    """staff_login(role, username=role) creates a staff user in the role's group
    (doorstep.web.roles) and returns its username and password."""
    from django.contrib.auth import get_user_model

    from doorstep.web.domain import ensure_role_groups

    def create(role: str, *, username: str | None = None) -> Login:
        login = Login(username or role, f"pw-{role}-browser")
        user = get_user_model().objects.create_user(
            login.username, password=login.password, is_staff=True
        )
        user.groups.set([ensure_role_groups()[role]])
        return login

    return create


@pytest.fixture
def log_in(site: str) -> Callable[..., None]:
    """log_in(page, login, to="/") signs in through the login form and waits for `to`."""

    def sign_in(page: Page, login: Login, *, to: str = "/") -> None:
        page.goto(f"{site}/admin/login/?{urlencode({'next': to})}")
        page.locator("#id_username").fill(login.username)
        page.locator("#id_password").fill(login.password)
        form = f"{site}/admin/login/"
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.startswith(form)
        ) as posted:
            page.locator('#login-form [type="submit"]').click()
        if posted.value.status != 302:
            note = page.locator(".errornote").all_inner_texts()
            raise AssertionError(f"login as {login.username!r} refused: {note}")
        page.wait_for_url(f"{site}{to}")

    return sign_in
