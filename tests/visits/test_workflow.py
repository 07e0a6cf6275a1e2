"""The visit workflow: every (event, state) pair of the table, the path from proposal to
follow-up, each refusal at check-in, and cancellation with settlement or a dispute."""

import shutil
import subprocess
from datetime import date, time, timedelta
from itertools import product

import pytest

from doorstep.audit.models import AuditEntry
from doorstep.compliance.models import Refusal
from doorstep.contact.models import Contact, OutboundMessage, Permit
from doorstep.ledger import queries as ledger_queries
from doorstep.ledger.models import Hold
from doorstep.strategy.domain import place_account_hold, take_payment
from doorstep.visits import domain
from doorstep.visits.enums import TRANSITIONS, VisitEvent, VisitState
from doorstep.visits.errors import InvalidTransition, VisitError, VisitNotAllowed
from doorstep.visits.models import Evidence, Visit, VisitTransition
from tests.visits.conftest import AS_OF, NOTICE_DAY, VISIT_DAY, local, make_agent

WINDOW = (time(9), time(11))


def proposed(account_id="V1", at=None):
    [visit] = domain.propose_visits(
        [domain.Proposal(account_id, None, {"rules": ["home_visit.dpd_90"], "en": "e", "zh": "z"},
                         100, 500000)],
        as_of=NOTICE_DAY, by="nightly", at=at or local(NOTICE_DAY, 2),
    )  # fmt: skip
    return visit


def noticed(field, account_id="V1"):
    visit = proposed(account_id)
    domain.approve_visits([visit.pk], by="sup", at=local(NOTICE_DAY, 9))
    return domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=WINDOW, team=field["team"],
                              order=1, eta=time(10), by="sup", at=local(NOTICE_DAY, 10))  # fmt: skip


def assigned(field, account_id="V1"):
    visit = noticed(field, account_id)
    return domain.transition(visit, VisitEvent.ASSIGN, by="dispatch", at=local(VISIT_DAY, 7))


@pytest.mark.django_db
def test_every_pair_of_event_and_state_moves_as_the_table_says(field):
    for n, (event, state) in enumerate(product(VisitEvent.values, VisitState.values)):
        Visit.objects.filter(account_id="V1").exclude(state__in=["closed"]).update(state="closed")
        visit = Visit.objects.create(id=f"V-T{n}", account_id="V1", state=state,
                                     proposed_on=AS_OF, created_at=local(AS_OF, 1),
                                     updated_at=local(AS_OF, 1))  # fmt: skip
        entries = AuditEntry.objects.count()
        to = TRANSITIONS.get((event, state))
        if to is None:
            with pytest.raises(InvalidTransition) as refused:
                domain.transition(visit, event, by="t", at=local(AS_OF, 2))
            assert refused.value.code == "visit.transition", (event, state)
            assert Visit.objects.get(pk=visit.pk).state == state
            assert not VisitTransition.objects.filter(visit=visit).exists()
            assert AuditEntry.objects.count() == entries
        else:
            moved = domain.transition(visit, event, by="t", at=local(AS_OF, 2), reason="why")
            assert (moved.state, Visit.objects.get(pk=visit.pk).state) == (to, to)
            row = VisitTransition.objects.get(visit=visit)
            assert (row.event, row.from_state, row.to_state, row.by, row.reason) == (
                event, state, to, "t", "why",
            )  # fmt: skip
            assert AuditEntry.objects.filter(code=f"visit.{event}", obj_id=visit.pk).count() == 1
    # Nothing leaves a final state; cancel is possible from every state before check-in only.
    finals = {VisitState.REJECTED, VisitState.DECLINED, VisitState.CANCELLED, VisitState.CLOSED}
    assert not {s for _, s in TRANSITIONS} & finals
    cancellable = {s for e, s in TRANSITIONS if e == VisitEvent.CANCEL}
    assert VisitState.IN_PROGRESS not in cancellable
    assert VisitState.ASSIGNED in cancellable


