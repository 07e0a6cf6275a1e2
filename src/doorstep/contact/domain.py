"""Write operations on the contact record: the one place a contact row is created."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from doorstep.audit.domain import record
from doorstep.contact.errors import ContactRejected
from doorstep.contact.models import Contact
from doorstep.ledger.enums import ContactChannel, ContactOutcome
from doorstep.ledger.models import Account

MESSAGE_CHANNELS = (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.APP)


def record_contact(
    account_id: str,
    *,
    channel: str,
    outcome: str,
    at: datetime,
    by: str,
    ptp_amount_cents: int | None = None,
    ptp_date: date | None = None,
) -> Contact:
    """Record a message, call or visit and its outcome, true and complete. Side effects: the
    Contact row (source = who recorded it); an audit entry (contact.recorded). Raises
    ContactRejected."""
    if channel not in ContactChannel.values:
        raise ContactRejected(f"unknown channel {channel!r}", code="contact.channel")
    if outcome not in ContactOutcome.values:
        raise ContactRejected(f"unknown outcome {outcome!r}", code="contact.outcome")
    if channel in MESSAGE_CHANNELS and outcome != ContactOutcome.DELIVERED:
        raise ContactRejected(
            "a message (sms, email, app) can only have the outcome delivered",
            code="contact.outcome",
        )
    if timezone.is_naive(at):
        raise ContactRejected("at must carry a UTC offset", code="contact.naive_time")
    if at > timezone.now():
        raise ContactRejected("at is in the future", code="contact.future")
    promise = outcome == ContactOutcome.PROMISE_TO_PAY
    if promise != (ptp_amount_cents is not None and ptp_date is not None):
        raise ContactRejected(
            "a promise to pay has an amount and a date, and only a promise has them",
            code="contact.promise",
        )
    with transaction.atomic():
        account = (
            Account.objects.select_for_update()
            .select_related("borrower__region")
            .filter(pk=account_id)
            .first()
        )
        if account is None:
            raise ContactRejected(f"no account {account_id}", code="contact.no_account")
        if promise:
            local_day = at.astimezone(ZoneInfo(account.borrower.region.time_zone)).date()
            if ptp_amount_cents <= 0:
                raise ContactRejected(
                    "the promised amount must be positive", code="contact.promise"
                )
            if ptp_date < local_day:
                raise ContactRejected("the promised date is in the past", code="contact.promise")
        contact = Contact.objects.create(
            id=f"k-{uuid.uuid4().hex}",
            account=account,
            at=at,
            channel=channel,
            outcome=outcome,
            ptp_amount_cents=ptp_amount_cents,
            ptp_date=ptp_date,
            source="staff",
            recorded_by=by,
        )
        record(
            "contact.recorded",
            actor=by,
            obj=account,
            data={
                "contact": contact.pk,
                "channel": channel,
                "outcome": outcome,
                "at": at,
                "ptp_amount_cents": ptp_amount_cents,
                "ptp_date": ptp_date,
            },
        )
        return contact
