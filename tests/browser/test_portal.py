"""A borrower on a phone, in Chinese, in the portal (/my/): signs in with the SMS code, reads why
we are in touch, declines a visit notice, asks for an instalment plan with a document and
downloads the record; another pays an account off in the sandbox and downloads the certificate.

A full-page screenshot of every step, and the files downloaded, go to $DOORSTEP_SCREENSHOTS
(default: the test's tmp_path), numbered in the order of the walk: 01–10, then the payoff 11–15."""

import csv
import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from doorstep.arrangements.models import Arrangement
from doorstep.ledger.domain import local_date
from doorstep.ledger.models import Account, Borrower, Region
from doorstep.ledger.queries import account_position
from doorstep.payments.models import PaymentIntent
from doorstep.portal.record import stage_label
from doorstep.strategy.models import Decision
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit
from tests.browser.test_field_agent import midday_zone
from tests.visits.conftest import make_agent

pytestmark = pytest.mark.usefixtures("today_is_a_working_day")

# The builder numbers borrowers in account order: B<account>, 借款人<n>, phone 138<n:08>.
PHONES = {"P1": "13800000000", "P2": "13800000001"}
NAMES = {"P1": "借款人0", "P2": "借款人1"}
PAYSLIP = b"%PDF-1.4\n% payslip for the browser test\n%%EOF\n"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=folder / name, full_page=True)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext reads it, without whitespace (lines wrap anywhere)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: install poppler-utils (make install does)")
    text = subprocess.run(  # noqa: S603
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return flat(text)


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def portfolio(tmp_path, transactional_db, settings):
    """P1 (借款人0): ¥6,000 overdue 95 days, a home visit proposed by the nightly run, approved
    and noticed for three days from now; P2 (借款人1): ¥3,000 overdue 40 days. The region is put
    where it is about noon now, so the notice goes out within contact hours whenever this runs."""
    from doorstep.compliance.domain import review_template
    from doorstep.contact.domain import draft_default_templates
    from doorstep.intake.importer import import_portfolio
    from doorstep.strategy.domain import run_nightly
    from doorstep.visits import domain
    from tests.strategy.builder import Portfolio

    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS, "routing_seconds": 0.3}
    now = datetime.now(UTC)
    zone = midday_zone(now)
    p = Portfolio(now.astimezone(ZoneInfo(zone)).date())
    p.account("P1", overdue="6000.00", dpd=95, due_in=10, region="440305")
    p.account("P2", overdue="3000.00", dpd=40, due_in=10, region="440305")
    import_portfolio(p.write(tmp_path / "p"))
    Region.objects.filter(code="440305").update(time_zone=zone)
    Borrower.objects.filter(pk="BP1").update(lat=22.53, lon=113.93)
    Borrower.objects.filter(pk="BP2").update(lat=22.55, lon=113.95)
    for template in draft_default_templates(by="author"):
        review_template(template.pk, by="compliance", approve=True)
    team = domain.form_team(
        "T1", region_code="440305", members=[make_agent("FA-0001", "王强"),
                                             make_agent("FA-0002", "李娜")],
        base=(22.54, 113.94), by="sup", at=now - timedelta(days=1),
    )  # fmt: skip
    today = local_date(Account.objects.get(pk="P1"), now)
    run_nightly(today, by="nightly")
    [visit] = Visit.objects.filter(account_id="P1", state=VisitState.PROPOSED)
    domain.approve_visits([visit.pk], by="sup", at=now)
    domain.plan_notices("440305", today + timedelta(days=3), by="sup", at=now)
    visit.refresh_from_db()
    assert (visit.state, visit.team_id) == (VisitState.NOTICE_SENT, team.pk)
    return {"today": today, "visit": visit.pk}


def sign_in(page: Page, site: str, account_id: str, folder: Path | None = None) -> None:
    """Phone number, the demo code shown on the code page, and the account page."""
    page.goto(f"{site}/my/")
    page.locator("#phone").fill(PHONES[account_id])
    if folder:
        shot(page, folder, "01-signin.png")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{site}/my/code/")
    expect(page.locator("#demo-code")).to_contain_text("验证码")
    code = re.search(r"\b(\d{6})\b", page.locator("#demo-code").inner_text()).group(1)
    page.locator("#code").fill(code)
    if folder:
        shot(page, folder, "02-code.png")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{site}/my/a/{account_id}/")  # one account: straight to it


