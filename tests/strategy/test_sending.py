"""The day's planned messages go out through the guard, with today's figures; a payment or a
dispute since the nightly run stops them."""

from datetime import timedelta

import pytest
import time_machine

from doorstep.arrangements import domain as arrangements
from doorstep.arrangements.engine.schedule import schedule
from doorstep.arrangements.models import Arrangement
from doorstep.compliance.domain import review_template
from doorstep.compliance.models import CeaseRequest, Refusal
from doorstep.contact.domain import draft_default_templates
from doorstep.contact.models import Contact, OutboundMessage
from doorstep.intake.importer import import_portfolio
from doorstep.money import yuan
from doorstep.strategy.domain import (
    decide_arrangement,
    place_account_hold,
    reevaluated,
    run_nightly,
    take_payment,
)
from doorstep.strategy.models import PlannedAction
from doorstep.strategy.sending import send_planned_messages
from tests.arrangements.conftest import AS_OF, COLLECTOR, local
from tests.strategy.builder import Portfolio

TOMORROW = AS_OF + timedelta(days=1)
MORNING = local(TOMORROW, 10)


@pytest.fixture
def planned(tmp_path, transactional_db):
    """R1 and R2 three days overdue (¥800): tonight plans their overdue reminders."""
    p = Portfolio(AS_OF)
    for account in ("R1", "R2"):
        p.account(account, overdue="800.00", dpd=3)
    p.account("A1", overdue="5000.00", dpd=40, due_in=10)
    import_portfolio(p.write(tmp_path / "p"))
    for template in draft_default_templates(by="author"):
        review_template(template.pk, by="compliance", approve=True)
    return p


def _sms(account):
    return PlannedAction.objects.get(account_id=account, channel="sms", as_of=AS_OF)


def test_planned_reminders_go_out_with_todays_figures(planned):
    run_nightly(AS_OF, by="t")
    assert _sms("R1").template == "overdue_reminder"
    result = send_planned_messages(TOMORROW, by="sender", now=MORNING)
    message = OutboundMessage.objects.get(account_id="R1", channel="sms")
    assert "800.00" in message.text
    assert "逾期 4 天" in message.text  # the day it is sent, not the day it was planned
    assert message.status == "sent"
    assert Contact.objects.filter(account_id="R1", channel="sms", outcome="sent").count() == 1
    assert _sms("R1").status == "done"
    assert result.queued == OutboundMessage.objects.count()
    # Sending again sends nothing more: the actions are done.
    assert send_planned_messages(TOMORROW, by="sender", now=MORNING).queued == 0


def test_a_payment_or_a_dispute_since_the_night_stops_the_message(planned):
    run_nightly(AS_OF, by="t")
    take_payment("R1", amount_cents=80_000, paid_at=local(TOMORROW, 8), by="t",
                 at=local(TOMORROW, 8))  # fmt: skip
    place_account_hold("R2", kind="dispute", since=TOMORROW, by="t")
    send_planned_messages(TOMORROW, by="sender", now=MORNING)
    assert not OutboundMessage.objects.filter(account_id__in=["R1", "R2"]).exists()
    # The payment re-evaluated R1 out of collections, which cancelled its actions; R2's dispute
    # suspended it the same way: neither is left to the guard.
    assert (_sms("R1").status, _sms("R2").status) == ("cancelled", "cancelled")


def test_out_of_hours_the_messages_wait_for_a_later_run_and_nothing_is_recorded(planned):
    run_nightly(AS_OF, by="t")
    late = local(TOMORROW, 22)  # after 21:00 in Shenzhen
    result = send_planned_messages(TOMORROW, by="sender", now=late)
    assert result.queued == 0
    assert result.refused == {}
    waiting = PlannedAction.objects.filter(as_of=AS_OF, kind="message", status="planned").count()
    assert result.skipped == {"waiting:cn.hours.contact": waiting}
    assert _sms("R1").status == "planned"
    assert not Refusal.objects.filter(planned_at=late).exists()
    send_planned_messages(TOMORROW, by="sender", now=MORNING)
    assert _sms("R1").status == "done"


def test_the_guard_refuses_at_sending_time(planned):
    run_nightly(AS_OF, by="t")
    CeaseRequest.objects.create(borrower_id="BR1", channel="sms", since=TOMORROW,
                                recorded_by="t", recorded_at=MORNING)  # fmt: skip
    result = send_planned_messages(TOMORROW, by="sender", now=MORNING)
    assert result.refused == {"cn.cease": 1}
    assert _sms("R1").status == "refused"
    assert _sms("R2").status == "done"


