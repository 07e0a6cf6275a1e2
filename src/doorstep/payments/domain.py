"""Payments from the portal: open an intent, hand the borrower to the gateway, and post the
money when the gateway's signed callback says it was paid. Posting goes through
strategy.take_payment with the intent's id as idempotency key: a callback delivered twice, or
the sandbox button pressed twice, posts once; a payment that settles the account cancels every
pending action in the same transaction."""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.errors import UserError
from doorstep.ledger.enums import AccountStatus, EntrySource
from doorstep.ledger.errors import LedgerError
from doorstep.ledger.queries import locked_account
from doorstep.money import yuan_display
from doorstep.payments.enums import IntentState, Purpose
from doorstep.payments.gateways import Callback, gateway
from doorstep.payments.models import PaymentIntent
from doorstep.strategy.domain import take_payment


class PaymentError(UserError):
    pass


def start_payment(
    account_id: str, *, amount_cents: int, purpose: str, by: str, at: datetime
) -> PaymentIntent:
    """Open a payment intent for at most what is owed. Side effects: the intent; an audit entry
    (payment.started). Raises PaymentError."""
    if purpose not in Purpose.values:
        raise PaymentError(
            gettext_noop("unknown purpose %(purpose)s"),
            code="pay.purpose",
            params={"purpose": purpose},
        )
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None or account.status == AccountStatus.SETTLED:
            raise PaymentError(gettext_noop("this account has nothing to pay"), code="pay.account")
        if not 0 < amount_cents <= account.balance_cents:
            raise PaymentError(
                gettext_noop("pay between ¥0.01 and %(most)s"),
                code="pay.amount",
                params={"most": yuan_display(account.balance_cents)},
            )
        intent = PaymentIntent.objects.create(
            id=f"PI-{uuid.uuid4().hex[:20]}",
            account=account,
            amount_cents=amount_cents,
            purpose=purpose,
            gateway=gateway().name,
            state=IntentState.PENDING,
            created_by=by,
            created_at=at,
            updated_at=at,
        )
        record(
            "payment.started",
            actor=by,
            obj=intent,
            at=at,
            data={"account": account.pk, "amount_cents": amount_cents, "purpose": purpose},
        )
        return intent


def apply_callback(body: bytes, signature: str, *, at: datetime) -> PaymentIntent:
    """The gateway says how an intent ended. Idempotent. Side effects: the intent's state; on
    success the payment posted (and the account re-evaluated); an audit entry. Raises
    GatewayError on a bad signature, PaymentError on an unknown intent."""
    found: Callback = gateway().parse_callback(body, signature)
    with transaction.atomic():
        # The account before the intent (docs/adr/0010): posting the payment locks it anyway.
        owner = (
            PaymentIntent.objects.filter(pk=found.intent_id)
            .values_list("account_id", flat=True)
            .first()
        )
        if owner is not None:
            locked_account(owner)
        intent = PaymentIntent.objects.select_for_update().filter(pk=found.intent_id).first()
        if intent is None:
            raise PaymentError(
                gettext_noop("no payment %(id)s"),
                code="pay.unknown",
                params={"id": found.intent_id},
            )
        if intent.state != IntentState.PENDING:
            return intent  # a repeated callback: the first one decided
        intent.gateway_ref, intent.updated_at = found.gateway_ref, at
        if not found.succeeded:
            intent.state = IntentState.FAILED
        else:
            try:
                with transaction.atomic():
                    posted = take_payment(
                        intent.account_id,
                        amount_cents=intent.amount_cents,
                        paid_at=min(found.paid_at, at),
                        by=f"gateway:{intent.gateway}",
                        source=EntrySource.PORTAL,
                        reference=intent.pk,
                        idempotency_key=f"intent:{intent.pk}",
                        at=at,
                    )
                intent.state, intent.entry = IntentState.SUCCEEDED, posted.entry
            except LedgerError as exc:
                intent.state, intent.note = IntentState.REFUND_DUE, exc.message[:200]
        intent.save()
        record(
            f"payment.{intent.state}",
            actor=f"gateway:{intent.gateway}",
            obj=intent,
            at=at,
            data={"account": intent.account_id, "ref": found.gateway_ref, "note": intent.note},
        )
        return intent