def test_a_borrower_signs_in_reads_why_declines_the_visit_asks_for_a_plan_and_downloads(
    phone, site, portfolio, shots
):
    today = portfolio["today"]
    sign_in(phone, site, "P1", shots)

    # Why we are in touch: the stage and the strategy's reasons, as tonight's decision gave them.
    decision = Decision.objects.get(account_id="P1", as_of=today)
    position = account_position(Account.objects.get(pk="P1"), today)
    overdue = f"¥{position.overdue / 100:,.2f}"
    assert position.overdue >= 600000
    expect(phone.locator("#overdue")).to_have_text(overdue)
    stage = phone.locator("#stage")
    expect(stage.locator(".state")).to_have_text(stage_label(decision.stage, zh=True))
    assert decision.stage == "home_visit"
    assert re.search(r"[\u4e00-\u9fff]", decision.reasons_zh)
    expect(stage.locator("#reasons")).to_have_text(decision.reasons_zh)
    expect(stage.locator("#reasons")).to_contain_text("95")  # the days overdue
    expect(stage.locator("#reasons")).to_contain_text(re.compile(r"¥6,?000\.00"))
    if phone.locator("#next").count():
        assert re.search(r"[\u4e00-\u9fff]", phone.locator("#next").inner_text())
    expect(phone.locator("#visit .state")).to_have_text("已发送通知")
    no_sideways_scroll(phone)
    shot(phone, shots, "03-account.png")

    # The visit notice: decline it.
    phone.locator("#answer-visit").click()
    phone.wait_for_url(re.compile(r"/v/[^/]+/$"))
    expect(phone.locator("#status")).to_have_text("已发送通知")
    shot(phone, shots, "04-visit-notice.png")
    phone.get_by_role("button", name="拒绝上门拜访").click()
    expect(phone.locator("#status")).to_have_text("借款人已拒绝")
    visit = Visit.objects.get(pk=portfolio["visit"])
    assert (visit.state, visit.answer) == (VisitState.DECLINED, "decline")
    no_sideways_scroll(phone)
    shot(phone, shots, "05-visit-declined.png")

    # Declining holds visits for 30 days: the account leaves the visit stage at once, on the page
    # and in the stored decision the record and the staff's screens read.
    phone.goto(f"{site}/my/a/P1/")
    expect(phone.locator("#visit")).to_have_count(0)  # a declined visit is no longer open
    expect(phone.locator("#reasons")).to_contain_text("拒绝")
    decision = Decision.objects.get(account_id="P1", as_of=today)
    assert decision.stage != "home_visit", "the decline did not re-evaluate the account"
    expect(phone.locator("#stage .state")).to_have_text(stage_label(decision.stage, zh=True))

    # Ask for an instalment plan over what is overdue, six months, with a payslip.
    phone.locator("#ask-plan").click()
    phone.wait_for_url(f"{site}/my/a/P1/plan/")
    phone.locator("#kind").select_option(label="分期还款计划")
    phone.locator("#base").select_option("overdue")
    phone.locator("#months").select_option("6")
    first_due = today + timedelta(days=14)
    phone.locator("#first_due").fill(first_due.isoformat())
    phone.locator("#document_kind").select_option("payslip")
    phone.locator("#documents").set_input_files(
        {"name": "工资单.pdf", "mimeType": "application/pdf", "buffer": PAYSLIP}
    )
    shot(phone, shots, "06-plan-request.png")
    phone.locator("#plan-submit").click()
    phone.wait_for_url(re.compile(rf"{re.escape(site)}/my/a/P1/plan/[^/]+/$"))
    expect(phone.locator("#plan-state")).to_have_text("已申请")
    [arrangement] = Arrangement.objects.filter(account_id="P1")
    assert phone.url.endswith(f"/plan/{arrangement.pk}/")
    position = account_position(Account.objects.get(pk="P1"), today)
    assert (arrangement.kind, arrangement.base, arrangement.state, arrangement.months) == (
        "instalment", "overdue", "requested", 6,
    )  # fmt: skip
    assert arrangement.amount_cents == position.overdue
    assert arrangement.first_due == first_due
    [document] = arrangement.evidence.all()
    assert (document.content_type, document.kind, document.name) == (
        "application/pdf", "payslip", "工资单.pdf",
    )  # fmt: skip
    assert document.file.read() == PAYSLIP
    expect(phone.get_by_role("link", name="工资单.pdf")).to_be_visible()
    no_sideways_scroll(phone)
    shot(phone, shots, "07-plan-requested.png")

    # The record, as PDF and CSV.
    phone.goto(f"{site}/my/a/P1/")
    expect(phone.locator("#arrangement")).to_have_text("分期还款计划: 已申请")
    shot(phone, shots, "08-account-after.png")
    with phone.expect_download() as pdf_download:
        phone.locator("#record-pdf").click()
    pdf = shots / "09-record.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert NAMES["P1"] in text
    decision = Decision.objects.get(account_id="P1", as_of=today)
    assert flat(f"当前阶段 {stage_label(decision.stage, zh=True)}") in text
    asked = f"¥{arrangement.amount_cents / 100:,.2f}"
    assert flat(f"分期还款计划: 申请 金额 {asked}") in text  # the arrangement's request
    assert "借款人拒绝" in text  # the declined visit

    with phone.expect_download() as csv_download:
        phone.locator("#record-csv").click()
    csv_download.value.save_as(shots / "10-record.csv")
    raw = (shots / "10-record.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["at", "kind", "title", "detail", "amount_yuan"]
    plans = [r for r in rows[1:] if r[1] == "arrangement"]
    assert len(plans) == 1
    assert plans[0][2] == "分期还款计划: 申请"
    assert plans[0][4] == f"{arrangement.amount_cents / 100:.2f}"
    assert ["visit", "借款人拒绝"] in [r[1:3] for r in rows[1:]]


def test_a_borrower_pays_the_account_off_in_the_sandbox_and_gets_the_certificate(
    phone, site, portfolio, shots
):
    today = portfolio["today"]
    sign_in(phone, site, "P2")
    balance = Account.objects.get(pk="P2").balance_cents
    phone.locator("#pay").click()
    phone.wait_for_url(f"{site}/my/a/P2/pay/")
    expect(phone.locator("#sandbox-banner")).to_contain_text("沙箱")
    everything = phone.get_by_label(re.compile("全部（结清账户）"))
    everything.check()
    expect(phone.locator("label", has=everything)).to_contain_text(f"¥{balance / 100:,.2f}")
    no_sideways_scroll(phone)
    shot(phone, shots, "11-pay.png")
    phone.locator("#pay-submit").click()

    phone.wait_for_url(re.compile(r"/my/payments/[^/]+/sandbox/$"))
    expect(phone.locator("main")).to_contain_text("沙箱")
    expect(phone.locator("#sandbox-amount")).to_have_text(f"¥{balance / 100:,.2f}")
    shot(phone, shots, "12-sandbox.png")
    phone.get_by_role("button", name="模拟：支付成功").click()

    phone.wait_for_url(re.compile(r"/my/payments/[^/]+/$"))
    expect(phone.locator("#settled-now")).to_contain_text("您的账户已结清")
    [intent] = PaymentIntent.objects.filter(account_id="P2")
    assert (intent.state, intent.purpose, intent.amount_cents) == ("succeeded", "full", balance)
    account = Account.objects.get(pk="P2")
    assert (account.status, account.balance_cents) == ("settled", 0)
    no_sideways_scroll(phone)
    shot(phone, shots, "13-paid.png")

    phone.goto(f"{site}/my/a/P2/")
    expect(phone.locator("#settled h2").first).to_have_text("已结清")
    expect(phone.locator("#pay")).to_have_count(0)
    shot(phone, shots, "14-settled.png")
    with phone.expect_download() as certificate:
        phone.locator("#certificate").click()
    path = shots / "15-certificate.pdf"
    certificate.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert NAMES["P2"] in text
    assert flat(f"结清证明 编号：SC-P2-{today:%Y%m%d}") in text
    assert flat("剩余欠款 ¥0.00") in text