@pytest.mark.django_db
def test_from_proposal_to_a_kept_promise(field):
    a, _ = field["agents"]
    visit = assigned(field)
    message = OutboundMessage.objects.get(account_id="V1")
    assert "2026-11-16" in message.text
    assert "09:00–11:00" in message.text
    assert "王强（FA-0001）" in message.text
    assert "李娜（FA-0002）" in message.text
    assert visit.notice_pdf.name.endswith(".pdf")
    notice = visit.notice_pdf.read()
    assert notice.startswith(b"%PDF")
    # The letter says how far the visit may be moved: the last day the reply page accepts
    # when answered on the notice's day (notice lead and reschedule span after it).
    text = subprocess.run(  # noqa: S603 (a fixed local tool)
        [shutil.which("pdftotext"), "-", "-"], input=notice, capture_output=True, check=True
    ).stdout.decode()
    latest = domain.reschedule_range(visit, local(NOTICE_DAY, 10))[1]
    assert latest == NOTICE_DAY + timedelta(days=3 + 30)
    assert f"最晚可改至 {latest.year}年{latest.month}月{latest.day}日" in text

    visit = domain.check_in(visit.pk, agent=a, at=local(VISIT_DAY, 10, 5), lat=22.53, lon=113.93)
    assert visit.state == VisitState.IN_PROGRESS
    assert visit.permit.channel == "visit"
    visit = domain.record_outcome(
        visit.pk, agent=a, at=local(VISIT_DAY, 10, 40), outcome="promise_to_pay",
        identity_checked=True, address_confirmed=True, financial_notes="失业两个月",
        ptp_amount_cents=200000, ptp_date=date(2026, 11, 18),
    )  # fmt: skip
    assert visit.state == VisitState.FOLLOW_UP
    # While the promise is followed, the strategy's proposals for the account wait.
    again = domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"]}, 100, 300000)
    assert domain.propose_visits([again], as_of=VISIT_DAY, by="nightly",
                                 at=local(VISIT_DAY, 23)) == []  # fmt: skip
    contact = Contact.objects.get(account_id="V1", channel="visit")
    assert (contact.outcome, contact.ptp_amount_cents, contact.permit_id) == (
        "promise_to_pay", 200000, visit.permit_id,
    )  # fmt: skip

    take_payment("V1", amount_cents=200000, paid_at=local(date(2026, 11, 17), 12),
                 reference="PAY-PTP-1", by="gateway", at=local(date(2026, 11, 17), 12))  # fmt: skip
    counts = domain.review_follow_ups(date(2026, 11, 19), by="nightly", at=local(VISIT_DAY, 23))
    assert counts == {"kept": 1, "broken": 0}
    visit.refresh_from_db()
    assert (visit.state, visit.follow_up_result) == (VisitState.CLOSED, "kept")
    events = list(visit.transitions.values_list("event", flat=True))
    assert events == ["propose", "approve", "send_notice", "assign", "check_in", "complete",
                      "follow_up", "close"]  # fmt: skip


