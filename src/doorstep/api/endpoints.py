"""The REST API. Endpoints parse, call one domain function, and shape the answer."""

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from doorstep.api.models import ApiToken
from doorstep.compliance import domain as compliance
from doorstep.compliance.engine.checks import Action
from doorstep.compliance.engine.pack import CHANNELS
from doorstep.compliance.models import Refusal
from doorstep.contact import domain as contact_domain
from doorstep.contact import tasks as contact_tasks
from doorstep.contact.errors import ContactRejected
from doorstep.ledger.enums import EntrySource
from doorstep.ledger.errors import HoldRejected, IdempotencyConflict, PaymentRejected
from doorstep.ledger.models import Account
from doorstep.money import cents, yuan
from doorstep.strategy import domain as strategy_domain
from doorstep.strategy import queries as strategy_queries
from doorstep.strategy.domain import take_payment


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        request.user = found.user
        return found.user


class DjangoSession(SessionAuth):
    """A staff member's Django login, CSRF-checked. Only tried when a session cookie is sent:
    ninja's `django_auth` checks CSRF first, so a caller with no cookie and a missing or revoked
    token would get 403 "CSRF check Failed" instead of 401."""

    def __call__(self, request: HttpRequest):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super().__call__(request)


api = NinjaAPI(
    title="doorstep API",
    version="1",
    description="Consumer-credit collections. Amounts are yuan strings with at most 2 decimals.",
    auth=[BearerToken(), DjangoSession()],
    urls_namespace="api",
)


class PaymentIn(Schema):
    account_id: str = Field(max_length=32)
    amount: Decimal = Field(gt=0, max_digits=15, decimal_places=2, description="yuan, e.g. 1234.50")
    paid_at: datetime = Field(description="ISO 8601 with UTC offset")
    payment_id: str | None = Field(None, max_length=32, description="the payer's own reference")


class PaymentOut(Schema):
    entry_id: int
    account_id: str
    amount: str
    paid_at: datetime
    effective_on: str
    payment_id: str | None
    account_status: str
    account_balance: str
    replayed: bool


class ErrorOut(Schema):
    code: str
    detail: str


_STATUS = {"payment.no_account": 404, "payment.duplicate_reference": 409}


