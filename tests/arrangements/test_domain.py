"""Arrangements against the database: request, authority, decisions, the hold they keep, and the
nightly run that finds them kept or broken."""

import json
from datetime import date, timedelta

import pytest
from django.utils import translation

from doorstep.arrangements import domain
from doorstep.arrangements.enums import State
from doorstep.arrangements.errors import ArrangementError, InvalidTransition, NotAuthorised
from doorstep.arrangements.models import Arrangement, Transition
from doorstep.audit.models import AuditEntry
from doorstep.ledger.domain import assess_charges, post_waiver
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.strategy.domain import reevaluated, run_nightly, take_payment
from doorstep.strategy.models import Decision
from tests.arrangements.conftest import AS_OF, COLLECTOR, SUPERVISOR, local

NOW = local(AS_OF)
PDF = b"%PDF-1.4 payslip"


def _ask(account="A1", **terms):
    terms.setdefault("by", "borrower:BA1")
    terms.setdefault("at", NOW)
    terms.setdefault("from_portal", True)
    return reevaluated(
        lambda: domain.request_arrangement(account, **terms), account, by="t", at=terms["at"]
    )


def _stage(account="A1", as_of=AS_OF):
    return Decision.objects.get(account_id=account, as_of=as_of).stage


def test_a_plan_request_waits_for_a_person_and_changes_nothing_yet(accounts):
    asked = _ask(kind="instalment", base="overdue", months=6, first_due=AS_OF + timedelta(days=5))
    assert (asked.state, asked.amount_cents, asked.months) == (State.REQUESTED, 500_000, 6)
    assert asked.respond_by == AS_OF + timedelta(days=2)
    assert not Hold.objects.filter(account_id="A1", kind="arrangement").exists()
    assert _stage() == "phone"
    assert list(Transition.objects.values_list("event", "to_state")) == [("request", "requested")]


def test_approving_puts_the_exact_schedule_and_the_hold_in_force(accounts):
    asked = _ask(kind="instalment", base="overdue", months=3, first_due=AS_OF + timedelta(days=5))
    approved = reevaluated(
        lambda: domain.approve(asked.pk, by="collector", reach=COLLECTOR, at=NOW),
        "A1", by="collector", at=NOW,
    )  # fmt: skip
    lines = list(approved.lines.values_list("seq", "due_date", "amount_cents"))
    assert lines == [
        (1, date(2026, 11, 25), 166_666),
        (2, date(2026, 12, 25), 166_666),
        (3, date(2027, 1, 25), 166_668),
    ]
    assert (approved.state, approved.starts_on, approved.ends_on) == (
        State.ACTIVE,
        AS_OF,
        lines[-1][1],
    )
    assert approved.hold.kind == "arrangement"
    assert approved.hold.until is None
    assert _stage() == "arrangement"
    assert AuditEntry.objects.filter(code="arrangement.approve").count() == 1


def test_authority_by_role_and_amount(accounts):
    asked = _ask("A2", kind="instalment", base="overdue", months=24, first_due=AS_OF)
    with pytest.raises(NotAuthorised):
        domain.approve(asked.pk, by="collector", reach=COLLECTOR, at=NOW)
    assert Arrangement.objects.get(pk=asked.pk).state == State.REQUESTED
    assert not Hold.objects.filter(account_id="A2", kind="arrangement").exists()
    with pytest.raises(NotAuthorised):  # ¥3,000,000 is beyond the supervisor's ¥200,000 too
        domain.approve(asked.pk, by="sup", reach=SUPERVISOR, at=NOW)
    boss = domain.authority([], superuser=True)
    assert domain.approve(asked.pk, by="admin", reach=boss, at=NOW).state == State.ACTIVE
    assert domain.within(COLLECTOR, "instalment", 2_000_000)
    assert not domain.within(COLLECTOR, "instalment", 2_000_001)
    assert domain.authority(["phone_collector", "collections_supervisor"])["extension"] is None


def test_a_small_extension_is_approved_at_once(accounts):
    # ¥5,000 overdue is beyond the automatic ¥2,000: a person decides.
    assert _ask(kind="extension", first_due=AS_OF + timedelta(days=30)).state == State.REQUESTED


