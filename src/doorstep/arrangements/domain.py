"""Write operations on arrangements (DOMAIN §6): request, decide (approve, counter, refuse),
accept or withdraw, and the nightly review that finds each active arrangement kept, broken or
completed. An arrangement in force keeps an `arrangement` hold open on its account: that hold is
what the strategy reads as `arrangement_active`, and what stops late charges accruing.

Re-evaluating the account after a step is the caller's (strategy.domain.reevaluated does both
in one transaction)."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_noop

from doorstep.arrangements.engine import schedule
from doorstep.arrangements.enums import (
    OPEN_STATES,
    PENDING_STATES,
    SETTLED_REASON,
    TRANSITIONS,
    Base,
    Event,
    EvidenceKind,
    Kind,
    State,
)
from doorstep.arrangements.errors import ArrangementError, InvalidTransition, NotAuthorised
from doorstep.arrangements.models import Arrangement, Evidence, Line, Transition
from doorstep.audit.domain import record
from doorstep.ledger.domain import local_date, place_hold, post_waiver, release_hold, waivable_cents
from doorstep.ledger.enums import AccountStatus, EntryKind, HoldKind
from doorstep.ledger.errors import LedgerError
from doorstep.ledger.models import Account, LedgerEntry
from doorstep.ledger.queries import account_position, locked_account
from doorstep.money import yuan_display
from doorstep.uploads import UploadRejected, sniff


def _cfg(name: str):
    return settings.DOORSTEP_ARRANGEMENTS[name]


def limits() -> schedule.Limits:
    return schedule.Limits(**_cfg("limits"))


@dataclass(frozen=True)
class Document:
    """An upload as the interface received it."""

    kind: str
    name: str
    content: bytes


def _locked(arrangement_id: str, *, related=("account__borrower__region",)) -> Arrangement | None:
    """The arrangement locked after its account (the lock order of docs/adr/0010: a payment
    that settles holds the account and the audit head, then closes the arrangements)."""
    account_id = (
        Arrangement.objects.filter(pk=arrangement_id).values_list("account_id", flat=True).first()
    )
    if account_id is None:
        return None
    locked_account(account_id)
    return (
        Arrangement.objects.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=arrangement_id)
        .first()
    )


# --- the workflow's one move --------------------------------------------------------------


def transition(
    arrangement: Arrangement | str,
    event: str,
    *,
    by: str,
    at: datetime,
    reason: str = "",
    data: dict | None = None,
    **fields,
) -> Arrangement:
    """Move one arrangement by `event` if the table allows it. Side effects: state and `fields`;
    a Transition row; an audit entry `arrangement.<event>`. Raises InvalidTransition."""
    key = arrangement.pk if isinstance(arrangement, Arrangement) else arrangement
    with transaction.atomic():
        locked = _locked(key, related=())
        if locked is None:
            raise InvalidTransition(
                gettext_noop("no arrangement %(id)s"),
                code="arrangement.not_found",
                params={"id": key},
            )
        to = TRANSITIONS.get((event, locked.state))
        if to is None:
            raise InvalidTransition(
                gettext_noop(
                    "this step (%(step)s) is not possible for an arrangement in state %(state)s"
                ),
                params={"step": Event(event).label, "state": State(locked.state).label},
                code="arrangement.transition",
            )
        before = locked.state
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.state, locked.updated_at = to, at
        locked.save()
        _history(locked, event, before, by=by, at=at, reason=reason, data=data)
        return locked


def _history(arrangement, event, before, *, by, at, reason="", data=None):
    Transition.objects.create(
        arrangement=arrangement,
        event=event,
        from_state=before,
        to_state=arrangement.state,
        by=by,
        at=at,
        reason=reason,
        data=data or {},
    )
    record(
        f"arrangement.{event}",
        actor=by,
        obj=arrangement,
        at=at,
        data={"from": before, "to": arrangement.state, "reason": reason, **(data or {})},
    )


# --- terms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the terms are checked against: the account on its local today."""

    today: date
    overdue_cents: int
    outstanding_cents: int
    waivable_cents: int


