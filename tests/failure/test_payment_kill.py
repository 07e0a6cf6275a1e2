"""A payment's posting dies between the ledger write and the commit — the process killed, its
database connection terminated, or a failure injected — and is retried with the same idempotency
key: exactly one payment entry, balances that re-derive from the entries (`doorstep ledger
check`), an unbroken audit chain. The gateway's callback, replayed after its posting died, posts
once. Quick: these run in the normal suite too (make failure-tests runs them with the rest).
"""

import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from doorstep.audit.domain import verify
from doorstep.intake.importer import import_portfolio
from doorstep.ledger import domain as ledger_domain
from doorstep.ledger.models import Account, IdempotencyRecord, LedgerEntry
from doorstep.payments.domain import start_payment
from doorstep.payments.gateways import SandboxGateway
from doorstep.payments.models import PaymentIntent
from doorstep.strategy.domain import take_payment
from tests.arrangements.conftest import AS_OF, local
from tests.failure import harness
from tests.strategy.builder import Portfolio

pytestmark = pytest.mark.failure

PAID_AT = local(AS_OF, 11)
CENTS = 100_000
KEY = "intent:retry-me"


@pytest.fixture
def account(tmp_path, transactional_db):
    p = Portfolio(AS_OF)
    p.account("P1", overdue="5000.00", dpd=40)
    import_portfolio(p.write(tmp_path / "p"))
    return Account.objects.get(pk="P1")


def child_env() -> dict[str, str]:
    return {
        "DATABASE_URL": harness.url_of(connection.settings_dict),
        "DOORSTEP_VAR_DIR": str(settings.VAR_DIR),
        "DOORSTEP_TEST_CLOCK": PAID_AT.isoformat(),
    }


def hung_posting(tmp_path, *args):
    """A child posting a payment, stopped inside its transaction after the last write."""
    flag, log = tmp_path / "posted.flag", tmp_path / "child.log"
    process = harness.spawn([args[0], str(flag), *args[1:]], env=child_env(), log=log)
    harness.wait_for(flag.exists, what="the posting written and not committed",
                     process=process, log=log)  # fmt: skip
    return process, flag, log


def assert_posted_once(account_id: str, cents: int) -> LedgerEntry:
    (entry,) = LedgerEntry.objects.filter(account_id=account_id, kind="payment")
    account = Account.objects.get(pk=account_id)
    assert (entry.amount_cents, account.credited_cents) == (cents, cents)
    checked, differences = ledger_domain.check_ledger()
    assert (checked, differences) == (Account.objects.count(), [])
    assert verify().ok
    return entry


def retry() -> ledger_domain.PostedPayment:
    return take_payment("P1", amount_cents=CENTS, paid_at=PAID_AT, by="retry",
                        idempotency_key=KEY, at=PAID_AT + timedelta(minutes=1))  # fmt: skip


def test_a_posting_killed_before_its_commit_posts_once_when_retried(account, tmp_path, capsys):
    process, _, _ = hung_posting(tmp_path, "pay", "P1", str(CENTS), KEY, PAID_AT.isoformat())
    assert not LedgerEntry.objects.filter(kind="payment").exists()  # written, not committed
    harness.kill(process)

    first, again = retry(), retry()

    assert (first.replayed, again.replayed) == (False, True)
    assert again.entry.pk == first.entry.pk
    assert_posted_once("P1", CENTS)
    assert IdempotencyRecord.objects.get(key=KEY).entry_id == first.entry.pk
    call_command("ledger", "check")
    assert "ledger consistent: 1 accounts" in capsys.readouterr().out


def test_a_connection_terminated_mid_posting_posts_once_when_retried(account, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; on SQLite the process is killed above")
    process, flag, log = hung_posting(tmp_path, "pay", "P1", str(CENTS), KEY, PAID_AT.isoformat())
    backend = json.loads(flag.read_text())["backend_pid"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        assert cursor.fetchone() == (True,)
    (flag.parent / (flag.name + ".go")).touch()  # the child goes on to its commit

    assert process.wait(timeout=60) != 0
    assert "terminat" in log.read_text(errors="replace")  # the server said so
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    first = retry()
    assert not first.replayed
    assert_posted_once("P1", CENTS)


def test_a_failure_between_the_ledger_write_and_the_commit_leaves_nothing(account, monkeypatch):
    real = ledger_domain.record

    def fail_after_posting(code, **kwargs):
        entry = real(code, **kwargs)
        if code == "payment.posted":
            raise ConnectionError("the database went away before the commit")
        return entry

    monkeypatch.setattr(ledger_domain, "record", fail_after_posting)
    with pytest.raises(ConnectionError):
        retry()
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert not IdempotencyRecord.objects.exists()
    assert Account.objects.get(pk="P1").credited_cents == 0

    monkeypatch.setattr(ledger_domain, "record", real)
    assert not retry().replayed
    assert retry().replayed
    assert_posted_once("P1", CENTS)


def test_a_gateway_callback_whose_posting_died_posts_once_when_replayed(account, tmp_path):
    gateway = SandboxGateway()
    intent = start_payment("P1", amount_cents=CENTS, purpose="partial", by="borrower",
                           at=local(AS_OF, 10))  # fmt: skip
    body = gateway.callback_body(intent.pk, succeeded=True, at=PAID_AT)
    (tmp_path / "body.json").write_bytes(body)
    process, _, _ = hung_posting(tmp_path, "callback", str(tmp_path / "body.json"),
                                 gateway.sign(body))  # fmt: skip
    harness.kill(process)
    intent.refresh_from_db()
    assert (intent.state, intent.entry_id) == ("pending", None)

    with time_machine.travel(PAID_AT + timedelta(minutes=5), tick=False):
        replies = [
            Client().post("/pay/callback/", body, content_type="application/json",
                          headers={"X-Signature": gateway.sign(body)})
            for _ in range(2)
        ]  # fmt: skip

    assert [(r.status_code, r.content) for r in replies] == [(200, b"ok")] * 2
    intent = PaymentIntent.objects.get(pk=intent.pk)
    entry = assert_posted_once("P1", CENTS)
    assert (intent.state, intent.entry_id, entry.reference) == ("succeeded", entry.pk, intent.pk)
