"""Each write records its audit entry in the same transaction: committed with it, rolled back with
it, none for a refusal or a replay."""

import hashlib
import threading
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from doorstep.audit.chain import row_text
from doorstep.audit.domain import record, verify
from doorstep.audit.models import AuditEntry, AuditHead
from doorstep.contact.domain import record_contact
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import assess_charges, post_payment, reverse_entry
from doorstep.ledger.errors import PaymentRejected
from doorstep.ledger.models import LedgerEntry
from doorstep.strategy import domain as strategy
from doorstep.strategy.models import Decision, NightlyRun, PlannedAction
from doorstep.strategy.queries import DIGEST_COLUMNS
from tests.strategy.builder import Portfolio

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PAID_AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def portfolio(portfolio_dir):
    import_portfolio(portfolio_dir)


def pay(account_id: str, amount_cents: int, **kwargs):
    return post_payment(
        account_id, amount_cents=amount_cents, paid_at=PAID_AT, by="teller", at=NOW, **kwargs
    )


def codes() -> list[str]:
    return list(AuditEntry.objects.values_list("code", flat=True))


@pytest.mark.django_db
def test_a_payment_records_payment_posted_with_amount_and_account(portfolio):
    posted = pay("A0001", 50000, reference="BANK-7")

    entry = AuditEntry.objects.get()
    assert (entry.code, entry.actor, entry.at) == ("payment.posted", "teller", NOW)
    assert (entry.obj_type, entry.obj_id) == ("ledger.account", "A0001")
    assert entry.payload == {
        "entry": posted.entry.pk,
        "amount_cents": 50000,
        "paid_at": "2026-11-21T02:00:00.000000Z",
        "effective_on": "2026-11-21",
        "reference": "BANK-7",
        "source": "api",
        "before": {"credited_cents": 368000, "status": "active"},
        "after": {"credited_cents": 418000, "status": "active"},
    }
    assert verify().ok


@pytest.mark.django_db
def test_an_idempotent_replay_and_a_refused_payment_record_nothing(portfolio):
    pay("A0001", 50000, idempotency_key="k-1")
    replay = pay("A0001", 50000, idempotency_key="k-1")
    with pytest.raises(PaymentRejected):
        pay("A0001", 10**9)

    assert replay.replayed is True
    assert codes() == ["payment.posted"]


def pay_then_fail():
    with transaction.atomic():
        pay("A0001", 50000)
        assert codes() == ["payment.posted"]
        raise RuntimeError("the caller fails after the payment")


@pytest.mark.django_db
def test_a_rolled_back_operation_leaves_no_audit_entry(portfolio):
    entries_before = LedgerEntry.objects.count()

    with pytest.raises(RuntimeError, match="fails after the payment"):
        pay_then_fail()

    assert LedgerEntry.objects.count() == entries_before
    assert AuditEntry.objects.count() == 0
    assert AuditHead.objects.filter(seq__gt=0).count() == 0
    pay("A0001", 100)  # the chain goes on from where it was
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1]
    assert verify().ok


@pytest.mark.django_db
def test_a_reversal_records_payment_reversed(portfolio):
    posted = pay("A0001", 50000)

    reversal = reverse_entry(posted.entry.pk, by="supervisor", reason="bounced", at=NOW)

    entry = AuditEntry.objects.get(code="payment.reversed")
    assert (entry.actor, entry.obj_id) == ("supervisor", "A0001")
    assert entry.payload == {
        "entry": posted.entry.pk,
        "reversal": reversal.pk,
        "kind": "payment",
        "amount_cents": 50000,
        "reason": "bounced",
        "before": {"credited_cents": 418000, "charged_cents": 0, "status": "active"},
        "after": {"credited_cents": 368000, "charged_cents": 0, "status": "active"},
    }


@pytest.mark.django_db
def test_assessing_charges_records_one_entry_with_the_counts(portfolio):
    posted = assess_charges(date(2026, 11, 21), by="ledger assess-charges", at=NOW)

    entry = AuditEntry.objects.get()
    assert entry.code == "charges.assessed"
    assert entry.payload == {
        "as_of": "2026-11-21",
        "late_fees": posted.late_fees,
        "penalty_entries": posted.penalty_entries,
        "penalty_cents": posted.penalty_cents,
    }
    assert posted.penalty_entries > 0


@pytest.mark.django_db
def test_a_contact_records_contact_recorded(portfolio):
    contact = record_contact(
        "A0001", channel="call", outcome="no_answer", at=PAID_AT, by="collector-1",
        direction="inbound",
    )  # fmt: skip

    entry = AuditEntry.objects.get()
    assert (entry.code, entry.actor, entry.obj_id) == ("contact.recorded", "collector-1", "A0001")
    assert entry.payload == {
        "contact": contact.pk,
        "channel": "call",
        "outcome": "no_answer",
        "at": "2026-11-21T02:00:00.000000Z",
        "direction": "inbound",
        "permit": None,
        "ptp_amount_cents": None,
        "ptp_date": None,
    }