def figures(account: Account, at: datetime) -> Figures:
    today = local_date(account, at)
    position = account_position(account, today)
    return Figures(today, position.overdue, position.outstanding, waivable_cents(account))


def terms_for(
    kind: str,
    found: Figures,
    *,
    first_due: date,
    months: int = 1,
    base: str = "",
    amount_cents: int | None = None,
) -> schedule.Terms:
    """The terms a request names, with the amount the kind implies filled in: an extension defers
    what is overdue, a minimum payment is the minimum, a plan restructures its base."""
    if kind == Kind.EXTENSION:
        amount_cents = found.overdue_cents
    elif kind == Kind.MINIMUM:
        amount_cents = schedule.minimum_cents(found.overdue_cents, limits())
    elif kind == Kind.INSTALMENT:
        if base not in Base.values:
            raise ArrangementError(
                gettext_noop("say whether the plan covers what is overdue or the whole balance"),
                code="arrangement.terms",
                field="base",
            )
        amount_cents = found.overdue_cents if base == Base.OVERDUE else found.outstanding_cents
    if not amount_cents:
        raise ArrangementError(
            gettext_noop("an amount is needed"), code="arrangement.terms", field="amount"
        )
    if kind == Kind.WAIVER:
        first_due = found.today
    return schedule.Terms(kind, amount_cents, first_due, months if kind == Kind.INSTALMENT else 1)


def _check(terms: schedule.Terms, found: Figures) -> None:
    try:
        schedule.check_terms(
            terms,
            today=found.today,
            overdue_cents=found.overdue_cents,
            outstanding_cents=found.outstanding_cents,
            waivable_cents=found.waivable_cents,
            limits=limits(),
        )
    except schedule.TermsInvalid as exc:
        raise ArrangementError(
            exc.template, code="arrangement.terms", field=exc.field, params=exc.params
        ) from exc


def terms_of(arrangement: Arrangement) -> schedule.Terms:
    return schedule.Terms(
        arrangement.kind, arrangement.amount_cents, arrangement.first_due, arrangement.months
    )


# --- authority ----------------------------------------------------------------------------


def authority(roles: list[str], *, superuser: bool = False) -> dict[str, int | None]:
    """Per kind, the largest amount (cents) these roles may agree to; None = no limit. The widest
    role counts. Settings give yuan: DOORSTEP_ARRANGEMENTS["authority"][role][kind]."""
    if superuser:
        return dict.fromkeys(Kind.values)
    table = _cfg("authority")
    reach: dict[str, int | None] = {}
    for kind in Kind.values:
        limits_ = [table[role].get(kind, 0) for role in roles if role in table]
        if any(limit is None for limit in limits_):
            reach[kind] = None
        else:
            reach[kind] = max([0, *limits_]) * 100
    return reach


def within(reach: dict[str, int | None], kind: str, amount_cents: int) -> bool:
    limit = reach.get(kind, 0)
    return limit is None or amount_cents <= limit


def _require_authority(reach: dict, terms: schedule.Terms) -> None:
    if not within(reach, terms.kind, terms.amount_cents):
        limit = reach.get(terms.kind) or 0
        raise NotAuthorised(
            gettext_noop(
                "%(kind)s of %(amount)s is beyond your authority (%(limit)s); a supervisor decides it"
            ),
            params={
                "kind": Kind(terms.kind).label,
                "amount": yuan_display(terms.amount_cents),
                "limit": yuan_display(limit),
            },
            code="arrangement.authority",
        )


# --- request ------------------------------------------------------------------------------


