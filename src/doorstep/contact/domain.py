"""Write operations on the contact record: the one place a contact row is created."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from doorstep.audit.domain import record
from doorstep.contact.errors import ContactRejected
from doorstep.contact.models import Contact, Permit, Template
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
    permit_id: str | None = None,
    direction: str = "outbound",
    third_party_id: str | None = None,
) -> Contact:
    """Record a message, call or visit and its outcome, true and complete. An outbound contact
    must have been made on the guard's permit (compliance.domain.authorize) for this account and
    channel, at a time the permit covers; one permit, one contact. An inbound contact (the borrower
    called) needs none. Side effects: the Contact row; the permit marked used; an audit entry
    (contact.recorded). Raises
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
    if direction not in ("outbound", "inbound"):
        raise ContactRejected("direction is outbound or inbound", code="contact.direction")
    with transaction.atomic():
        permit = None
        if direction == "outbound":
            permit = _usable_permit(permit_id, account_id, channel, at, third_party_id)
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
        if permit is not None:
            permit.used_at = timezone.now()
            permit.save(update_fields=["used_at"])
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
            direction=direction,
            permit=permit,
            third_party_id=third_party_id,
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
                "direction": direction,
                "permit": permit.pk if permit else None,
                "ptp_amount_cents": ptp_amount_cents,
                "ptp_date": ptp_date,
            },
        )
        return contact


PERMIT_EARLY = timedelta(minutes=5)


def _usable_permit(permit_id, account_id, channel, at, third_party_id) -> Permit:
    if not permit_id:
        raise ContactRejected(
            "an outbound contact needs the guard's permit (POST /api/accounts/{id}/permits)",
            code="contact.no_permit",
        )
    permit = Permit.objects.select_for_update().filter(pk=permit_id).first()
    if permit is None or permit.account_id != account_id or permit.channel != channel:
        raise ContactRejected(
            "the permit is not for this account and channel", code="contact.permit"
        )
    if (permit.third_party_id or None) != (third_party_id or None):
        raise ContactRejected("the permit is not for this third party", code="contact.permit")
    if permit.used_at is not None:
        raise ContactRejected("the permit was already used", code="contact.permit_used")
    if not (permit.planned_at - PERMIT_EARLY <= at <= permit.valid_until):
        raise ContactRejected(
            f"the permit covers {permit.planned_at:%Y-%m-%d %H:%M} to "
            f"{permit.valid_until:%H:%M} UTC, not this time",
            code="contact.permit_time",
        )
    return permit


def draft_template(code: str, *, channel: str, language: str, body: str, by: str, at=None):
    """A new draft version of a template (compliance reviews it before it can be sent)."""
    at = at or timezone.now()
    if channel not in ContactChannel.values:
        raise ContactRejected(f"unknown channel {channel!r}", code="template.channel")
    with transaction.atomic():
        latest = (
            Template.objects.select_for_update()
            .filter(code=code, channel=channel, language=language)
            .order_by("-version")
            .first()
        )
        return Template.objects.create(
            code=code,
            channel=channel,
            language=language,
            version=(latest.version if latest else 0) + 1,
            body=body,
            created_by=by,
            created_at=at,
        )


def draft_default_templates(*, by: str) -> list:
    """Draft the shipped templates (contact/default_templates.yaml) that have no version yet."""
    from pathlib import Path

    import yaml

    drafted = []
    spec = yaml.safe_load(Path(__file__).with_name("default_templates.yaml").read_text("utf-8"))
    for entry in spec:
        for channel in entry["channels"]:
            for language in ("zh", "en"):
                exists = Template.objects.filter(
                    code=entry["code"], channel=channel, language=language
                ).exists()
                if not exists:
                    drafted.append(
                        draft_template(
                            entry["code"],
                            channel=channel,
                            language=language,
                            body=entry[language],
                            by=by,
                        )
                    )
    return drafted