@pytest.mark.django_db
def test_a_hold_records_hold_placed_and_the_realtime_decision(portfolio):
    PlannedAction.objects.create(
        account_id="A0001", as_of=date(2026, 11, 20), stage="phone", kind="call_task",
        channel="call", template="phone_first_call",
    )  # fmt: skip

    strategy.place_account_hold("A0001", kind="dispute", since=date(2026, 11, 21), by="cs-2")

    assert codes() == ["hold.placed", "strategy.published", "decision.realtime"]
    hold, published, decided = AuditEntry.objects.all()
    assert (hold.actor, hold.obj_id) == ("cs-2", "A0001")
    assert hold.payload["kind"] == "dispute"
    assert hold.payload["since"] == "2026-11-21"
    assert (published.actor, published.obj_type) == ("system", "strategy.strategyversion")
    assert (decided.actor, decided.obj_id) == ("cs-2", "A0001")
    assert decided.payload["to"] == "suspended"
    assert decided.payload["cancelled_actions"] == 1
    assert decided.payload["from"] != "suspended"
    assert decided.payload["strategy"] == published.payload["name"] + "@1"


@pytest.mark.django_db
def test_publishing_records_only_a_new_version():
    text = strategy.DEFAULT_STRATEGY.read_text()

    version = strategy.publish_strategy(text, by="manager", note="first")
    strategy.publish_strategy(text, by="manager", note="unchanged")

    entry = AuditEntry.objects.get()
    assert (entry.code, entry.actor, entry.obj_id) == (
        "strategy.published", "manager", str(version.pk),
    )  # fmt: skip
    assert entry.payload["version"] == 1
    assert entry.payload["note"] == "first"
    assert len(entry.payload["document_sha256"]) == 64


@pytest.mark.django_db
def test_the_import_command_records_import_completed(portfolio_dir):
    call_command("import", str(portfolio_dir), "--by", "cli:ops")

    entry = AuditEntry.objects.get()
    assert (entry.code, entry.actor) == ("import.completed", "cli:ops")
    assert entry.payload["rows_read"]["accounts"] == 4


# --- the nightly run ----------------------------------------------------------------------------

AS_OF = date(2026, 11, 20)


def decisions_sha256() -> str:
    rows = sorted(Decision.objects.filter(as_of=AS_OF).values_list(*DIGEST_COLUMNS))
    return hashlib.sha256("".join(row_text(r) + "\n" for r in rows).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_records_one_entry_with_counts_and_a_digest_of_its_decisions(tmp_path):
    p = Portfolio(AS_OF)
    p.account("PHONE", overdue="5000.00", dpd=40)
    p.account("REMIND", overdue="600.00", dpd=2)
    p.account("SOON", due_in=2)
    import_portfolio(p.write(tmp_path / "p"))

    first = strategy.run_nightly(AS_OF, by="cli:ops")
    strategy.run_nightly(AS_OF, by="cli:ops")
    strategy.run_nightly(AS_OF, by="cli:ops", dry_run=True)

    # Each run screens its planned messages (no approved template here: both refused).
    assert codes() == [
        "strategy.published", "compliance.screened", "nightly.completed",
        "compliance.screened", "nightly.completed",
    ]  # fmt: skip
    one, two = AuditEntry.objects.filter(code="nightly.completed")
    assert (one.actor, one.obj_type, one.obj_id) == (
        "cli:ops",
        "strategy.nightlyrun",
        str(first.run_id),
    )
    assert one.payload == {
        "as_of": "2026-11-20",
        "engine": "duckdb",
        "strategy": first.strategy,
        "accounts": 3,
        "actions": first.actions,
        "stages": first.stages,
        "refused": {"cn.template": 2},
        "visits": {"proposed": 0, "cancelled": 0},
        "arrangements": {"kept": 0, "broken": 0, "completed": 0},
        "placements_ended": 0,
        "abandoned": 0,
        "decisions": {"rows": 3, "sha256": decisions_sha256()},
    }
    # Same decisions, same digest, the night's same refusals, whichever run wrote them.
    assert two.payload["decisions"] == one.payload["decisions"]
    assert two.payload["refused"] == one.payload["refused"]
    assert NightlyRun.objects.count() == 2
    assert verify().ok


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_appenders_do_not_fork_the_chain():
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def append(name: str) -> None:
        try:
            start.wait()
            for i in range(20):
                with transaction.atomic():
                    record("test.concurrent", actor=name, data={"i": i})
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(f"worker-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 41))
    assert AuditEntry.objects.filter(actor="worker-1").count() == 20
    assert AuditHead.objects.get().seq == 40
    result = verify()
    assert (result.ok, result.entries) == (True, 40)