@api.post(
    "/payments",
    response={200: PaymentOut, 201: PaymentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="Post a payment (idempotent)",
)  # fmt: skip
def post_payment(request: HttpRequest, body: PaymentIn):
    """Posts once per `Idempotency-Key`; a retry with the same key and body returns the first
    result (200), the same key with a different body is refused (409)."""
    if not request.user.has_perm("ledger.post_payment"):
        raise HttpError(403, "not allowed to post payments")
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 128:
        return Status(
            400,
            ErrorOut(
                code="payment.idempotency_key",
                detail="send an Idempotency-Key header (1–128 characters)",
            ),
        )
    if body.paid_at.tzinfo is None:
        return Status(
            422, ErrorOut(code="payment.naive_time", detail="paid_at must carry a UTC offset")
        )
    try:
        posted = take_payment(
            body.account_id,
            amount_cents=cents(body.amount),
            paid_at=body.paid_at,
            by=request.user.get_username(),
            source=EntrySource.API,
            reference=body.payment_id,
            idempotency_key=f"{request.user.pk}:{key}",
        )
    except IdempotencyConflict as exc:
        return Status(409, ErrorOut(code=exc.code, detail=exc.message))
    except PaymentRejected as exc:
        return Status(_STATUS.get(exc.code, 422), ErrorOut(code=exc.code, detail=exc.message))
    entry, account = posted.entry, posted.account
    account.refresh_from_db()
    return Status(
        200 if posted.replayed else 201,
        PaymentOut(
            entry_id=entry.pk,
            account_id=account.pk,
            amount=yuan(entry.amount_cents),
            paid_at=entry.occurred_at,
            effective_on=entry.effective_on.isoformat(),
            payment_id=entry.reference,
            account_status=account.status,
            account_balance=yuan(max(account.balance_cents, 0)),
            replayed=posted.replayed,
        ),
    )


class RuleOut(Schema):
    id: str
    stage: str
    gate: bool
    when: str
    result: bool = Field(description="matched (a rule) or passed (a gate)")
    skipped: bool = Field(description="reads a model feature that is NULL: no scoring model yet")
    figures: dict[str, str | int | bool | None]


class NextChangeOut(Schema):
    on: date
    stage: str
    rules: list[str]
    text: str


class DecisionOut(Schema):
    account_id: str
    as_of: date
    stage: str
    previous_stage: str
    triggers: list[str]
    blocked_by: list[str]
    reasons: str
    arm: str
    strategy_version: str
    rules: list[RuleOut]
    next_change: NextChangeOut | None
    stored: bool = Field(description="a decision for this date is on record (nightly or real time)")


def _figure(value):
    return str(value) if isinstance(value, Decimal) else value


@api.get(
    "/accounts/{account_id}/decision",
    response={200: DecisionOut, 404: ErrorOut},
    summary="Explain an account's stage: every rule and gate with its figures, and what is next",
)
def account_decision(
    request: HttpRequest, account_id: str, as_of: date | None = None, lang: str = "zh"
):
    if not request.user.has_perm("strategy.view_decision"):
        raise HttpError(403, "not allowed to read decisions")
    if lang not in ("zh", "en"):
        return Status(404, ErrorOut(code="decision.lang", detail="lang is zh or en"))
    version = strategy_domain.active_version()
    try:
        e = strategy_queries.explain_account(
            account_id, as_of, strategy_domain.compiled(version), at=timezone.now()
        )
    except Account.DoesNotExist:
        return Status(404, ErrorOut(code="decision.no_account", detail=f"no account {account_id}"))
    d, change = e.decision, e.next_change
    return DecisionOut(
        account_id=account_id,
        as_of=e.as_of,
        stage=d.stage,
        previous_stage=d.previous_stage,
        triggers=list(d.triggers),
        blocked_by=list(d.blocked_by),
        reasons=d.reasons_en if lang == "en" else d.reasons_zh,
        arm=d.arm,
        strategy_version=version.label,
        rules=[
            RuleOut(
                id=line.id,
                stage=line.stage,
                gate=line.gate,
                when=line.when,
                result=line.result,
                skipped=line.skipped,
                figures={k: _figure(v) for k, v in line.figures.items()},
            )
            for line in e.lines
        ],
        next_change=NextChangeOut(
            on=change.on,
            stage=change.stage,
            rules=list(change.rules),
            text=change.en if lang == "en" else change.zh,
        )
        if change
        else None,
        stored=strategy_queries.stored_decision(account_id, e.as_of) is not None,
    )


class StageOut(Schema):
    account_id: str
    as_of: date
    stage: str
    triggers: list[str]
    blocked_by: list[str]
    reasons_zh: str
    reasons_en: str


def _stage(decision) -> StageOut:
    return StageOut(
        account_id=decision.account_id,
        as_of=decision.as_of,
        stage=decision.stage,
        triggers=decision.trigger_list,
        blocked_by=decision.blocked_list,
        reasons_zh=decision.reasons_zh,
        reasons_en=decision.reasons_en,
    )


class ContactIn(Schema):
    channel: str = Field(description="sms | email | app | call | visit")
    outcome: str = Field(description="delivered | reached | no_answer | unreachable | …")
    at: datetime = Field(description="ISO 8601 with UTC offset")
    ptp_amount: Decimal | None = Field(None, gt=0, max_digits=15, decimal_places=2)
    ptp_date: date | None = None
    direction: str = Field("outbound", description="outbound (needs permit_id) | inbound")
    permit_id: str | None = Field(None, description="the guard's permit the contact was made on")
    third_party_id: str | None = None


_CONTACT_STATUS = {"contact.no_account": 404}


@api.post(
    "/accounts/{account_id}/contacts",
    response={201: StageOut, 404: ErrorOut, 422: ErrorOut},
    summary="Record a contact outcome; the account's stage is re-evaluated at once",
)
def record_contact(request: HttpRequest, account_id: str, body: ContactIn):
    if not request.user.has_perm("contact.add_contact"):
        raise HttpError(403, "not allowed to record contacts")
    try:
        decision = strategy_domain.record_contact_outcome(
            account_id,
            by=request.user.get_username(),
            at=body.at,
            channel=body.channel,
            outcome=body.outcome,
            ptp_amount_cents=cents(body.ptp_amount) if body.ptp_amount is not None else None,
            ptp_date=body.ptp_date,
            direction=body.direction,
            permit_id=body.permit_id,
            third_party_id=body.third_party_id,
        )
    except ContactRejected as exc:
        return Status(
            _CONTACT_STATUS.get(exc.code, 422), ErrorOut(code=exc.code, detail=exc.message)
        )
    return Status(201, _stage(decision))


class HoldIn(Schema):
    kind: str = Field(description="dispute | complaint | cease_visit | visit_declined | …")
    since: date
    until: date | None = None


@api.post(
    "/accounts/{account_id}/holds",
    response={201: StageOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Open a hold; the account's stage is re-evaluated at once",
)
def place_hold(request: HttpRequest, account_id: str, body: HoldIn):
    if not request.user.has_perm("ledger.add_hold"):
        raise HttpError(403, "not allowed to place holds")
    try:
        decision = strategy_domain.place_account_hold(
            account_id,
            by=request.user.get_username(),
            kind=body.kind,
            since=body.since,
            until=body.until,
        )
    except HoldRejected as exc:
        status = {"hold.no_account": 404, "hold.duplicate": 409}.get(exc.code, 422)
        return Status(status, ErrorOut(code=exc.code, detail=exc.message))
    return Status(201, _stage(decision))


class PermitIn(Schema):
    channel: str = Field(description="sms | email | app | call | visit | letter | third_party_call")
    purpose: str = Field("collection", description="collection | reminder | notice | locate")
    planned_at: datetime = Field(description="ISO 8601 with UTC offset")
    template: str | None = None
    third_party_id: str | None = None


class PermitOut(Schema):
    permit_id: str
    account_id: str
    channel: str
    planned_at: datetime
    valid_until: datetime
    pack: str


class RefusalOut(Schema):
    rule_id: str
    source: str
    citation: str
    reason: str
    pack: str


@api.post(
    "/accounts/{account_id}/permits",
    response={201: PermitOut, 403: RefusalOut, 404: ErrorOut, 422: ErrorOut},
    summary="Ask the compliance guard before contacting a borrower: a permit, or the rule that refuses",
)
def request_permit(request: HttpRequest, account_id: str, body: PermitIn, lang: str = "zh"):
    if not request.user.has_perm("contact.add_contact"):
        raise HttpError(403, "not allowed to contact borrowers")
    if body.planned_at.tzinfo is None:
        return Status(422, ErrorOut(code="permit.naive_time", detail="planned_at needs an offset"))
    if body.channel not in CHANNELS:
        return Status(
            422, ErrorOut(code="permit.channel", detail=f"unknown channel {body.channel}")
        )
    account = Account.objects.filter(pk=account_id).only("borrower_id").first()
    if account is None:
        return Status(404, ErrorOut(code="permit.no_account", detail=f"no account {account_id}"))
    result = compliance.authorize(
        Action(
            account_id=account_id,
            borrower_id=account.borrower_id,
            channel=body.channel,
            purpose=body.purpose,
            actor=request.user.get_username(),
            planned_at=body.planned_at,
            template=body.template,
            third_party_id=body.third_party_id,
        )
    )
    if isinstance(result, Refusal):
        return Status(
            403,
            RefusalOut(
                rule_id=result.rule_id, source=result.source, citation=result.citation,
                reason=result.reason_en if lang == "en" else result.reason_zh, pack=result.pack,
            ),
        )  # fmt: skip
    return Status(
        201,
        PermitOut(
            permit_id=result.pk, account_id=account_id, channel=result.channel,
            planned_at=result.planned_at, valid_until=result.valid_until, pack=result.pack,
        ),
    )  # fmt: skip


class MessageIn(Schema):
    permit_id: str = Field(description="the guard's permit for this sms, email or app push")
    template: str = Field(description="template code; the approved version is used")
    params: dict[str, str | int] = Field(default_factory=dict, description="placeholder values")


class MessageOut(Schema):
    message_id: str
    status: str
    channel: str
    template_version: int
    language: str
    to: str = Field(description="the recipient, masked")
    text: str


@api.post(
    "/messages",
    response={201: MessageOut, 404: ErrorOut, 422: ErrorOut},
    summary="Queue a message on the guard's permit; the background worker hands it to the provider",
)
def queue_message(request: HttpRequest, body: MessageIn):
    if not request.user.has_perm("contact.add_contact"):
        raise HttpError(403, "not allowed to contact borrowers")
    try:
        message = contact_domain.queue_message(
            body.permit_id,
            template_code=body.template,
            params=body.params,
            by=request.user.get_username(),
            at=timezone.now(),
        )
    except ContactRejected as exc:
        return Status(422, ErrorOut(code=exc.code, detail=exc.message))
    # The worker drains the outbox now rather than at the next timer; a failure to enqueue is
    # logged, and the timer's drain sends the message anyway.
    transaction.on_commit(contact_tasks.drain_outbox.enqueue, robust=True)
    return Status(
        201,
        MessageOut(
            message_id=message.pk, status=message.status, channel=message.channel,
            template_version=message.template.version, language=message.language,
            to=message.recipient_masked, text=message.text,
        ),
    )  # fmt: skip


class ReceiptIn(Schema):
    provider_id: str
    delivered: bool
    at: datetime = Field(description="ISO 8601 with UTC offset")


class ReceiptOut(Schema):
    message_id: str
    status: str


@api.post(
    "/messages/receipts",
    response={200: ReceiptOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="A provider's delivery receipt for a sent message",
)
def message_receipt(request: HttpRequest, body: ReceiptIn):
    if not request.user.has_perm("contact.change_outboundmessage"):
        raise HttpError(403, "not allowed to record delivery receipts")
    try:
        message = contact_domain.record_receipt(
            body.provider_id, delivered=body.delivered, at=body.at, by=request.user.get_username()
        )
    except ContactRejected as exc:
        status = {"message.unknown": 404, "message.transition": 409}.get(exc.code, 422)
        return Status(status, ErrorOut(code=exc.code, detail=exc.message))
    return Status(200, ReceiptOut(message_id=message.pk, status=message.status))
