"""Write operations on the contact record: the one place a contact row is created."""

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from doorstep import pii
from doorstep.audit.domain import record
from doorstep.contact import channels
from doorstep.contact.enums import MESSAGE_TRANSITIONS, MessageStatus, RecipientField
from doorstep.contact.errors import ContactRejected
from doorstep.contact.models import Contact, OutboundMessage, Permit, Template, TemplateStatus
from doorstep.ledger.enums import ContactChannel, ContactOutcome
from doorstep.ledger.models import Account
from doorstep.ledger.queries import locked_account

MESSAGE_CHANNELS = (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.APP)
log = logging.getLogger(__name__)


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
        raise ContactRejected(
            gettext_noop("unknown channel %(channel)s"), code="contact.channel",
            params={"channel": repr(channel)},
        )  # fmt: skip
    if outcome not in ContactOutcome.values:
        raise ContactRejected(
            gettext_noop("unknown outcome %(outcome)s"), code="contact.outcome",
            params={"outcome": repr(outcome)},
        )  # fmt: skip
    if channel in MESSAGE_CHANNELS and outcome != ContactOutcome.DELIVERED:
        raise ContactRejected(
            gettext_noop("a message (sms, email, app) can only have the outcome delivered"),
            code="contact.outcome",
        )
    if timezone.is_naive(at):
        raise ContactRejected(gettext_noop("at must carry a UTC offset"), code="contact.naive_time")
    if at > timezone.now():
        raise ContactRejected(gettext_noop("at is in the future"), code="contact.future")
    promise = outcome == ContactOutcome.PROMISE_TO_PAY
    if promise != (ptp_amount_cents is not None and ptp_date is not None):
        raise ContactRejected(
            gettext_noop("a promise to pay has an amount and a date, and only a promise has them"),
            code="contact.promise",
        )
    if direction not in ("outbound", "inbound"):
        raise ContactRejected(
            gettext_noop("direction is outbound or inbound"), code="contact.direction"
        )
    with transaction.atomic():
        # The account before the permit (docs/adr/0010); the refusals keep their order.
        account = locked_account(account_id)
        permit = None
        if direction == "outbound":
            permit = _usable_permit(permit_id, account_id, channel, at, third_party_id)
        if account is None:
            raise ContactRejected(
                gettext_noop("no account %(account)s"), code="contact.no_account",
                params={"account": account_id},
            )  # fmt: skip
        if promise:
            local_day = at.astimezone(ZoneInfo(account.borrower.region.time_zone)).date()
            if ptp_amount_cents <= 0:
                raise ContactRejected(
                    gettext_noop("the promised amount must be positive"), code="contact.promise"
                )
            if ptp_date < local_day:
                raise ContactRejected(
                    gettext_noop("the promised date is in the past"), code="contact.promise"
                )
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
            gettext_noop(
                "an outbound contact needs the guard's permit (POST /api/accounts/{id}/permits)"
            ),
            code="contact.no_permit",
        )
    permit = Permit.objects.select_for_update().filter(pk=permit_id).first()
    if permit is None or permit.account_id != account_id or permit.channel != channel:
        raise ContactRejected(
            gettext_noop("the permit is not for this account and channel"), code="contact.permit"
        )
    if (permit.third_party_id or None) != (third_party_id or None):
        raise ContactRejected(
            gettext_noop("the permit is not for this third party"), code="contact.permit"
        )
    if permit.used_at is not None:
        raise ContactRejected(
            gettext_noop("the permit was already used"), code="contact.permit_used"
        )
    if not (permit.planned_at - PERMIT_EARLY <= at <= permit.valid_until):
        raise ContactRejected(
            gettext_noop("the permit covers %(start)s to %(end)s UTC, not this time"),
            code="contact.permit_time",
            params={
                "start": f"{permit.planned_at:%Y-%m-%d %H:%M}",
                "end": f"{permit.valid_until:%H:%M}",
            },
        )
    return permit


def draft_template(code: str, *, channel: str, language: str, body: str, by: str, at=None):
    """A new draft version of a template (compliance reviews it before it can be sent)."""
    at = at or timezone.now()
    if channel not in ContactChannel.values:
        raise ContactRejected(
            gettext_noop("unknown channel %(channel)s"), code="template.channel",
            params={"channel": repr(channel)},
        )  # fmt: skip
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


