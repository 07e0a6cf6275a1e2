"""A borrower can never see another borrower's data: every portal URL, with the other borrower's
ids, answers 404, exactly as for ids that do not exist."""

from datetime import timedelta

import pytest

from doorstep.arrangements.domain import Document, request_arrangement
from doorstep.complaints.domain import file_case
from doorstep.payments.domain import start_payment
from tests.arrangements.conftest import AS_OF, local

NOW = local(AS_OF)


@pytest.fixture
def theirs(other):
    """A2's arrangement (with a document), case and payment intent."""
    arrangement = request_arrangement(
        "A2", kind="extension", first_due=AS_OF + timedelta(days=10), by="b", at=NOW,
        from_portal=True, documents=[Document("payslip", "p.pdf", b"%PDF-1.4")],
    )  # fmt: skip
    case = file_case("A2", kind="complaint", category="conduct", text="态度很差，说话难听。",
                     by="b", at=NOW, from_portal=True)  # fmt: skip
    intent = start_payment("A2", amount_cents=100, purpose="partial", by="b", at=NOW)
    return {
        "arrangement": arrangement.pk,
        "evidence": arrangement.evidence.get().pk,
        "case": case.pk,
        "intent": intent.pk,
    }


def _urls(account, ids):
    a, c, i, e = ids["arrangement"], ids["case"], ids["intent"], ids["evidence"]
    return [
        f"/my/a/{account}/",
        f"/my/a/{account}/pay/",
        f"/my/a/{account}/plan/",
        f"/my/a/{account}/plan/{a}/",
        f"/my/a/{account}/plan/{a}/evidence/{e}",
        f"/my/a/{account}/cases/",
        f"/my/a/{account}/cases/{c}/",
        f"/my/a/{account}/record.pdf",
        f"/my/a/{account}/record.csv",
        f"/my/a/{account}/certificate.pdf",
        f"/my/payments/{i}/",
        f"/my/payments/{i}/sandbox/",
    ]


def test_every_portal_url_with_another_borrowers_ids_is_a_404(borrower, theirs):
    for url in _urls("A2", theirs):
        assert borrower.get(url).status_code == 404, url
        assert borrower.post(url, {"answer": "withdraw", "result": "paid"}).status_code == 404, url
    # Their ids under my own account are not found either.
    mine = _urls("A1", theirs)
    for url in [mine[3], mine[4], mine[6], mine[10], mine[11]]:
        assert borrower.get(url).status_code == 404, url


def test_nothing_of_theirs_changed_after_the_attempts(borrower, theirs):
    from doorstep.arrangements.models import Arrangement
    from doorstep.payments.models import PaymentIntent

    for url in _urls("A2", theirs):
        borrower.post(url, {"answer": "withdraw", "result": "paid"})
    assert Arrangement.objects.get(pk=theirs["arrangement"]).state == "requested"
    assert PaymentIntent.objects.get(pk=theirs["intent"]).state == "pending"


def test_signed_out_every_url_goes_to_sign_in(client, theirs):
    for url in _urls("A2", theirs):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/my/"), url