def request_arrangement(
    account_id: str,
    *,
    kind: str,
    by: str,
    at: datetime,
    from_portal: bool,
    first_due: date | None = None,
    months: int = 1,
    base: str = "",
    amount_cents: int | None = None,
    hardship: str = "",
    documents: list[Document] = (),
) -> Arrangement:
    """Ask for an arrangement (the borrower on the portal, or staff on the borrower's behalf).
    Terms the lender does not offer are refused naming the field; a waiver needs the hardship
    described and at least one document. Requests within the automatic authority are approved at
    once. Side effects: the Arrangement, its evidence files, history and audit entries; when
    approved, its lines and hold. Raises ArrangementError."""
    if kind not in Kind.values:
        raise ArrangementError(
            gettext_noop("unknown kind %(kind)s"),
            code="arrangement.terms",
            field="kind",
            params={"kind": kind},
        )
    if kind == Kind.WAIVER and (not hardship.strip() or not documents):
        raise ArrangementError(
            gettext_noop(
                "a waiver needs the hardship described and a document (payslip, medical invoice…)"
            ),
            code="arrangement.hardship",
            field="documents" if hardship.strip() else "hardship",
        )
    checked = [(doc, _sniffed(doc)) for doc in documents]
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None or account.status == AccountStatus.SETTLED:
            raise ArrangementError(
                gettext_noop("this account is not open"), code="arrangement.account"
            )
        if Arrangement.objects.filter(account=account, state__in=OPEN_STATES).exists():
            raise ArrangementError(
                gettext_noop("an arrangement is already requested or in force on this account"),
                code="arrangement.open",
            )
        found = figures(account, at)
        terms = terms_for(
            kind,
            found,
            first_due=first_due or found.today,
            months=months,
            base=base,
            amount_cents=amount_cents,
        )
        _check(terms, found)
        arrangement = Arrangement.objects.create(
            id=f"AR-{uuid.uuid4().hex[:12]}",
            account=account,
            kind=terms.kind,
            state=State.REQUESTED,
            base=base if kind == Kind.INSTALMENT else "",
            amount_cents=terms.amount_cents,
            months=terms.months,
            first_due=terms.first_due,
            hardship=hardship.strip(),
            requested_by=by,
            requested_at=at,
            from_portal=from_portal,
            respond_by=found.today + timedelta(days=_cfg("respond_days")),
            updated_at=at,
        )
        for doc, sniffed in checked:
            _keep(arrangement, doc, sniffed, by=by, at=at)
        _history(
            arrangement,
            Event.REQUEST,
            "",
            by=by,
            at=at,
            data={"terms": _terms_data(terms), "documents": len(checked)},
        )
        if within(authority(["auto"]), terms.kind, terms.amount_cents) and kind != Kind.WAIVER:
            arrangement = _activate(
                arrangement, found, by="system", at=at, note="within the automatic authority"
            )
        return arrangement


def _terms_data(terms: schedule.Terms) -> dict:
    return {
        "kind": terms.kind,
        "amount_cents": terms.amount_cents,
        "months": terms.months,
        "first_due": terms.first_due,
    }


def _sniffed(doc: Document):
    if doc.kind not in EvidenceKind.values:
        raise ArrangementError(
            gettext_noop("unknown document kind %(kind)s"),
            code="arrangement.document",
            field="documents",
            params={"kind": doc.kind},
        )
    try:
        return sniff(doc.content, max_bytes=_cfg("evidence_max_bytes"))
    except UploadRejected as exc:
        raise ArrangementError(
            gettext_noop("%(name)s was not accepted: %(reason)s"),
            code="arrangement.document",
            field="documents",
            params={"name": doc.name, "reason": exc},
        ) from exc


def _keep(arrangement: Arrangement, doc: Document, sniffed, *, by: str, at: datetime) -> Evidence:
    digest = hashlib.sha256(doc.content).hexdigest()
    item = Evidence(
        arrangement=arrangement,
        kind=doc.kind,
        name=doc.name[-120:],
        content_type=sniffed.content_type,
        size=len(doc.content),
        sha256=digest,
        uploaded_by=by,
        uploaded_at=at,
    )
    item.file.save(
        f"{arrangement.pk}-{digest[:12]}.{sniffed.extension}", ContentFile(doc.content), save=False
    )
    item.save()
    return item


