"""Paying through the gateway: signed callbacks, posted once, and a payoff that settles."""

import pytest

from doorstep.ledger.models import Account, LedgerEntry
from doorstep.payments.domain import PaymentError, apply_callback, start_payment
from doorstep.payments.gateways import GatewayError, SandboxGateway
from doorstep.strategy.models import PlannedAction
from tests.arrangements.conftest import AS_OF, local

NOW = local(AS_OF)
SANDBOX = SandboxGateway()


def _callback(intent, succeeded=True):
    body = SANDBOX.callback_body(intent.pk, succeeded=succeeded, at=NOW)
    return apply_callback(body, SANDBOX.sign(body), at=NOW)


def test_a_callback_delivered_twice_posts_once(accounts):
    intent = start_payment("A1", amount_cents=100_000, purpose="partial", by="b", at=NOW)
    assert _callback(intent).state == "succeeded"
    assert _callback(intent).state == "succeeded"
    entry = LedgerEntry.objects.get(kind="payment", account_id="A1")
    assert (entry.amount_cents, entry.reference, entry.source) == (100_000, intent.pk, "portal")


def test_a_forged_callback_changes_nothing(accounts):
    intent = start_payment("A1", amount_cents=100_000, purpose="partial", by="b", at=NOW)
    body = SANDBOX.callback_body(intent.pk, succeeded=True, at=NOW)
    with pytest.raises(GatewayError):
        apply_callback(body, "0" * 64, at=NOW)
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert _callback(intent, succeeded=False).state == "failed"
    assert not LedgerEntry.objects.filter(kind="payment").exists()


@pytest.mark.django_db(transaction=True)
def test_paying_off_settles_and_cancels_pending_actions(accounts):
    from doorstep.strategy.domain import run_nightly

    run_nightly(AS_OF, by="t")
    assert PlannedAction.objects.filter(account_id="A1", status="planned").exists()
    balance = Account.objects.get(pk="A1").balance_cents
    intent = start_payment("A1", amount_cents=balance, purpose="full", by="b", at=NOW)
    assert _callback(intent).state == "succeeded"
    account = Account.objects.get(pk="A1")
    assert (account.status, account.settled_on) == ("settled", AS_OF)
    assert not PlannedAction.objects.filter(account_id="A1", status="planned").exists()
    with pytest.raises(PaymentError):
        start_payment("A1", amount_cents=1, purpose="partial", by="b", at=NOW)


def test_more_than_is_owed_is_refused_and_a_late_duplicate_is_flagged_for_refund(accounts):
    with pytest.raises(PaymentError):
        start_payment("A1", amount_cents=10**9, purpose="partial", by="b", at=NOW)
    balance = Account.objects.get(pk="A1").balance_cents
    first = start_payment("A1", amount_cents=balance, purpose="full", by="b", at=NOW)
    second = start_payment("A1", amount_cents=balance, purpose="full", by="b", at=NOW)
    _callback(first)
    late = _callback(second)
    assert late.state == "refund_due"
    assert late.entry is None
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
