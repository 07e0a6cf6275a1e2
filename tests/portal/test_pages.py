"""The portal end to end through the test client: reasons, paying off (settles, cancels every
pending action, certificate), a plan request with a document, a complaint, the record."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from doorstep.arrangements import domain as arrangements
from doorstep.arrangements.models import Arrangement, Transition
from doorstep.ledger.models import Account
from doorstep.money import yuan_display
from doorstep.strategy.domain import run_nightly, take_payment
from doorstep.strategy.models import PlannedAction
from doorstep.visits import domain as visits
from doorstep.visits.enums import CancelReason, VisitEvent
from tests.arrangements.conftest import AS_OF, COLLECTOR, local
from tests.portal.conftest import sign_in
from tests.visits.conftest import VISIT_DAY
from tests.visits.test_workflow import noticed


def test_the_account_page_says_why_and_what_comes_next(borrower):
    page = borrower.get("/my/a/A1/").content.decode()
    assert "¥5,000.00" in page  # overdue
    assert "days overdue" in page  # the strategy's reason, in plain words
    assert 'id="next"' in page


def test_the_account_page_reads_the_account_and_its_books_once(borrower):
    borrower.get("/my/a/A1/")  # the session's idle deadline slides: not part of the page
    with CaptureQueriesContext(connection) as queries:
        page = borrower.get("/my/a/A1/").content.decode()

    sql = [q["sql"] for q in queries]
    assert "¥5,000.00" in page
    assert 'id="next"' in page
    assert sum('FROM "ledger_account"' in q for q in sql) == 1
    assert sum('FROM "ledger_instalment"' in q for q in sql) == 1
    assert sum('FROM "ledger_ledgerentry"' in q for q in sql) == 1
    assert len(sql) == 13


@pytest.mark.django_db(transaction=True)
def test_paying_off_settles_cancels_everything_and_gives_the_certificate(borrower):
    run_nightly(AS_OF, by="t")
    assert PlannedAction.objects.filter(account_id="A1", status="planned").exists()
    balance = Account.objects.get(pk="A1").balance_cents
    response = borrower.post("/my/a/A1/pay/", {"purpose": "full"})
    assert response.status_code == 302
    assert "/sandbox/" in response["Location"]
    assert "SANDBOX" in borrower.get(response["Location"]).content.decode()
    result = borrower.post(response["Location"], {"result": "paid"}, follow=True)
    assert "paid off" in result.content.decode()
    account = Account.objects.get(pk="A1")
    assert account.status == "settled"
    assert account.credited_cents == balance
    assert not PlannedAction.objects.filter(account_id="A1", status="planned").exists()
    pdf = borrower.get("/my/a/A1/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_the_certificate_is_only_for_a_settled_account(borrower):
    assert borrower.get("/my/a/A1/certificate.pdf").status_code == 404


def test_a_plan_request_with_a_document(borrower):
    payslip = SimpleUploadedFile("payslip.pdf", b"%PDF-1.4 salary", content_type="application/pdf")
    response = borrower.post(
        "/my/a/A1/plan/",
        {"kind": "instalment", "base": "overdue", "months": "6", "first_due": "2026-12-01",
         "document_kind": "payslip", "documents": payslip},
    )  # fmt: skip
    arrangement = Arrangement.objects.get(account_id="A1")
    assert response["Location"] == f"/my/a/A1/plan/{arrangement.pk}/"
    assert (arrangement.state, arrangement.months, arrangement.evidence.count()) == (
        "requested",
        6,
        1,
    )
    assert "Requested" in borrower.get(response["Location"]).content.decode()


def test_a_bad_plan_request_says_which_field(borrower):
    page = borrower.post(
        "/my/a/A1/plan/", {"kind": "instalment", "base": "overdue", "months": "30"}
    ).content.decode()
    assert "plan-error" in page
    assert not Arrangement.objects.exists()


def test_a_refusal_reads_in_the_borrowers_language_with_its_figures(borrower):
    borrower.cookies["django_language"] = "zh-hans"
    page = borrower.post(
        "/my/a/A1/plan/",
        {"kind": "instalment", "base": "overdue", "months": "30", "first_due": "2026-12-01"},
    ).content.decode()
    assert "分期期限为 3 至 24 个月" in page
    borrower.cookies["django_language"] = "en"
    page = borrower.post(
        "/my/a/A1/plan/",
        {"kind": "instalment", "base": "overdue", "months": "30", "first_due": "2026-12-01"},
    ).content.decode()
    assert "a plan runs 3 to 24 months" in page
    assert not Arrangement.objects.exists()


def test_the_record_lists_what_happened_as_csv(borrower):
    borrower.post("/my/a/A1/cases/", {"kind": "complaint", "category": "contact",
                                      "text": "Called me five times in one day."})  # fmt: skip
    rows = list(csv.reader(io.StringIO(borrower.get("/my/a/A1/record.csv").content.decode())))
    assert rows[0][0] == "\ufeffat"
    assert [r[1] for r in rows[1:]].count("complaint") == 1
    pdf = borrower.get("/my/a/A1/record.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_the_record_gives_a_complaint_its_answer_and_its_hold_in_the_borrowers_language(borrower):
    from doorstep.complaints.domain import answer_case
    from doorstep.complaints.models import Case

    borrower.post("/my/a/A1/cases/", {"kind": "complaint", "category": "contact",
                                      "text": "Called me five times in one day."})  # fmt: skip
    case = Case.objects.get(account_id="A1")
    answer_case(case.pk, by="compliance", at=local(AS_OF, 15), finding="upheld",
                answer="We have limited the calls.")  # fmt: skip
    take_payment("A1", amount_cents=5000, paid_at=local(AS_OF, 16), by="t", at=local(AS_OF, 16))

    def rows(language: str) -> list[list[str]]:
        borrower.cookies["django_language"] = language
        text = borrower.get("/my/a/A1/record.csv").content.decode()
        return [row[1:] for row in list(csv.reader(io.StringIO(text)))[1:]]

    english, chinese = rows("en"), rows("zh-hans")
    assert ["complaint", "Complaint", "Called me five times in one day.", ""] in english
    assert ["complaint", "Answer: Upheld: we were wrong and have corrected it",
            "We have limited the calls.", ""] in english  # fmt: skip
    payment = [r for r in english if r[0] == "payment"][-1]
    assert (payment[1], payment[3]) == ("Payment received", "50.00")
    # The complaint's hold, closed by the answer.
    (hold,) = [r for r in english if r[0] == "hold"]
    assert hold[1] == "Complaint under investigation"
    assert hold[2].startswith("until 20")
    # The same rows in Chinese, none of them in English.
    assert len(chinese) == len(english)
    assert [r[0] for r in chinese] == [r[0] for r in english]
    assert not {r[1] for r in chinese} & {r[1] for r in english if r[0] != "hold"} - {""}


# --- no internal code where the borrower reads a reason ----------------------------------------

CODE = re.compile(
    r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+_?[a-z]*\.[a-z]+_[a-z_]+\b"
)  # stage_changed, phone.high_risk


def _plan(borrower) -> Arrangement:
    borrower.post("/my/a/A1/plan/", {"kind": "instalment", "base": "overdue", "months": "3",
                                     "first_due": str(AS_OF + timedelta(days=2))})  # fmt: skip
    asked = Arrangement.objects.get(account_id="A1")
    return arrangements.approve(asked.pk, by="c", reach=COLLECTOR, at=local(AS_OF, 11))


def _history(borrower, plan: Arrangement, language: str) -> str:
    borrower.cookies["django_language"] = language
    page = borrower.get(f"/my/a/A1/plan/{plan.pk}/").content.decode()
    section = page[page.index('id="history"') :]
    return re.sub(r"<[^>]+>", " ", section[: section.index("</section>")])


def test_a_broken_arrangement_reads_as_a_sentence_in_the_borrowers_language(borrower):
    plan = _plan(borrower)
    broken_day = AS_OF + timedelta(days=6)  # the first payment's grace ended yesterday
    arrangements.review_arrangements(broken_day, by="nightly", at=local(broken_day, 1))
    data = Transition.objects.get(arrangement=plan, event="break").data
    paid, due = yuan_display(data["paid_cents"]), yuan_display(data["due_cents"])

    english = _history(borrower, plan, "en")
    chinese = _history(borrower, plan, "zh-hans")
    record = borrower.get("/my/a/A1/record.csv").content.decode()

    assert f"A payment was missed: {paid} paid of {due} due." in english
    assert f"有一期还款未足额支付：应还 {due}，已还 {paid}。" in chinese
    assert "missed" not in chinese
    assert f"有一期还款未足额支付：应还 {due}，已还 {paid}。" in record  # the record is in Chinese
    for text in (english, chinese, record):
        assert "payment 1 missed" not in text


def test_an_arrangement_ended_by_payoff_reads_as_a_sentence(borrower):
    plan = _plan(borrower)
    balance = Account.objects.get(pk="A1").balance_cents
    take_payment("A1", amount_cents=balance, paid_at=local(AS_OF, 12), by="t", at=local(AS_OF, 12))

    assert "The account was paid off." in _history(borrower, plan, "en")
    chinese = _history(borrower, plan, "zh-hans")
    assert "账户已结清。" in chinese
    assert "account settled" not in chinese


@pytest.mark.parametrize(
    ("language", "cancelled", "carried"),
    [
        ("en", "The account no longer qualifies for a visit",
         "It did not fit into that day's visiting round: a new date will be set, with a new notice."),
        ("zh-hans", "账户已不再符合上门核实条件",
         "当天的上门行程无法安排此次拜访：将另定日期，并重新发送通知。"),
    ],
)  # fmt: skip
def test_the_record_gives_a_visits_steps_in_words_not_codes(field, language, cancelled, carried):
    carried_over = noticed(field, "V2")
    # The day planner's wording (visits.domain.plan_visits_day) for a stop no team could take.
    visits.transition(carried_over, VisitEvent.ASSIGN, by="dispatch", at=local(VISIT_DAY, 6),
                      team=field["team"])  # fmt: skip
    visits.transition(carried_over, VisitEvent.RESCHEDULE, by="dispatch", at=local(VISIT_DAY, 6),
                      reason=f"could not be fitted on {VISIT_DAY}: no_team_capacity", team=None)  # fmt: skip
    noticed(field, "V1")
    visits.cancel_open_visits("V1", reason=CancelReason.STAGE_CHANGED, by="nightly",
                              at=local(VISIT_DAY, 6))  # fmt: skip

    with time_machine.travel(local(VISIT_DAY, 9), tick=False):
        rows = {}
        for account, phone in (("V1", "13800000000"), ("V2", "13800000001")):
            client = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), phone)
            client.cookies["django_language"] = language
            text = client.get(f"/my/a/{account}/record.csv").content.decode()
            rows[account] = list(csv.reader(io.StringIO(text)))[1:]

    assert [r[3] for r in rows["V1"] if r[1] == "visit"][-1] == f"{VISIT_DAY} {cancelled}"
    assert [r[3] for r in rows["V2"] if r[1] == "visit"][-1] == f"{VISIT_DAY} {carried}"
    for account in ("V1", "V2"):
        details = " ".join(r[3] for r in rows[account])
        assert CODE.findall(details) == [], account