def add_document(arrangement_id: str, doc: Document, *, by: str, at: datetime) -> Evidence:
    """Add a document to a request still waiting for a decision. Raises ArrangementError."""
    sniffed = _sniffed(doc)
    with transaction.atomic():
        arrangement = _locked(arrangement_id, related=())
        if arrangement is None:
            raise Arrangement.DoesNotExist(f"no arrangement {arrangement_id}")
        if arrangement.state not in PENDING_STATES:
            raise ArrangementError(
                gettext_noop("documents are added while the request waits for a decision"),
                code="arrangement.state",
            )
        item = _keep(arrangement, doc, sniffed, by=by, at=at)
        record(
            "arrangement.document",
            actor=by,
            obj=arrangement,
            at=at,
            data={"kind": doc.kind, "sha256": item.sha256, "size": item.size},
        )
        return item


# --- decisions ----------------------------------------------------------------------------


def _pending(arrangement_id: str) -> Arrangement:
    arrangement = _locked(arrangement_id)
    if arrangement is None:
        raise InvalidTransition(
            gettext_noop("no arrangement %(id)s"),
            code="arrangement.not_found",
            params={"id": arrangement_id},
        )
    return arrangement


def approve(
    arrangement_id: str, *, by: str, reach: dict, at: datetime, note: str = ""
) -> Arrangement:
    """A staff member within their authority agrees to the requested terms, checked again against
    today's figures (a payment since the request can change them: counter instead). Side effects:
    as `_activate`. Raises NotAuthorised, ArrangementError, InvalidTransition."""
    with transaction.atomic():
        arrangement = _pending(arrangement_id)
        if arrangement.state != State.REQUESTED:
            raise InvalidTransition(
                gettext_noop("only a request waiting for a decision can be approved"),
                code="arrangement.transition",
            )
        terms = terms_of(arrangement)
        _require_authority(reach, terms)
        found = figures(arrangement.account, at)
        try:
            _check(terms, found)
        except ArrangementError as exc:
            raise ArrangementError(
                gettext_noop(
                    "the account's figures changed since the request (%(reason)s): "
                    "offer terms that fit them instead"
                ),
                code="arrangement.stale",
                params={"reason": exc},
                field=exc.field,
            ) from exc
        return _activate(arrangement, found, by=by, at=at, note=note)


def counter(
    arrangement_id: str,
    *,
    by: str,
    reach: dict,
    at: datetime,
    note: str,
    kind: str,
    first_due: date,
    months: int = 1,
    base: str = "",
    amount_cents: int | None = None,
) -> Arrangement:
    """Offer the borrower other terms (within the offerer's authority, so that accepting them
    needs no second decision). The borrower has `counter_days` to accept. Raises as `approve`."""
    if not note.strip():
        raise ArrangementError(
            gettext_noop("say why other terms are offered"), code="arrangement.reason"
        )
    with transaction.atomic():
        arrangement = _pending(arrangement_id)
        found = figures(arrangement.account, at)
        terms = terms_for(
            kind, found, first_due=first_due, months=months, base=base, amount_cents=amount_cents
        )
        _check(terms, found)
        _require_authority(reach, terms)
        return transition(
            arrangement,
            Event.COUNTER,
            by=by,
            at=at,
            reason=note.strip(),
            data={"terms": _terms_data(terms)},
            kind=terms.kind,
            amount_cents=terms.amount_cents,
            months=terms.months,
            first_due=terms.first_due,
            base=base if kind == Kind.INSTALMENT else "",
            note=note.strip(),
            decided_by=by,
            decided_at=at,
            respond_by=found.today + timedelta(days=_cfg("counter_days")),
        )