# ---------------------------------------------------------------------------------------------
# The outbox: queue on a permit, drain through the channel backends, record receipts.

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_template(body: str, params: Mapping[str, object]) -> str:
    """Fill `{name}` placeholders; a placeholder without a value is refused, naming it."""
    missing = sorted({name for name in PLACEHOLDER.findall(body) if name not in params})
    if missing:
        raise ContactRejected(
            gettext_noop("no value for the placeholder(s) %(names)s"),
            code="contact.placeholder", params={"names": ", ".join(missing)},
        )  # fmt: skip
    return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), body)


def mask_email(value: str) -> str:
    """z***@example.com"""
    local_part, _, domain = value.strip().partition("@")
    return f"{local_part[:1]}***@{domain}" if domain else "***"


def _recipient(borrower, channel: str) -> tuple[str, str, str]:
    """(which field, masked form, clear value) — the clear value is never stored."""
    if channel == ContactChannel.SMS:
        phone = borrower.phone()
        return RecipientField.PHONE, pii.mask_phone(phone), phone
    if channel == ContactChannel.EMAIL:
        email = borrower.email()
        if not email:
            raise ContactRejected(
                gettext_noop("the borrower gave no email address"), code="contact.no_address"
            )
        return RecipientField.EMAIL, mask_email(email), email
    return RecipientField.APP_USER, borrower.pk, borrower.pk


def queue_message(
    permit_id: str, *, template_code: str, params: Mapping[str, object], by: str, at: datetime
) -> OutboundMessage:
    """Put a message made on the guard's permit into the outbox, rendered from the approved
    template version in the borrower's language. Side effects: the OutboundMessage (queued); the
    permit marked used; an audit entry (message.queued). The Contact is recorded when the provider
    accepts it (send_queued). Raises ContactRejected."""
    if timezone.is_naive(at):
        raise ContactRejected(gettext_noop("at must carry a UTC offset"), code="contact.naive_time")
    with transaction.atomic():
        permit = Permit.objects.filter(pk=permit_id).first() if permit_id else None
        if permit is None:
            raise ContactRejected(
                gettext_noop("no permit %(permit)s"), code="contact.permit",
                params={"permit": permit_id},
            )  # fmt: skip
        if permit.channel not in MESSAGE_CHANNELS:
            raise ContactRejected(
                gettext_noop("the permit is for a %(channel)s, not a message (sms, email, app)"),
                code="contact.permit", params={"channel": permit.channel},
            )  # fmt: skip
        permit = _usable_permit(permit_id, permit.account_id, permit.channel, at, None)
        if permit.template and permit.template != template_code:
            raise ContactRejected(
                gettext_noop("the permit was given for the template %(permitted)s, not %(asked)s"),
                code="contact.template",
                params={"permitted": permit.template, "asked": template_code},
            )
        account = Account.objects.select_related("borrower").get(pk=permit.account_id)
        language = account.borrower.language
        template = (
            Template.objects.filter(
                code=template_code,
                channel=permit.channel,
                language=language,
                status=TemplateStatus.APPROVED,
            )
            .order_by("-version")
            .first()
        )
        if template is None:
            raise ContactRejected(
                gettext_noop("no approved %(channel)s template %(template)s in %(language)s"),
                code="contact.template",
                params={"channel": permit.channel, "template": template_code, "language": language},
            )
        text = render_template(template.body, params)
        field, masked, _clear = _recipient(account.borrower, permit.channel)
        permit.used_at = at
        permit.save(update_fields=["used_at"])
        message = OutboundMessage.objects.create(
            id=f"m-{uuid.uuid4().hex}",
            permit=permit,
            account=account,
            channel=permit.channel,
            template=template,
            language=language,
            text=text,
            recipient_field=field,
            recipient_masked=masked,
            queued_by=by,
            queued_at=at,
        )
        record(
            "message.queued",
            actor=by,
            obj=message,
            at=at,
            data={
                "account": account.pk,
                "permit": permit.pk,
                "channel": permit.channel,
                "template": template.pk,
                "version": template.version,
                "to": masked,
            },
        )
        return message


def _move(message: OutboundMessage, to: str, *, actor: str, at: datetime, data=None, **fields):
    """The outbox's one transition: validated against MESSAGE_TRANSITIONS, a conditional UPDATE
    on the old status, an audit entry (message.<new status>)."""
    if to not in MESSAGE_TRANSITIONS[message.status]:
        raise ContactRejected(
            gettext_noop("a %(status)s message cannot become %(to)s"),
            code="message.transition", params={"status": message.status, "to": to},
        )  # fmt: skip
    changed = OutboundMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=to, **fields
    )
    if changed != 1:
        raise ContactRejected(
            gettext_noop("the message changed meanwhile"), code="message.conflict"
        )
    record(
        f"message.{to}",
        actor=actor,
        obj=message,
        at=at,
        data={"from": message.status, **(data or {})},
    )
    message.status = to
    for name, value in fields.items():
        setattr(message, name, value)


