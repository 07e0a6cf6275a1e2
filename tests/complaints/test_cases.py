"""Complaints and disputes suspend collection while open and must be answered by a deadline."""

from datetime import timedelta

import pytest

from doorstep.complaints.domain import answer_case, file_case
from doorstep.complaints.errors import CaseError
from doorstep.complaints.models import Case
from doorstep.ledger.models import Hold
from doorstep.strategy.domain import reevaluated
from doorstep.strategy.models import Decision
from tests.arrangements.conftest import AS_OF, local

NOW = local(AS_OF)


def _file(kind="dispute_credit", **kw):
    kw.setdefault("category", "credit_entry")
    kw.setdefault("text", "征信报告里显示我逾期了，但我已经按时还款。")
    return reevaluated(
        lambda: file_case("A1", kind=kind, by="borrower:BA1", at=NOW, from_portal=True, **kw),
        "A1", by="b", at=NOW,
    )  # fmt: skip


def _stage():
    return Decision.objects.get(account_id="A1", as_of=AS_OF).stage


def test_a_credit_report_objection_suspends_collection_and_is_due_in_20_days(accounts):
    case = _file(attachments=[("statement.png", b"\x89PNG\r\n\x1a\n....")])
    assert (case.state, case.due_on, case.hold.kind) == (
        "open",
        AS_OF + timedelta(days=20),
        "dispute",
    )
    assert _stage() == "suspended"
    assert case.attachments.get().content_type == "image/png"
    complaint = _file("complaint", category="contact", text="一天打了五次电话，还打给了我单位。")
    assert complaint.due_on == AS_OF + timedelta(days=15)
    assert complaint.hold.kind == "complaint"


def test_answering_the_last_open_case_on_a_hold_lifts_it(accounts):
    first, second = _file(), _file("dispute_figure", category="fees", text="滞纳金收了两次。")
    assert first.hold_id == second.hold_id  # one hold shared, not two on the same day
    answer = lambda c: reevaluated(  # noqa: E731
        lambda: answer_case(c.pk, by="sup", at=NOW, finding="not_upheld",
                            answer="经核查，还款记录无误，报送正确。"),
        "A1", by="sup", at=NOW,
    )  # fmt: skip
    answer(first)
    assert Hold.objects.get(pk=first.hold_id).until is None
    assert _stage() == "suspended"
    answer(second)
    assert Hold.objects.get(pk=first.hold_id).until == AS_OF
    with pytest.raises(CaseError):
        answer(second)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"text": "太短"}, "text"),
        ({"category": "nonsense"}, "category"),
        ({"attachments": [("a.exe", b"MZ")]}, "attachments"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_kept(accounts, kw, field):
    with pytest.raises(CaseError) as refused:
        _file(**kw)
    assert refused.value.field == field
    assert not Case.objects.exists()
    assert not Hold.objects.exists()