def test_terms_not_offered_are_refused_naming_the_field_and_nothing_is_written(accounts):
    with pytest.raises(ArrangementError) as refused:
        _ask(kind="extension", first_due=AS_OF + timedelta(days=31))
    assert refused.value.field == "first_due"
    with pytest.raises(ArrangementError) as refused:
        _ask(kind="waiver", amount_cents=100, hardship="lost my job")
    assert refused.value.field == "documents"
    with pytest.raises(ArrangementError) as refused:
        _ask(kind="waiver", hardship="ill", amount_cents=100,
             documents=[domain.Document("medical", "x.exe", b"MZ\x90\x00")])  # fmt: skip
    assert refused.value.field == "documents"
    assert not Arrangement.objects.exists()
    _ask(kind="extension", first_due=AS_OF + timedelta(days=3))
    with pytest.raises(ArrangementError) as refused:  # one open arrangement per account
        _ask(kind="extension", first_due=AS_OF + timedelta(days=3))
    assert refused.value.code == "arrangement.open"


def test_refuse_needs_a_reason_counter_then_accept(accounts):
    asked = _ask(kind="extension", first_due=AS_OF + timedelta(days=30))
    with pytest.raises(ArrangementError):
        domain.refuse(asked.pk, by="collector", at=NOW, reason=" ")
    offered = domain.counter(
        asked.pk, by="collector", reach=COLLECTOR, at=NOW, note="two weeks is what we can do",
        kind="extension", first_due=AS_OF + timedelta(days=14),
    )  # fmt: skip
    assert (offered.state, offered.first_due) == (State.COUNTERED, AS_OF + timedelta(days=14))
    with pytest.raises(InvalidTransition):
        domain.approve(asked.pk, by="collector", reach=COLLECTOR, at=NOW)
    accepted = reevaluated(
        lambda: domain.accept_offer(asked.pk, by="borrower:BA1", at=NOW), "A1", by="b", at=NOW
    )
    assert accepted.state == State.ACTIVE
    assert list(accepted.lines.values_list("amount_cents", flat=True)) == [500_000]
    assert _stage() == "arrangement"


def test_a_waiver_posts_its_credit_and_completes(accounts):
    assess_charges(AS_OF, at=NOW)
    waivable = domain.waivable_cents(Account.objects.get(pk="A1"))
    assert waivable > 0
    asked = _ask(kind="waiver", amount_cents=waivable, hardship="在医院住了两个月",
                 documents=[domain.Document("medical", "invoice.pdf", PDF)])  # fmt: skip
    done = domain.approve(asked.pk, by="collector", reach=domain.authority([], superuser=True),
                          at=NOW)  # fmt: skip
    assert done.state == State.COMPLETED
    entry = LedgerEntry.objects.get(kind="waiver", account_id="A1")
    assert (entry.amount_cents, entry.reference) == (waivable, f"waiver-{asked.pk}")
    assert domain.waivable_cents(Account.objects.get(pk="A1")) == 0
    assert done.evidence.get().sha256
    assert done.evidence.get().content_type == "application/pdf"


def test_a_waiver_the_ledger_refuses_reaches_the_page_in_its_readers_language(
    accounts, monkeypatch
):
    """The ledger checks a waiver again under the account's lock; when it refuses (another waiver
    got in between the approval's figures and the posting, as if `figures` had read before it
    committed), its refusal is the arrangement's reason and reads in the page's language."""
    assess_charges(AS_OF, at=NOW)
    waivable = domain.waivable_cents(Account.objects.get(pk="A1"))
    asked = _ask(kind="waiver", amount_cents=waivable, hardship="在医院住了两个月",
                 documents=[domain.Document("medical", "invoice.pdf", PDF)])  # fmt: skip
    post_waiver("A1", amount_cents=100, by="collector", reference="W-other", note="", at=NOW)
    monkeypatch.setattr(domain, "waivable_cents", lambda account: waivable)

    with pytest.raises(ArrangementError) as refused:
        domain.approve(asked.pk, by="collector", reach=domain.authority([], superuser=True),
                       at=NOW)  # fmt: skip
    with translation.override("zh-hans"):
        chinese = refused.value.translated()

    left = f"{(waivable - 100) / 100:.2f}"
    assert (refused.value.code, refused.value.message) == (
        "arrangement.waiver", f"only {left} of charges is left to waive",
    )  # fmt: skip
    assert chinese == f"可减免的费用仅剩 {left} 元"
    assert Arrangement.objects.get(pk=asked.pk).state == State.REQUESTED
    assert list(
        LedgerEntry.objects.filter(kind="waiver", account_id="A1").values_list(
            "reference", flat=True
        )
    ) == ["W-other"]


