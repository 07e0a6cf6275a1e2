"""The staff queues: a collector decides within their authority, a supervisor beyond it; an
answer to a complaint lifts the suspension. Nothing changes on a refusal."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from doorstep.arrangements.domain import request_arrangement
from doorstep.arrangements.models import Arrangement
from doorstep.complaints.domain import file_case
from doorstep.complaints.models import Case
from doorstep.web.domain import ensure_demo_logins
from doorstep.worklist.domain import ClaimRefused, claim
from tests.arrangements.conftest import AS_OF, local

NOW = local(AS_OF)


@pytest.fixture
def staff(on_the_as_of_day, accounts):
    ensure_demo_logins(lambda role: f"pw-{role}")

    def login(username, language="en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return login


def _plan(account, months=6):
    return request_arrangement(
        account, kind="instalment", base="overdue", months=months,
        first_due=AS_OF + timedelta(days=5), by="borrower", at=NOW, from_portal=True,
    )  # fmt: skip


def test_the_queue_lists_requests_by_deadline_and_a_collector_approves_within_authority(staff):
    small, big = _plan("A1"), _plan("A2", months=24)
    collector = staff("phone_collector")
    page = collector.get("/staff/arrangements/").content.decode()
    assert small.pk in page
    assert big.pk in page
    assert (
        collector.get(f"/staff/arrangements/{big.pk}/").content.decode().count('id="approve"') == 0
    )
    refused = collector.post(f"/staff/arrangements/{big.pk}/decide", {"action": "approve"})
    assert "authority" in refused["Location"]
    assert Arrangement.objects.get(pk=big.pk).state == "requested"
    done = collector.post(f"/staff/arrangements/{small.pk}/decide", {"action": "approve"})
    assert done["Location"] == "/staff/arrangements/"
    assert Arrangement.objects.get(pk=small.pk).state == "active"


def test_refusing_needs_a_reason_and_roles_without_the_permission_are_turned_away(staff):
    asked = _plan("A1")
    collector = staff("phone_collector")
    collector.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "refuse", "note": ""})
    assert Arrangement.objects.get(pk=asked.pk).state == "requested"
    manager = staff("strategy_manager")
    assert manager.get("/staff/arrangements/").status_code == 403
    manager.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "approve"})
    assert Arrangement.objects.get(pk=asked.pk).state == "requested"
    collector.post(f"/staff/arrangements/{asked.pk}/decide",
                   {"action": "refuse", "note": "收入证明不足"})  # fmt: skip
    assert Arrangement.objects.get(pk=asked.pk).note == "收入证明不足"


def test_a_supervisor_answers_a_complaint_and_the_compliance_officer_only_reads(staff):
    case = file_case("A1", kind="complaint", category="contact", text="一天打了五次电话。",
                     by="borrower", at=NOW, from_portal=True)  # fmt: skip
    officer = staff("compliance_officer")
    page = officer.get("/staff/cases/").content.decode()
    assert case.pk in page
    assert "Send the answer" not in page
    officer.post(f"/staff/cases/{case.pk}/answer", {"finding": "upheld", "answer": "已核实"})
    assert Case.objects.get(pk=case.pk).state == "open"
    supervisor = staff("collections_supervisor")
    supervisor.post(f"/staff/cases/{case.pk}/answer",
                    {"finding": "upheld", "answer": "已核实，已调整联系频率。"})  # fmt: skip
    answered = Case.objects.get(pk=case.pk)
    assert (answered.state, answered.finding, answered.answered_by) == (
        "answered",
        "upheld",
        "collections_supervisor",
    )


def test_a_request_claimed_by_one_cannot_be_decided_by_another(staff):
    asked = _plan("A1")
    collector, supervisor = staff("phone_collector"), staff("collections_supervisor")
    collector.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "claim"})
    refused = supervisor.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "approve"})
    assert "phone_collector+is+working+on+it" in refused["Location"]
    assert Arrangement.objects.get(pk=asked.pk).state == "requested"
    collector.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "release"})
    supervisor.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "approve"})
    assert Arrangement.objects.get(pk=asked.pk).state == "active"


def _alert(response) -> str:
    page = response.content.decode()
    start = page.index('role="alert">') + len('role="alert">')
    return page[start : page.index("</div>", start)]


def test_a_refused_claim_reads_in_the_pages_language_and_its_message_stays_english(staff):
    asked = _plan("A1")
    staff("phone_collector").post(f"/staff/arrangements/{asked.pk}/decide", {"action": "claim"})
    url = f"/staff/arrangements/{asked.pk}/decide"

    chinese = staff("collections_supervisor", "zh-hans").post(url, {"action": "claim"}, follow=True)
    english = staff("collections_supervisor", "en").post(url, {"action": "claim"}, follow=True)
    with translation.override("zh-hans"), pytest.raises(ClaimRefused) as refused:
        claim("arrangement", asked.pk, by="collections_supervisor", at=NOW)

    assert _alert(chinese) == "phone_collector 正在处理"
    assert _alert(english) == "phone_collector is working on it"
    assert (refused.value.message, refused.value.code) == (
        "phone_collector is working on it", "work.taken",
    )  # fmt: skip
    with translation.override("zh-hans"):
        assert refused.value.translated() == "phone_collector 正在处理"
