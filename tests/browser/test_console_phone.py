"""The console on a phone: a staff user signs in through the login form and reads the home page."""

from datetime import date

import pytest

from doorstep.intake.importer import import_portfolio
from doorstep.strategy.domain import run_nightly

# The latency SLOW_CONNECTION in conftest.py emulates per request.
SLOW_LATENCY_MS = 400


@pytest.fixture
def decided_portfolio(transactional_db, portfolio_dir):
    """The example portfolio with the nightly run of 2026-11-20: two accounts for legal, one
    suspended (as in tests/web/test_home.py)."""
    import_portfolio(portfolio_dir)
    run_nightly(date(2026, 11, 20), by="test")


def stage_rows(page) -> list[list[str]]:
    return page.locator("#stages tbody tr").evaluate_all(
        "rows => rows.map(row => [row.cells[0].title, row.cells[1].textContent])"
    )


def test_staff_user_signs_in_on_a_phone_and_reads_the_stages(
    phone, site, staff_login, log_in, decided_portfolio
):
    log_in(phone, staff_login("field_supervisor"))

    width = phone.viewport_size["width"]
    assert phone.url == f"{site}/"
    assert sorted(cookie["name"] for cookie in phone.context.cookies()) == [
        "csrftoken",
        "sessionid",
    ]
    assert stage_rows(phone) == [["legal", "2"], ["suspended", "1"]]
    stages = phone.locator("#stages").bounding_box()
    assert stages is not None
    assert stages["x"] >= 0
    assert stages["x"] + stages["width"] <= width
    # On a mobile viewport Chromium widens the layout viewport to content that overflows
    # (innerWidth follows scrollWidth), so both are compared with the phone's width.
    assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [
        width,
        width,
    ]


def test_the_console_loads_on_a_slow_phone_with_its_static_files(
    slow_phone, site, staff_login, log_in, decided_portfolio
):
    static = []
    slow_phone.on(
        "requestfinished",
        lambda request: static.append(request) if "/static/" in request.url else None,
    )

    # Each navigation and wait below fails past Playwright's default timeout (30 s).
    log_in(slow_phone, staff_login("field_agent"))

    assert slow_phone.url == f"{site}/"
    assert stage_rows(slow_phone) == [["legal", "2"], ["suspended", "1"]]
    statuses = {request.url.removeprefix(site): request.response().status for request in static}
    assert statuses["/static/admin/css/base.css"] == 200
    assert set(statuses.values()) == {200}
    # The connection was slow indeed: every asset waited about the emulated latency for its
    # answer (measured 403-569 ms; 8-66 ms on `phone`), less a margin for where Chromium starts
    # the clock.
    waits = [request.timing["responseStart"] - request.timing["requestStart"] for request in static]
    assert min(waits) >= 0.9 * SLOW_LATENCY_MS