def send_queued(
    limit: int = 100, *, backends: Mapping[str, object] | None = None, now=None
) -> dict[str, int]:
    """Drain queued messages through the channel backends (settings DOORSTEP_*_BACKEND), each in
    its own transactions: mark `sending` with the attempt, call the provider with the permit id
    as the idempotency reference, mark `sent` (and record the Contact, outcome sent) or `failed`.
    A crash after the provider call leaves the message `sending`: it is never queued again, so
    nothing is sent twice; resend_stuck asks the provider about it under the same reference once
    the stuck timeout has passed. A permit whose window has passed is not sent (failed). Returns
    counts."""
    counts = {"sent": 0, "failed": 0, "error": 0}
    chosen: dict[str, object] = dict(backends or {})
    ids = list(
        OutboundMessage.objects.filter(status=MessageStatus.QUEUED)
        .order_by("queued_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        try:
            outcome = _send_one(message_id, chosen, now or timezone.now())
        except Exception:  # one bad message must not stop the drain
            log.exception("sending message %s", message_id)
            outcome = "error"
        if outcome:
            counts[outcome] += 1
    return counts


def _send_one(message_id: str, chosen: dict, now: datetime) -> str | None:
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("permit", "account__borrower")
            .filter(pk=message_id, status=MessageStatus.QUEUED)
            .first()
        )
        if message is None:  # another drain took it
            return None
        if now < message.permit.planned_at - PERMIT_EARLY:  # its window has not opened yet
            return None
        if now > message.permit.valid_until:
            _move(message, MessageStatus.FAILED, actor="outbox", at=now,
                  data={"error": "the permit's window has passed"},
                  last_error="the permit's window has passed; ask the guard again")  # fmt: skip
            return "failed"
        _move(message, MessageStatus.SENDING, actor="outbox", at=now,
              attempts=message.attempts + 1, sending_at=now)  # fmt: skip
    _field, _masked, to = _recipient(message.account.borrower, message.channel)
    backend = chosen.get(message.channel) or chosen.setdefault(
        message.channel, channels.backend_for(message.channel)
    )
    try:
        result = backend.send(to, message.text, reference=message.permit_id)
    except Exception as exc:  # a provider bug is a failed send, not a crash
        result = channels.SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return _mark_result(message, result, at=timezone.now())


def _mark_result(message: OutboundMessage, result, *, at: datetime) -> str:
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if not result.accepted:
            _move(message, MessageStatus.FAILED, actor="outbox", at=at,
                  data={"error": result.error}, last_error=result.error or "")  # fmt: skip
            return "failed"
        _move(message, MessageStatus.SENT, actor="outbox", at=at,
              data={"provider_id": result.provider_id},
              provider_id=result.provider_id or "", sent_at=at)  # fmt: skip
        contact = Contact.objects.create(
            id=f"k-{uuid.uuid4().hex}",
            account_id=message.account_id,
            at=at,
            channel=message.channel,
            outcome=ContactOutcome.SENT,
            source="outbox",
            recorded_by=message.queued_by,
            direction="outbound",
            permit_id=message.permit_id,
        )
        record(
            "contact.recorded",
            actor="outbox",
            obj=message.account,
            at=at,
            data={
                "contact": contact.pk,
                "channel": message.channel,
                "outcome": ContactOutcome.SENT,
                "at": at,
                "direction": "outbound",
                "permit": message.permit_id,
                "message": message.pk,
            },
        )
        return "sent"


def record_receipt(provider_id: str, *, delivered: bool, at: datetime, by: str = "provider"):
    """A provider's delivery receipt: the message becomes delivered or undelivered and its
    Contact's outcome follows. A repeated receipt with the same answer changes nothing.
    Side effects: the message and Contact rows; audit entries (message.<status>,
    contact.outcome_confirmed). Raises ContactRejected."""
    if timezone.is_naive(at):
        raise ContactRejected(gettext_noop("at must carry a UTC offset"), code="contact.naive_time")
    new = MessageStatus.DELIVERED if delivered else MessageStatus.UNDELIVERED
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("account")
            .filter(provider_id=provider_id)
            .exclude(provider_id="")
            .first()
        )
        if message is None:
            raise ContactRejected(
                gettext_noop("no message %(id)s"), code="message.unknown",
                params={"id": provider_id},
            )  # fmt: skip
        if message.status == new:
            return message
        _move(message, new, actor=by, at=at, data={"provider_id": provider_id}, receipt_at=at)
        outcome = ContactOutcome.DELIVERED if delivered else ContactOutcome.UNDELIVERED
        contact = Contact.objects.select_for_update().get(permit_id=message.permit_id)
        Contact.objects.filter(pk=contact.pk, outcome=ContactOutcome.SENT).update(outcome=outcome)
        record(
            "contact.outcome_confirmed",
            actor=by,
            obj=message.account,
            at=at,
            data={"contact": contact.pk, "from": contact.outcome, "to": outcome},
        )
        return message