def _active_plan(first_due):
    asked = _ask(kind="instalment", base="overdue", months=3, first_due=first_due)
    return reevaluated(
        lambda: domain.approve(asked.pk, by="c", reach=COLLECTOR, at=NOW), "A1", by="c", at=NOW
    )


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_sees_a_kept_arrangement_and_breaks_a_missed_one(accounts):
    plan = _active_plan(AS_OF + timedelta(days=2))
    kept_day = AS_OF + timedelta(days=5)  # the first payment's grace ends today
    run_nightly(kept_day, by="test")
    assert _stage(as_of=kept_day) == "arrangement"
    assert Arrangement.objects.get(pk=plan.pk).state == State.ACTIVE
    broken_day = kept_day + timedelta(days=1)
    run_nightly(broken_day, by="test")
    plan.refresh_from_db()
    assert (plan.state, plan.closed_on) == (State.BROKEN, broken_day)
    assert plan.hold.until == kept_day
    assert _stage(as_of=broken_day) not in ("arrangement", "none")
    run = AuditEntry.objects.filter(code="nightly.completed").last()
    assert json.loads(run.data)["arrangements"] == {"kept": 0, "broken": 1, "completed": 0}


@pytest.mark.django_db(transaction=True)
def test_a_paid_instalment_keeps_it_and_no_charges_accrue_meanwhile(accounts):
    plan = _active_plan(AS_OF + timedelta(days=2))
    take_payment("A1", amount_cents=166_666, paid_at=local(AS_OF + timedelta(days=2)), by="t",
                 at=local(AS_OF + timedelta(days=2), 11))  # fmt: skip
    day = AS_OF + timedelta(days=10)
    posted = assess_charges(day, at=local(day))
    assert posted.penalty_entries == 1  # A2, which has no arrangement
    charged = LedgerEntry.objects.filter(kind__in=["late_fee", "penalty_interest"])
    assert list(charged.values_list("account_id", flat=True)) == ["A2", "A2"]
    run_nightly(day, by="test")
    plan.refresh_from_db()
    assert plan.state == State.ACTIVE
    assert _stage(as_of=day) == "arrangement"


def test_paying_off_completes_the_arrangement_and_closes_its_hold(accounts):
    plan = _active_plan(AS_OF + timedelta(days=2))
    balance = Account.objects.get(pk="A1").balance_cents
    take_payment("A1", amount_cents=balance, paid_at=NOW, by="t", at=NOW)
    plan.refresh_from_db()
    assert (plan.state, plan.closed_on, plan.hold.until) == (State.COMPLETED, AS_OF, AS_OF)


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_is_taken_after_the_arrangements_are_reviewed_and_a_stale_one_refused(
    accounts, tmp_path
):
    """The night reviews arrangements before reading its snapshot; `doorstep snapshot` does the
    same. A snapshot written before a review that ends an arrangement would still hold its hold:
    the night refuses it and writes nothing."""
    from doorstep.strategy import snapshot
    from doorstep.strategy.domain import take_snapshot
    from doorstep.strategy.models import NightlyRun

    plan = _active_plan(AS_OF + timedelta(days=2))
    broken_day = AS_OF + timedelta(days=6)
    stale = snapshot.write_parquet_snapshot(broken_day, tmp_path / "stale", at=NOW)

    with pytest.raises(snapshot.SnapshotInvalid) as refused:
        run_nightly(broken_day, by="test", snapshot_dir=stale.directory)
    assert refused.value.code == "snapshot.stale"
    assert "1 broken, 0 completed" in refused.value.message
    assert not Decision.objects.filter(as_of=broken_day).exists()
    assert list(NightlyRun.objects.values_list("status", flat=True)) == ["abandoned"]

    fresh = take_snapshot(broken_day, out=tmp_path / "fresh", by="test")
    run_nightly(broken_day, by="test", snapshot_dir=fresh.directory)
    assert Arrangement.objects.get(pk=plan.pk).state == State.BROKEN
    assert _stage(as_of=broken_day) not in ("arrangement", "none")