def refuse(arrangement_id: str, *, by: str, at: datetime, reason: str) -> Arrangement:
    """Refuse a request, with the reason the borrower will read. Raises InvalidTransition."""
    if not reason.strip():
        raise ArrangementError(gettext_noop("a refusal needs a reason"), code="arrangement.reason")
    return transition(
        arrangement_id,
        Event.REFUSE,
        by=by,
        at=at,
        reason=reason.strip(),
        note=reason.strip(),
        decided_by=by,
        decided_at=at,
    )


def accept_offer(arrangement_id: str, *, by: str, at: datetime) -> Arrangement:
    """The borrower accepts the terms offered, if they still fit today's figures."""
    with transaction.atomic():
        arrangement = _pending(arrangement_id)
        if arrangement.state != State.COUNTERED:
            raise InvalidTransition(
                gettext_noop("no offer is waiting"), code="arrangement.transition"
            )
        found = figures(arrangement.account, at)
        if found.today > arrangement.respond_by:
            raise ArrangementError(
                gettext_noop("the offer has expired: ask again"), code="arrangement.expired"
            )
        _check(terms_of(arrangement), found)
        return _activate(arrangement, found, by=by, at=at, event=Event.ACCEPT)


def withdraw(arrangement_id: str, *, by: str, at: datetime, reason: str = "") -> Arrangement:
    """The borrower withdraws a request, or turns an offer down."""
    return transition(arrangement_id, Event.WITHDRAW, by=by, at=at, reason=reason)


def _activate(
    arrangement: Arrangement,
    found: Figures,
    *,
    by: str,
    at: datetime,
    note: str = "",
    event: str = Event.APPROVE,
) -> Arrangement:
    """Put the terms in force: the payment lines and the hold (a waiver instead posts its ledger
    credit and is complete at once)."""
    terms = terms_of(arrangement)
    lines = schedule.schedule(terms)
    fields = {"starts_on": found.today, "ends_on": schedule.ends_on(terms, lines, limits())}
    if event == Event.APPROVE:
        fields |= {"decided_by": by, "decided_at": at, "note": note}
    if terms.kind == Kind.WAIVER:
        try:
            fields["waiver_entry"] = post_waiver(
                arrangement.account_id,
                amount_cents=terms.amount_cents,
                by=by,
                reference=f"waiver-{arrangement.pk}",
                note=arrangement.hardship[:200],
                at=at,
            )
        except LedgerError as exc:
            # The ledger's refusal itself as the figure: a page shows it in its reader's language.
            raise ArrangementError(
                "%(reason)s", code="arrangement.waiver", params={"reason": exc}
            ) from exc
    else:
        fields["hold"] = place_hold(
            arrangement.account_id, kind=HoldKind.ARRANGEMENT, since=found.today, by=by
        )
    arrangement = transition(
        arrangement,
        event,
        by=by,
        at=at,
        reason=note,
        data={"lines": [(line.due_date, line.amount_cents) for line in lines]},
        **fields,
    )
    Line.objects.bulk_create(
        Line(
            arrangement=arrangement,
            seq=line.seq,
            due_date=line.due_date,
            amount_cents=line.amount_cents,
        )
        for line in lines
    )
    if terms.kind == Kind.WAIVER:
        arrangement = transition(arrangement, Event.COMPLETE, by=by, at=at, closed_on=found.today)
    return arrangement


# --- keeping ------------------------------------------------------------------------------


def standing(arrangement: Arrangement, as_of: date) -> schedule.Standing:
    """Kept, broken or completed on `as_of`: payments since the arrangement began against its
    lines."""
    lines = [
        schedule.Line(line.seq, line.due_date, line.amount_cents)
        for line in arrangement.lines.all()
    ]
    paid = list(
        LedgerEntry.objects.filter(
            account_id=arrangement.account_id,
            kind=EntryKind.PAYMENT,
            effective_on__gte=arrangement.starts_on,
            effective_on__lte=as_of,
        )
        .values_list("effective_on")
        .annotate(total=Sum("amount_cents"))
    )
    return schedule.standing(
        lines, paid, as_of=as_of, ends=arrangement.ends_on, grace_days=limits().grace_days
    )