@pytest.mark.django_db
def test_a_broken_promise_allows_a_new_proposal_only_after_14_days(field):
    a, _ = field["agents"]
    visit = domain.check_in(assigned(field).pk, agent=a, at=local(VISIT_DAY, 10))
    domain.record_outcome(visit.pk, agent=a, at=local(VISIT_DAY, 11), outcome="promise_to_pay",
                          identity_checked=True, address_confirmed=True,
                          ptp_amount_cents=100000, ptp_date=date(2026, 11, 18))  # fmt: skip
    assert domain.review_follow_ups(date(2026, 11, 19), by="n", at=local(VISIT_DAY, 23)) == {
        "kept": 0, "broken": 1,
    }  # fmt: skip
    offer = [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"]}, 100, 500000)]
    day_13 = date(2026, 11, 18) + timedelta(days=13)
    assert domain.propose_visits(offer, as_of=day_13, by="n", at=local(day_13, 2)) == []
    day_14 = day_13 + timedelta(days=1)
    assert len(domain.propose_visits(offer, as_of=day_14, by="n", at=local(day_14, 2))) == 1


@pytest.mark.django_db
def test_proposals_are_checked_in_slices_and_an_open_visit_in_any_slice_is_skipped(
    field, monkeypatch
):
    """A night at ten million accounts proposes more visits than SQLite or psycopg take
    parameters in one statement: the accounts are looked up a slice at a time."""
    monkeypatch.setattr(ledger_queries, "LOCK_SLICE", 1)
    proposed("V1")
    proposed("V3")
    offer = [domain.Proposal(f"V{n}", None, {"rules": ["home_visit.dpd_90"]}, 100, 500000)
             for n in (3, 2, 1)]  # fmt: skip
    made = domain.propose_visits(offer, as_of=NOTICE_DAY, by="n", at=local(NOTICE_DAY, 3))
    assert [v.account_id for v in made] == ["V2"]


@pytest.mark.django_db
def test_check_in_needs_the_teams_agent_and_refusals_change_nothing(field):
    visit = assigned(field)
    stranger = make_agent("FA-0099", "张三")
    with pytest.raises(VisitNotAllowed) as other:
        domain.check_in(visit.pk, agent=stranger, at=local(VISIT_DAY, 10))
    assert other.value.code == "visit.not_your_visit"
    a, _ = field["agents"]
    with pytest.raises(VisitNotAllowed) as late:
        domain.check_in(visit.pk, agent=a, at=local(VISIT_DAY, 20))
    assert late.value.refusal.rule_id == "cn.hours.visit"
    assert Visit.objects.get(pk=visit.pk).state == VisitState.ASSIGNED
    assert not Permit.objects.filter(channel="visit").exists()
    # 19:59:59 local is still inside the visit hours.
    assert domain.check_in(visit.pk, agent=a, at=local(VISIT_DAY, 19, 59, 59)).state == (
        VisitState.IN_PROGRESS
    )


def _force(visit, **fields):
    Visit.objects.filter(pk=visit.pk).update(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "rule"),
    [
        ("unapproved", "cn.visit.approved"),
        ("short_notice", "cn.visit.notice"),
        ("other_day", "cn.visit.notice"),
        ("expired_credential", "cn.visit.team"),
        ("declined_hold", "cn.hold.visit"),
        ("dispute", "cn.hold.suspended"),
        ("settled", "cn.settled"),
    ],
)
def test_each_refusal_at_check_in(field, setup, rule):
    a, b = field["agents"]
    visit = assigned(field)
    at = local(VISIT_DAY, 10)
    match setup:
        case "unapproved":  # a visit that reached assigned without an approval on record
            VisitTransition.objects.filter(visit=visit, event="approve").update(event="confirm")
        case "short_notice":
            _force(visit, notice_sent_at=local(VISIT_DAY - timedelta(days=2), 10))
        case "other_day":
            at = local(VISIT_DAY + timedelta(days=1), 10)
        case "expired_credential":
            b.valid_until = VISIT_DAY - timedelta(days=1)
            b.save()
        case "declined_hold":
            Hold.objects.create(account_id="V1", kind="visit_declined", since=VISIT_DAY)
        case "dispute":
            Hold.objects.create(account_id="V1", kind="dispute", since=VISIT_DAY)
        case "settled":
            from doorstep.ledger.models import Account

            Account.objects.filter(pk="V1").update(status="settled", settled_on=VISIT_DAY)
    with pytest.raises(VisitNotAllowed) as refused:
        domain.check_in(visit.pk, agent=a, at=at)
    assert refused.value.refusal.rule_id == rule
    assert Refusal.objects.filter(channel="visit", rule_id=rule).count() == 1
    assert Visit.objects.get(pk=visit.pk).state == VisitState.ASSIGNED
    assert not Permit.objects.filter(channel="visit").exists()