def test_an_arrangement_sends_its_own_reminder_before_each_payment(planned):
    asked = arrangements.request_arrangement(
        "A1", kind="instalment", base="overdue", months=3, first_due=AS_OF + timedelta(days=3),
        by="b", at=local(AS_OF), from_portal=True,
    )  # fmt: skip
    reevaluated(
        lambda: arrangements.approve(asked.pk, by="c", reach=COLLECTOR, at=local(AS_OF)),
        "A1", by="c", at=local(AS_OF),
    )  # fmt: skip
    run_nightly(AS_OF, by="t")
    reminder = PlannedAction.objects.get(account_id="A1", as_of=AS_OF)
    assert (reminder.stage, reminder.template) == ("arrangement", "arrangement_reminder")
    send_planned_messages(TOMORROW, by="sender", now=MORNING)
    text = OutboundMessage.objects.get(account_id="A1").text
    assert "1666.66" in text
    assert (AS_OF + timedelta(days=3)).isoformat() in text


def test_a_message_stuck_while_sending_is_asked_again_with_the_same_reference(planned):
    from doorstep.contact.domain import resend_stuck
    from doorstep.contact.enums import MessageStatus

    run_nightly(AS_OF, by="t")
    send_planned_messages(TOMORROW, by="sender", now=MORNING, drain=False)
    first, second = OutboundMessage.objects.order_by("id")[:2]
    OutboundMessage.objects.filter(pk__in=[first.pk, second.pk]).update(
        status=MessageStatus.SENDING, sending_at=MORNING
    )
    # The second one's permit window has passed: failed for a person to check, not re-sent.
    second.permit.__class__.objects.filter(pk=second.permit_id).update(valid_until=MORNING)
    counts = resend_stuck(older_than=timedelta(minutes=10), now=MORNING + timedelta(minutes=15))
    assert counts == {"sent": 1, "failed": 1, "error": 0}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("sent", "failed")
    assert second.permit_id in second.last_error
    assert Contact.objects.filter(permit_id=first.permit_id).count() == 1


def _asked(account="A1"):
    return arrangements.request_arrangement(
        account, kind="instalment", base="overdue", months=6, first_due=AS_OF + timedelta(days=5),
        by="borrower", at=local(AS_OF, 9), from_portal=True,
    )  # fmt: skip


def test_a_decision_on_an_arrangement_is_told_to_the_borrower_at_once(planned):
    asked = _asked()
    _, told = decide_arrangement(
        lambda: arrangements.approve(asked.pk, by="c", reach=COLLECTOR, at=local(AS_OF)),
        asked.pk, "A1", by="c", at=local(AS_OF),
    )  # fmt: skip
    assert told == "queued"
    message = OutboundMessage.objects.get(account_id="A1", template__code="arrangement_approved")
    first = schedule(arrangements.terms_of(Arrangement.objects.get(pk=asked.pk)))[0]
    assert message.language == "zh"
    assert "已通过" in message.text
    assert f"首期 {yuan(first.amount_cents)} 元，{first.due_date.isoformat()} 应还" in message.text


def test_a_decision_after_hours_is_told_in_the_next_mornings_run_and_a_rerun_night_keeps_it(
    planned,
):
    asked = _asked()
    late = local(AS_OF, 22)
    _, told = decide_arrangement(
        lambda: arrangements.refuse(asked.pk, by="c", at=late, reason="收入证明不足"),
        asked.pk, "A1", by="c", at=late,
    )  # fmt: skip
    assert told == "planned"
    assert not OutboundMessage.objects.filter(account_id="A1").exists()
    run_nightly(AS_OF, by="t")  # the night re-plans its own actions, not this one
    notice = PlannedAction.objects.get(account_id="A1", template="arrangement_refused")
    assert notice.status == "planned"

    send_planned_messages(TOMORROW, by="sender", now=MORNING)

    notice.refresh_from_db()
    assert notice.status == "done"
    message = OutboundMessage.objects.get(account_id="A1", template__code="arrangement_refused")
    assert message.status == "sent"


def test_a_staff_decision_in_the_queue_tells_the_borrower(planned, client):
    from django.contrib.auth import get_user_model

    from doorstep.web.domain import ensure_demo_logins

    asked = _asked()
    ensure_demo_logins(lambda role: f"pw-{role}")
    client.force_login(get_user_model().objects.get(username="phone_collector"))
    with time_machine.travel(local(AS_OF, 10), tick=True):
        client.post(f"/staff/arrangements/{asked.pk}/decide", {"action": "approve"})
    assert Arrangement.objects.get(pk=asked.pk).state == "active"
    assert OutboundMessage.objects.filter(
        account_id="A1", template__code="arrangement_approved"
    ).exists()
