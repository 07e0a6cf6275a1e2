"""The portal end to end through the test client: reasons, paying off (settles, cancels every
pending action, certificate), a plan request with a document, a complaint, the record."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from doorstep.arrangements.models import Arrangement
from doorstep.ledger.models import Account
from doorstep.strategy.domain import run_nightly
from doorstep.strategy.models import PlannedAction
from tests.arrangements.conftest import AS_OF


def test_the_account_page_says_why_and_what_comes_next(borrower):
    page = borrower.get("/my/a/A1/").content.decode()
    assert "¥5,000.00" in page  # overdue
    assert "days overdue" in page  # the strategy's reason, in plain words
    assert 'id="next"' in page


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
