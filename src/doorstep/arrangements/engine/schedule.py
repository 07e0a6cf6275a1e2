"""Arrangement arithmetic (DOMAIN §6): the terms a borrower may ask for, the schedule they give,
and whether an arrangement is being kept. Pure: dates and integer cents in, answers out.

A schedule is exact: its instalments sum to the arranged amount to the cent, equal parts with the
rounding remainder on the last one; monthly dates keep the first date's day of the month, or the
month's last day when the month is shorter (31 Jan, 28 Feb, 31 Mar).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from doorstep.money import yuan_display
from doorstep.refusal import Refusal, gettext_noop

EXTENSION = "extension"
INSTALMENT = "instalment"
MINIMUM = "minimum_payment"
PARTIAL = "partial_payment"
WAIVER = "waiver"
KINDS = (EXTENSION, INSTALMENT, MINIMUM, PARTIAL, WAIVER)

KEPT = "kept"
BROKEN = "broken"
COMPLETED = "completed"


@dataclass(frozen=True)
class Limits:
    """What the lender offers; settings.DOORSTEP_ARRANGEMENTS holds the figures."""

    max_extension_days: int = 30
    min_months: int = 3
    max_months: int = 24
    max_first_due_days: int = 30  # how far off the first payment of a plan may be
    minimum_share_bps: int = 1000  # a minimum payment is at least this share of what is overdue
    minimum_floor_cents: int = 10_000  # ... and at least this much (or all of it, when less)
    hold_days: int = 30  # how long a minimum or partial payment holds escalation after its date
    grace_days: int = 3  # a payment this many days late still keeps the arrangement


@dataclass(frozen=True)
class Terms:
    kind: str
    amount_cents: int  # the arranged amount: deferred, restructured, promised or waived
    first_due: date  # the (first) payment date; for a waiver, the day it is granted
    months: int = 1


@dataclass(frozen=True)
class Line:
    seq: int
    due_date: date
    amount_cents: int


class TermsInvalid(Refusal, ValueError):
    """Terms the lender does not offer, naming the field (readable in the borrower's language)."""

    def __init__(self, message: str, *, field: str, params: dict | None = None):
        super().__init__(message, params=params)
        self.field = field


def minimum_cents(overdue_cents: int, limits: Limits) -> int:
    """The least a minimum-payment arrangement asks: the larger of the share and the floor,
    never more than is overdue."""
    share = -(-overdue_cents * limits.minimum_share_bps // 10_000)  # rounded up to the cent
    return min(overdue_cents, max(share, limits.minimum_floor_cents))


def check_terms(
    terms: Terms,
    *,
    today: date,
    overdue_cents: int,
    outstanding_cents: int,
    waivable_cents: int,
    limits: Limits,
) -> None:
    """Refuse terms the lender does not offer, naming the field. Raises TermsInvalid."""
    kind, amount = terms.kind, terms.amount_cents
    if kind not in KINDS:
        raise TermsInvalid(
            gettext_noop("unknown arrangement kind %(kind)s"), field="kind", params={"kind": kind}
        )
    if amount <= 0:
        raise TermsInvalid(gettext_noop("the amount must be positive"), field="amount")
    if kind == WAIVER:
        if amount > waivable_cents:
            raise TermsInvalid(
                gettext_noop("a waiver covers only late fees and penalty interest not yet waived"),
                field="amount",
            )
        return
    if terms.first_due < today:
        raise TermsInvalid(gettext_noop("the payment date is in the past"), field="first_due")
    if overdue_cents <= 0 and kind != INSTALMENT:
        raise TermsInvalid(gettext_noop("nothing is overdue on this account"), field="kind")
    if kind == EXTENSION:
        if terms.first_due > today + timedelta(days=limits.max_extension_days):
            raise TermsInvalid(
                gettext_noop("an extension is at most %(days)s days"),
                field="first_due",
                params={"days": limits.max_extension_days},
            )
        if amount != overdue_cents:
            raise TermsInvalid(
                gettext_noop("an extension defers what is overdue, all of it"), field="amount"
            )
    elif kind == INSTALMENT:
        if not limits.min_months <= terms.months <= limits.max_months:
            raise TermsInvalid(
                gettext_noop("a plan runs %(least)s to %(most)s months"),
                field="months",
                params={"least": limits.min_months, "most": limits.max_months},
            )
        if amount not in (overdue_cents, outstanding_cents):
            raise TermsInvalid(
                gettext_noop("a plan restructures what is overdue or the whole balance"),
                field="amount",
            )
        if terms.first_due > today + timedelta(days=limits.max_first_due_days):
            raise TermsInvalid(
                gettext_noop("the first payment is due within %(days)s days"),
                field="first_due",
                params={"days": limits.max_first_due_days},
            )
        if amount < terms.months:
            raise TermsInvalid(
                gettext_noop("too little to spread over so many months"), field="months"
            )
    else:  # minimum or partial payment: one payment, within the extension window
        if terms.first_due > today + timedelta(days=limits.max_extension_days):
            raise TermsInvalid(
                gettext_noop("the payment date is at most %(days)s days away"),
                field="first_due",
                params={"days": limits.max_extension_days},
            )
        least = minimum_cents(overdue_cents, limits)
        if kind == MINIMUM and amount != least:
            raise TermsInvalid(
                gettext_noop("the minimum payment is %(least)s"),
                field="amount",
                params={"least": yuan_display(least)},
            )
        if kind == PARTIAL and not least <= amount < overdue_cents:
            raise TermsInvalid(
                gettext_noop(
                    "a partial payment is at least the minimum and less than what is overdue"
                ),
                field="amount",
            )


def schedule(terms: Terms) -> list[Line]:
    """The payments the terms ask for: equal monthly parts, the remainder on the last."""
    if terms.kind == WAIVER:
        return []
    months = terms.months if terms.kind == INSTALMENT else 1
    part, remainder = divmod(terms.amount_cents, months)
    return [
        Line(
            seq=n + 1,
            due_date=terms.first_due + relativedelta(months=n),
            amount_cents=part + (remainder if n == months - 1 else 0),
        )
        for n in range(months)
    ]


def ends_on(terms: Terms, lines: list[Line], limits: Limits) -> date:
    """The last day the arrangement holds escalation: its last payment date, or for a minimum or
    partial payment `hold_days` after it (time to pay the rest without being escalated)."""
    if not lines:
        return terms.first_due
    last = lines[-1].due_date
    if terms.kind in (MINIMUM, PARTIAL):
        return last + timedelta(days=limits.hold_days)
    return last


@dataclass(frozen=True)
class Standing:
    state: str  # kept | broken | completed
    due_cents: int  # what should have been paid by now (grace included)
    paid_cents: int  # paid since the arrangement began
    missed_seq: int | None  # the first instalment not covered, when broken


def standing(
    lines: list[Line],
    paid: list[tuple[date, int]],
    *,
    as_of: date,
    ends: date,
    grace_days: int,
) -> Standing:
    """Whether the arrangement is kept on `as_of` (payments effective on or before it count).

    Broken: an instalment `grace_days` past its date is not covered by what was paid since the
    arrangement began (payments cover instalments in order). Completed: everything paid and the
    arrangement's last day passed. Otherwise kept."""
    total_paid = sum(amount for day, amount in paid if day <= as_of)
    due = 0
    for line in lines:
        if line.due_date + timedelta(days=grace_days) >= as_of:
            break
        due += line.amount_cents
        if total_paid < due:
            return Standing(BROKEN, due, total_paid, line.seq)
    owed = sum(line.amount_cents for line in lines)
    if total_paid >= owed and as_of > ends:
        return Standing(COMPLETED, due, total_paid, None)
    return Standing(KEPT, due, total_paid, None)