def review_arrangements(as_of: date, *, by: str, at: datetime) -> dict[str, int]:
    """The nightly look at every active arrangement: a missed payment breaks it (escalation
    resumes from `as_of`), one fully paid and past its last day completes. Each closes its hold on
    the day before `as_of`. Returns counts {kept, broken, completed}."""
    counts = {"kept": 0, "broken": 0, "completed": 0}
    active = (
        Arrangement.objects.filter(state=State.ACTIVE, starts_on__lte=as_of)
        .exclude(kind=Kind.WAIVER)
        .prefetch_related("lines")
    )
    for arrangement in active.select_related("account").iterator(chunk_size=500):
        if arrangement.account.status == AccountStatus.SETTLED:
            # Settled by an import or a batch posting that re-evaluated nothing.
            close_on_settlement(arrangement.account_id, on=as_of, by=by, at=at)
            counts["completed"] += 1
            continue
        found = standing(arrangement, as_of)
        counts[found.state] += 1
        if found.state == schedule.KEPT:
            continue
        with transaction.atomic():
            event = Event.BREAK if found.state == schedule.BROKEN else Event.COMPLETE
            closed = transition(
                arrangement,
                event,
                by=by,
                at=at,
                reason=(
                    f"payment {found.missed_seq} missed: {yuan_display(found.paid_cents)} paid "
                    f"of {yuan_display(found.due_cents)} due"
                    if event == Event.BREAK
                    else ""
                ),
                data={"due_cents": found.due_cents, "paid_cents": found.paid_cents},
                closed_on=as_of,
            )
            _close_hold(closed, until=as_of - timedelta(days=1), by=by, reason=event)
    return counts


def _close_hold(arrangement: Arrangement, *, until: date, by: str, reason: str) -> None:
    if arrangement.hold_id is not None:
        hold = arrangement.hold
        if hold.until is None or hold.until > until:
            release_hold(hold, until=until, by=by, reason=f"arrangement {reason}")


def close_on_settlement(account_id: str, *, on: date, by: str, at: datetime) -> int:
    """The account is paid off: an arrangement in force is completed, a pending request has
    nothing left to arrange and is cancelled. Returns how many were closed."""
    closed = 0
    for arrangement in Arrangement.objects.filter(account_id=account_id, state__in=OPEN_STATES):
        event = Event.COMPLETE if arrangement.state == State.ACTIVE else Event.CANCEL
        with transaction.atomic():
            moved = transition(
                arrangement, event, by=by, at=at, reason=SETTLED_REASON, closed_on=on
            )
            _close_hold(moved, until=on, by=by, reason=SETTLED_REASON)
        closed += 1
    return closed


def next_line(account_id: str, today: date) -> tuple[date, int] | None:
    """The active arrangement's next payment not yet covered: its date and what is left of it."""
    arrangement = (
        Arrangement.objects.filter(account_id=account_id, state=State.ACTIVE)
        .prefetch_related("lines")
        .first()
    )
    if arrangement is None:
        return None
    paid = standing(arrangement, today).paid_cents
    for line in arrangement.lines.all():
        if paid >= line.amount_cents:
            paid -= line.amount_cents
            continue
        return line.due_date, line.amount_cents - paid
    return None


def reminders_due(as_of: date, *, days_ahead: int) -> list[str]:
    """Accounts whose active arrangement has a payment not yet covered falling due exactly
    `days_ahead` days after `as_of`: the arrangement's own reminder goes out for them."""
    due_on = as_of + timedelta(days=days_ahead)
    accounts = (
        Line.objects.filter(arrangement__state=State.ACTIVE, due_date=due_on)
        .values_list("arrangement__account_id", flat=True)
        .distinct()
    )
    return [
        account_id
        for account_id in accounts
        if (found := next_line(account_id, as_of)) is not None and found[0] == due_on
    ]