def resend_stuck(*, older_than: timedelta, now: datetime, backends=None) -> dict[str, int]:
    """Messages left `sending` by a crash between marking and the provider's answer, once they
    have been sending for `older_than`. Within the permit's window and on an idempotent backend
    (`idempotent = True`: the provider deduplicates by the reference), the provider is asked again
    with the same reference (it answers with the first send's result, or sends it now); otherwise
    the message is failed with why, for a person to check with the provider. Each is claimed first
    in its own transaction (the attempt counted, `sending_at` moved to now, an audit entry
    message.resending), so two drains never ask about one message at once and a drain that dies
    while asking leaves it for the next timeout. Returns counts."""
    counts = {"sent": 0, "failed": 0, "error": 0}
    chosen: dict[str, object] = dict(backends or {})
    ids = list(
        OutboundMessage.objects.filter(
            status=MessageStatus.SENDING, sending_at__lt=now - older_than
        )
        .order_by("sending_at", "id")
        .values_list("id", flat=True)
    )
    for message_id in ids:
        try:
            outcome = _resend_one(message_id, chosen, now=now, older_than=older_than)
        except Exception:  # one bad message must not stop the others
            log.exception("asking again about message %s", message_id)
            outcome = "error"
        if outcome:
            counts[outcome] += 1
    return counts


def _resend_one(message_id: str, chosen: dict, *, now: datetime, older_than: timedelta):
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("permit", "account__borrower")
            .filter(pk=message_id, status=MessageStatus.SENDING)
            .first()
        )
        if message is None or message.sending_at >= now - older_than:
            return None  # another drain answered or claimed it meanwhile
        claimed = OutboundMessage.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, sending_at=message.sending_at
        ).update(attempts=F("attempts") + 1, sending_at=now)
        if claimed != 1:
            return None
        record(
            "message.resending",
            actor="outbox",
            obj=message,
            at=now,
            data={"attempt": message.attempts + 1, "reference": message.permit_id,
                  "sending_since": message.sending_at},
        )  # fmt: skip
        message.attempts, message.sending_at = message.attempts + 1, now
    backend = chosen.get(message.channel) or chosen.setdefault(
        message.channel, channels.backend_for(message.channel)
    )
    if now > message.permit.valid_until or not getattr(backend, "idempotent", False):
        result = channels.SendResult(
            False,
            error="stuck while being sent; not retried (permit expired or provider not "
            f"idempotent): check with the provider under reference {message.permit_id}",
        )
    else:
        _field, _masked, to = _recipient(message.account.borrower, message.channel)
        try:
            result = backend.send(to, message.text, reference=message.permit_id)
        except Exception as exc:  # a provider bug is a failed send, not a crash
            result = channels.SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return _mark_result(message, result, at=now)


def drain_outbox(*, limit: int = 1000, now: datetime, backends=None) -> dict[str, int]:
    """One pass over the outbox, as the background job runs it: queued messages handed to the
    providers (send_queued), then messages stuck while being sent for longer than
    DOORSTEP_OUTBOX_STUCK_SECONDS asked about again (resend_stuck). Safe to run at any time and
    more than once at a time: every message moves by a conditional update. Returns counts, the
    stuck ones' prefixed `stuck_`."""
    chosen: dict[str, object] = dict(backends or {})
    counts = send_queued(limit=limit, backends=chosen, now=now)
    stuck = resend_stuck(
        older_than=timedelta(seconds=settings.DOORSTEP_OUTBOX_STUCK_SECONDS),
        now=now,
        backends=chosen,
    )
    return counts | {f"stuck_{key}": value for key, value in stuck.items()}
