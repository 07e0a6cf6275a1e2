"""The console in a browser: a collector claims the top call of the queue and records a promise
(in Chinese, the default); a field supervisor approves a visit proposal on a phone; a call
outside contact hours is shown disabled with its rule and cannot be sent (in English).

A full-page screenshot of every step goes to $DOORSTEP_SCREENSHOTS (default: the test's
tmp_path), numbered in the order of the walks: 01–06 the promise, 07–10 the visit proposals,
11–12 the blocked call."""

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from doorstep.compliance.models import Refusal
from doorstep.contact.models import Contact
from doorstep.ledger.domain import local_date
from doorstep.ledger.models import Account, Region
from doorstep.ledger.queries import account_position
from doorstep.strategy.models import Decision, PlannedAction
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit
from doorstep.worklist.models import Claim
from tests.console.test_calls import zone_where_it_is

pytestmark = pytest.mark.usefixtures("today_is_a_working_day")

DESKTOP = {"width": 1280, "height": 800}
HOURS_REASON_EN = "outside contact hours (08:00–21:00 in the borrower's time zone)"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=folder / name, full_page=True)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """desktop(locale) opens a page in a fresh desktop-sized context asking for that language."""
    contexts = []

    def open_page(locale: str) -> Page:
        context = browser.new_context(viewport=DESKTOP, locale=locale, timezone_id="Asia/Shanghai")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:  # before the database flush: no request left in flight
        context.close()


@pytest.fixture
def calls(tmp_path, transactional_db):
    """C1 ¥1,000 at 40 days, C2 ¥1,000 at 70, C3 ¥9,000 at 50 (the top of the queue), all in the
    phone stage after the run of the region's today; the region is where it is about noon, inside
    contact hours. That zone's date is never after the server's (Asia/Shanghai), so the queue
    shows this run."""
    from doorstep.intake.importer import import_portfolio
    from doorstep.strategy.domain import run_nightly
    from tests.strategy.builder import Portfolio

    zone = zone_where_it_is(12)
    today = datetime.now(ZoneInfo(zone)).date()
    p = Portfolio(today)
    p.account("C1", overdue="1000.00", dpd=40)
    p.account("C2", overdue="1000.00", dpd=70)
    p.account("C3", overdue="9000.00", dpd=50)
    import_portfolio(p.write(tmp_path / "p"))
    Region.objects.filter(code="440305").update(time_zone=zone)
    run_nightly(today, by="nightly")
    return today


@pytest.fixture
def proposals(tmp_path, transactional_db):
    """V1 ¥6,000 at 95 days and V2 ¥5,000 at 100, in Nanshan (in-house field coverage): the
    nightly run puts both in home_visit and proposes a visit for each."""
    from doorstep.intake.importer import import_portfolio
    from doorstep.strategy.domain import run_nightly
    from tests.strategy.builder import Portfolio

    today = timezone.localdate()
    p = Portfolio(today)
    p.account("V1", overdue="6000.00", dpd=95, region="440305")
    p.account("V2", overdue="5000.00", dpd=100, region="440305")
    import_portfolio(p.write(tmp_path / "p"))
    run_nightly(today, by="nightly")
    visits = {v.account_id: v for v in Visit.objects.filter(state=VisitState.PROPOSED)}
    assert sorted(visits) == ["V1", "V2"]
    return visits


def test_a_collector_claims_the_top_call_and_records_a_promise_in_chinese(
    desktop, site, staff_login, log_in, calls, shots
):
    page = desktop("zh-CN")
    log_in(page, staff_login("phone_collector"))
    page.goto(f"{site}/console/")
    expect(page).to_have_url(f"{site}/console/calls/")  # a collector's console is the queue
    expect(page.locator("h1")).to_have_text("电催队列")
    expect(page.locator("header nav a.active")).to_have_text("电催队列")

    task = PlannedAction.objects.get(account_id="C3", kind="call_task", as_of=calls)
    top = page.locator("#call-queue tbody tr").first
    expect(top).to_have_attribute("id", f"call-{task.pk}")  # ¥9,000 at 50 days comes first
    expect(top.locator("td").first).to_have_text("C3")
    shot(page, shots, "01-call-queue.png")

    top.get_by_role("button", name="领取").click()
    row = page.locator(f"#call-{task.pk}")  # htmx swapped the row in place
    expect(row.get_by_role("link", name="打开")).to_be_visible()
    expect(row.get_by_role("button", name="释放")).to_be_visible()
    expect(row).to_contain_text("phone_collector")
    expect(page).to_have_url(f"{site}/console/calls/")
    assert Claim.objects.get(kind="call", item=str(task.pk)).claimed_by == "phone_collector"
    shot(page, shots, "02-claimed.png")

    row.get_by_role("link", name="打开").click()
    page.wait_for_url(f"{site}/console/accounts/C3/")
    today = calls
    assert local_date(Account.objects.get(pk="C3"), datetime.now(UTC)) == today
    position = account_position(Account.objects.get(pk="C3"), today)
    figures = page.locator("#figures")
    expect(figures).to_contain_text("今日数据")
    expect(figures).to_contain_text(f"¥{position.overdue / 100:,.2f}")
    expect(figures).to_contain_text(f"{position.dpd} ({position.bucket})")
    decision = Decision.objects.get(account_id="C3", as_of=today)
    expect(page.locator("#decision #stage")).to_have_attribute("data-stage", decision.stage)
    expect(page.locator("#decision #stage")).to_have_text("电催")
    assert re.search(r"[\u4e00-\u9fff]", decision.reasons_zh)
    expect(page.locator("#decision")).to_contain_text(decision.reasons_zh)
    expect(page.locator('#actions [data-channel="call"]')).to_have_count(0)  # allowed
    shot(page, shots, "03-case.png")

    promised = today + timedelta(days=3)
    form = page.locator("#promise")
    form.get_by_placeholder("金额（元）").fill("3000")
    form.locator("input[name=ptp_date]").fill(promised.isoformat())
    shot(page, shots, "04-promise-filled.png")
    form.get_by_role("button", name="承诺还款").click()

    expect(page.get_by_role("alert")).to_contain_text("已记录")
    expect(page).to_have_url(f"{site}/console/accounts/C3/")
    contact = Contact.objects.get(account_id="C3")
    assert (contact.channel, contact.outcome, contact.ptp_amount_cents, contact.ptp_date) == (
        "call", "promise_to_pay", 300_000, promised,
    )  # fmt: skip
    assert contact.permit_id is not None
    task.refresh_from_db()
    assert task.status == "done"
    shot(page, shots, "05-promise-recorded.png")

    page.goto(f"{site}/console/calls/")
    expect(page.locator("#call-queue tbody tr")).to_have_count(2)
    expect(page.locator(f"#call-{task.pk}")).to_have_count(0)  # done: off the queue
    shot(page, shots, "06-queue-after.png")


