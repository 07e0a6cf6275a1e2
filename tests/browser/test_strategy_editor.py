"""A strategy manager edits the strategy in the console: an edit with an error (Check shows it at
its line), then a valid one with its impact, then publish; the index shows the new version. The
same pages at a phone's width. Screenshots of each step go to $DOORSTEP_SCREENSHOTS (default: the
test's tmp_path) for a person to look at."""

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from doorstep.intake.importer import import_portfolio
from doorstep.strategy.domain import run_nightly
from doorstep.strategy.models import StrategyVersion
from tests.browser.conftest import PHONE_HEIGHT, PHONE_WIDTH
from tests.strategy.builder import Portfolio
from tests.strategy.edits import visit_from

AS_OF = date(2026, 11, 20)
VISIT_AT_60 = '"dpd >= 60 AND overdue_amount >= 3000"'
# On SQLite the dry run starts a process of its own (console/strategy_editor.py): seconds.
DRY_RUN_MS = 60_000


@pytest.fixture
def decided_accounts(transactional_db, tmp_path):
    """Five accounts decided on AS_OF: one 70 days overdue with ¥5,000 (phone; a home visit if
    visits start at 60 days), one in phone, one in home_visit, one reminder, one pre-due."""
    p = Portfolio(AS_OF)
    p.account("D70", overdue="5000.00", dpd=70)
    p.account("D40", overdue="5000.00", dpd=40)
    p.account("D95", overdue="6000.00", dpd=95)
    p.account("D05", overdue="600.00", dpd=5)
    p.account("SOON", due_in=2)
    import_portfolio(p.write(tmp_path / "portfolio"))
    run_nightly(AS_OF, by="test")


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits(page: Page) -> bool:
    """Nothing wider than the viewport: no sideways scrolling of the page itself."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_strategy_manager_checks_an_edit_sees_its_impact_and_publishes_it(
    desktop, site, staff_login, log_in, decided_accounts, shots
):
    page = desktop
    log_in(page, staff_login("strategy_manager"), to="/console/strategy/")
    expect(page.locator("h1")).to_have_text("Strategy default, version 1")
    page.screenshot(path=shots / "01-index.png", full_page=True)

    page.locator("#edit").click()
    page.wait_for_url(f"{site}/console/strategy/edit/")
    editor = page.locator("textarea.code")
    original = editor.input_value()
    assert original.startswith("# The default escalation strategy")
    assert page.locator('input[name="as_of"]').input_value() == "2026-11-20"
    page.screenshot(path=shots / "02-editor.png")

    # An unknown feature: Check names the rule and points at the document's line and column.
    editor.fill(original.replace('"dpd >= 31"', '"dpd >= salary"'))
    page.locator("#check").click()
    problem = page.locator("#check-result li.problem")
    expect(problem).to_have_count(1)
    expect(problem.locator(".problem-message")).to_have_text(
        "rule phone.dpd_31 (line 1, column 8): unknown feature 'salary'"
    )
    expect(problem.locator(".where")).to_have_text("line 39, column 23")
    expect(problem.locator("li.marked")).to_have_text('        when: "dpd >= salary"')
    problem.locator(".where").click()  # selects the line in the editor
    selected = editor.evaluate("a => a.value.substring(a.selectionStart, a.selectionEnd)")
    assert selected == '        when: "dpd >= salary"'
    page.locator("#check-result").scroll_into_view_if_needed()
    page.screenshot(path=shots / "03-check-error.png")
    assert StrategyVersion.objects.count() == 1

    # A real change: home visits from 60 days. Impact runs it beside the active strategy.
    editor.fill(visit_from(original, 60))
    page.locator("#check").click()
    expect(page.locator("#valid")).to_be_visible()
    page.locator("#impact").click()
    expect(page.locator("#impact-summary")).to_contain_text(
        "1 of 5 accounts change stage.", timeout=DRY_RUN_MS
    )
    matrix = page.locator("#matrix")
    expect(matrix.locator('tr[data-stage="phone"] td[data-to="home_visit"]')).to_have_text("1")
    expect(matrix.locator('tr[data-stage="home_visit"] td[data-to="home_visit"]')).to_have_text("1")
    expect(matrix.locator("tfoot td").last).to_have_text("5")
    expect(page.locator("#moved tbody tr")).to_have_count(1)
    expect(page.locator("#moved tbody tr td").first).to_have_text("D70")
    page.locator("#impact-result").scroll_into_view_if_needed()
    page.screenshot(path=shots / "04-impact.png")

    page.locator("#note").fill("home visits from 60 days")
    page.locator("#publish").click()
    page.wait_for_url(f"{site}/console/strategy/")
    expect(page.locator("h1")).to_have_text("Strategy default, version 2")
    expect(page.locator("[role=alert]")).to_have_text("Published default@2.")
    expect(page.locator("#active-author")).to_have_text("strategy_manager")
    expect(page.locator("#active-note")).to_have_text("home visits from 60 days")
    expect(page.locator("#changes .add").first).to_have_text(f"+        when: {VISIT_AT_60}")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    page.screenshot(path=shots / "05-published.png", full_page=True)
    version = StrategyVersion.objects.get(version=2)
    assert (version.author, version.note) == ("strategy_manager", "home visits from 60 days")

    # At a phone's width the pages still fit, and the editor and its impact are usable.
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    page.reload()
    assert fits(page)
    page.screenshot(path=shots / "06-index-390.png", full_page=True)
    page.goto(f"{site}/console/strategy/edit/")
    box = page.locator("textarea.code").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH
    page.locator("textarea.code").fill(original)  # back to 90 days: one account moves back
    page.locator("#impact").click()
    expect(page.locator("#impact-summary")).to_contain_text(
        "1 of 5 accounts change stage.", timeout=DRY_RUN_MS
    )
    assert fits(page)
    page.locator("#impact-result").scroll_into_view_if_needed()
    page.screenshot(path=shots / "07-impact-390.png")