@pytest.mark.django_db
def test_the_notice_must_give_three_days(field):
    visit = proposed()
    domain.approve_visits([visit.pk], by="sup", at=local(NOTICE_DAY, 9))
    with pytest.raises(VisitError) as short:
        domain.send_notice(visit.pk, visit_date=NOTICE_DAY + timedelta(days=2), window=WINDOW,
                           team=field["team"], order=1, eta=None, by="sup",
                           at=local(NOTICE_DAY, 10))  # fmt: skip
    assert short.value.code == "visit.notice_lead"
    with pytest.raises(VisitError) as evening:
        domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(19), time(21)),
                           team=field["team"], order=1, eta=None, by="sup",
                           at=local(NOTICE_DAY, 10))  # fmt: skip
    assert evening.value.code == "visit.window"
    assert Visit.objects.get(pk=visit.pk).state == VisitState.APPROVED
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_a_decline_stops_the_visit_and_holds_visits_for_30_days(field):
    visit = noticed(field)
    at = local(NOTICE_DAY, 18)
    declined = domain.answer_notice(visit.pk, answer="decline", by="borrower", at=at, via="portal")
    assert declined.state == VisitState.DECLINED
    hold = Hold.objects.get(account_id="V1", kind="visit_declined")
    assert (hold.since, hold.until) == (NOTICE_DAY, NOTICE_DAY + timedelta(days=29))
    with pytest.raises(InvalidTransition):
        domain.transition(visit.pk, VisitEvent.ASSIGN, by="dispatch", at=local(VISIT_DAY, 7))


@pytest.mark.django_db
def test_a_reschedule_needs_a_date_three_days_out_and_a_new_notice(field):
    visit = noticed(field)
    at = local(NOTICE_DAY, 18)
    with pytest.raises(VisitError):
        domain.answer_notice(visit.pk, answer="reschedule", by="borrower", at=at, via="portal",
                             new_date=NOTICE_DAY + timedelta(days=2))  # fmt: skip
    later = date(2026, 11, 19)
    moved = domain.answer_notice(visit.pk, answer="reschedule", by="borrower", at=at,
                                 via="portal", new_date=later, window=(time(14), time(16)))  # fmt: skip
    assert (moved.state, moved.visit_date, moved.window_start, moved.team) == (
        VisitState.RESCHEDULED, later, time(14), None,
    )  # fmt: skip
    with pytest.raises(InvalidTransition):
        domain.transition(visit.pk, VisitEvent.ASSIGN, by="dispatch", at=local(later, 7))


@pytest.mark.django_db
@pytest.mark.parametrize("asked", [date(2026, 12, 16), date(2099, 1, 1)])
def test_a_reschedule_beyond_the_span_is_refused_naming_the_range(field, asked):
    visit = noticed(field)
    at = local(NOTICE_DAY, 18)
    moves = VisitTransition.objects.count()
    entries = AuditEntry.objects.count()

    with pytest.raises(VisitError) as refused:
        domain.answer_notice(visit.pk, answer="reschedule", by="borrower", at=at, via="portal",
                             new_date=asked, window=(time(14), time(16)))  # fmt: skip

    # Noticed on Thursday 12 November: from Sunday the 15th (three days) to 30 days after that.
    assert (refused.value.code, refused.value.field, refused.value.message) == (
        "visit.reschedule_date", "new_date",
        "a new date can be no later than 2026-12-15: choose a day from 2026-11-15 to 2026-12-15",
    )  # fmt: skip
    visit.refresh_from_db()
    assert (visit.state, visit.visit_date, visit.answer) == (VisitState.NOTICE_SENT, VISIT_DAY, "")
    assert VisitTransition.objects.count() == moves
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_reschedule_may_go_to_the_last_day_of_the_span_which_is_a_setting(field, settings):
    visit = noticed(field)
    at = local(NOTICE_DAY, 18)
    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS, "reschedule_span_days": 7}

    assert domain.reschedule_range(visit, at) == (date(2026, 11, 15), date(2026, 11, 22))
    with pytest.raises(VisitError, match="no later than 2026-11-22"):
        domain.answer_notice(visit.pk, answer="reschedule", by="borrower", at=at, via="portal",
                             new_date=date(2026, 11, 23))  # fmt: skip
    moved = domain.answer_notice(visit.pk, answer="reschedule", by="borrower", at=at,
                                 via="portal", new_date=date(2026, 11, 22))  # fmt: skip
    assert (moved.state, moved.visit_date) == (VisitState.RESCHEDULED, date(2026, 11, 22))