def test_a_field_supervisor_approves_a_visit_proposal_on_a_phone(
    phone, site, staff_login, log_in, proposals, shots
):
    log_in(phone, staff_login("field_supervisor"))
    phone.goto(f"{site}/console/")
    expect(phone).to_have_url(f"{site}/visits/review/")  # a field supervisor's console
    expect(phone.locator("h1")).to_have_text("外访申请")
    first = phone.get_by_role("checkbox", name=re.compile("借款人0"))  # V1's borrower
    other = phone.get_by_role("checkbox", name=re.compile("借款人1"))
    expect(first).to_have_value(proposals["V1"].pk)
    expect(other).to_have_value(proposals["V2"].pk)
    card = phone.locator("label.card", has=first)
    expect(card).to_contain_text("95 天 · ¥6,000.00")
    expect(card).to_contain_text(proposals["V1"].reasons["zh"])
    assert re.search(r"[\u4e00-\u9fff]", proposals["V1"].reasons["zh"])
    width = phone.viewport_size["width"]
    # On a mobile viewport innerWidth follows content that overflows: compare with the phone's.
    assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [
        width,
        width,
    ]
    shot(phone, shots, "07-visit-proposals.png")

    first.check()
    expect(first).to_be_checked()
    expect(other).not_to_be_checked()
    shot(phone, shots, "08-visit-ticked.png")
    phone.get_by_role("button", name="批准所选").click()

    expect(phone.get_by_role("checkbox", name=re.compile("借款人0"))).to_have_count(0)
    expect(phone.get_by_role("checkbox", name=re.compile("借款人1"))).to_have_count(1)
    expect(phone).to_have_url(f"{site}/visits/review/")
    visit = Visit.objects.get(pk=proposals["V1"].pk)
    assert (visit.state, visit.reviewed_by) == (VisitState.APPROVED, "field_supervisor")
    assert Visit.objects.get(pk=proposals["V2"].pk).state == VisitState.PROPOSED
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    shot(phone, shots, "09-visit-approved.png")

    other.check()
    phone.get_by_role("button", name="批准所选").click()
    expect(phone.get_by_text("暂无待审批的外访申请。")).to_be_visible()
    assert Visit.objects.get(pk=proposals["V2"].pk).state == VisitState.APPROVED
    shot(phone, shots, "10-visit-none-left.png")


def test_a_call_outside_contact_hours_is_disabled_with_its_rule(
    desktop, site, staff_login, log_in, calls, shots
):
    Region.objects.filter(code="440305").update(time_zone=zone_where_it_is(22))
    page = desktop("en-US")
    log_in(page, staff_login("phone_collector"), to="/console/accounts/C2/")
    expect(page.locator("header nav")).to_contain_text("Call queue")

    call = page.locator("#actions tr", has=page.locator('[data-channel="call"]'))
    expect(call.locator('[data-channel="call"]')).to_have_text("not now")
    rule = call.locator(".rule")
    expect(rule).to_have_attribute("data-rule", "cn.hours.contact")
    expect(rule).to_have_text(f"cn.hours.contact: {HOURS_REASON_EN}")
    outcomes = page.locator("#call-outcome button")
    expect(outcomes).to_have_count(6)
    expect(outcomes.first).to_have_text("Reached")
    for button in outcomes.all():
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", "cn.hours.contact")
    promise = page.get_by_role("button", name="Promise to pay")
    expect(promise).to_be_disabled()
    shot(page, shots, "11-call-blocked.png")

    # Try anyway: a forced click on each button and Enter in the filled promise form. A form
    # submission fires `submit` synchronously; the counter lives in sessionStorage, so it would
    # survive the navigation a submission starts.
    page.evaluate(
        "document.addEventListener('submit',"
        " () => { sessionStorage.submits = +(sessionStorage.submits || 0) + 1 }, true)"
    )
    for button in outcomes.all():
        button.click(force=True)
    page.get_by_placeholder("Amount (yuan)").fill("500")
    page.locator("#promise input[name=ptp_date]").fill((calls + timedelta(days=3)).isoformat())
    promise.click(force=True)
    page.get_by_placeholder("Amount (yuan)").press("Enter")
    assert page.evaluate("sessionStorage.submits || '0'") == "0"
    expect(page).to_have_url(f"{site}/console/accounts/C2/")
    expect(page.get_by_placeholder("Amount (yuan)")).to_have_value("500")  # not reloaded
    expect(page.get_by_role("alert")).to_have_count(0)
    assert not Contact.objects.filter(account_id="C2").exists()
    assert not Refusal.objects.exists()  # nothing reached the guard either
    shot(page, shots, "12-call-blocked-tried.png")