@pytest.mark.django_db
def test_settling_the_account_cancels_pending_visits_in_the_same_transaction(field):
    visit = noticed(field)
    take_payment("V1", amount_cents=500000, paid_at=local(NOTICE_DAY, 15), reference="PAY-ALL",
                 by="gateway", at=local(NOTICE_DAY, 15))  # fmt: skip
    visit.refresh_from_db()
    assert (visit.state, visit.cancelled_reason) == (VisitState.CANCELLED, "settled")


@pytest.mark.django_db
def test_a_payment_that_fails_leaves_the_visit_as_it_was(field):
    visit = noticed(field)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure must roll the whole step back
        take_payment("V1", amount_cents=-5, paid_at=local(NOTICE_DAY, 15), reference="BAD",
                     by="gateway", at=local(NOTICE_DAY, 15))  # fmt: skip
    assert Visit.objects.get(pk=visit.pk).state == VisitState.NOTICE_SENT


@pytest.mark.django_db
def test_opening_a_dispute_cancels_pending_visits(field):
    visit = noticed(field)
    place_account_hold("V1", by="complaints", kind="dispute", since=NOTICE_DAY)
    visit.refresh_from_db()
    assert (visit.state, visit.cancelled_reason) == (VisitState.CANCELLED, "hold")


@pytest.mark.django_db
def test_evidence_is_checked_by_its_bytes_and_size(field, settings):
    a, _ = field["agents"]
    visit = domain.check_in(assigned(field).pk, agent=a, at=local(VISIT_DAY, 10))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    item = domain.add_evidence(visit.pk, agent=a, name="door.png", content=png,
                               at=local(VISIT_DAY, 10, 20))  # fmt: skip
    assert (item.content_type, item.kind, item.size) == ("image/png", "photo", 108)
    with pytest.raises(VisitError) as exe:
        domain.add_evidence(visit.pk, agent=a, name="photo.jpg", content=b"MZ\x90\x00",
                            at=local(VISIT_DAY, 10, 21))  # fmt: skip
    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS, "evidence_max_bytes": 50}
    with pytest.raises(VisitError) as big:
        domain.add_evidence(visit.pk, agent=a, name="x.png", content=png,
                            at=local(VISIT_DAY, 10, 22))  # fmt: skip
    assert (exe.value.code, big.value.code) == ("evidence.type", "evidence.size")
    assert Evidence.objects.count() == 1


@pytest.mark.django_db
def test_a_rejection_needs_a_reason_and_blocks_new_proposals_for_30_days(field):
    visit = proposed()
    with pytest.raises(InvalidTransition):
        domain.reject_visit(visit.pk, by="sup", at=local(NOTICE_DAY, 9), reason=" ")
    domain.reject_visit(visit.pk, by="sup", at=local(NOTICE_DAY, 9), reason="小额，先电催")
    offer = [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"]}, 100, 500000)]
    assert domain.propose_visits(offer, as_of=AS_OF, by="n", at=local(AS_OF, 2)) == []


@pytest.mark.django_db
def test_auto_approval_only_for_the_listed_rules(field, settings):
    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS,
                                "auto_approve_rules": ("home_visit.large_debt",)}  # fmt: skip
    made = domain.propose_visits(
        [domain.Proposal("V1", None, {"rules": ["home_visit.large_debt"]}, 40, 3_500_000),
         domain.Proposal("V2", None, {"rules": ["home_visit.large_debt", "home_visit.dpd_90"]},
                         100, 3_500_000)],
        as_of=AS_OF, by="nightly", at=local(AS_OF, 2),
    )  # fmt: skip
    states = {v.account_id: Visit.objects.get(pk=v.pk).state for v in made}
    assert states == {"V1": VisitState.APPROVED, "V2": VisitState.PROPOSED}
