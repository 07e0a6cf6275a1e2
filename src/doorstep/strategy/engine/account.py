"""One account's features in Python: the real-time path, by the definitions of `featuresql`.

Plain rows in (what `strategy.queries` reads for one account), a feature dict out. Every figure
here must equal the set-based one for the same data; a property test holds them together.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# Money moves and buckets mean what they mean in the ledger's positions.
from doorstep.ledger.engine.positions import CHARGE_KINDS, CREDIT_KINDS, bucket_for
from doorstep.strategy.engine.features import (
    ARRANGEMENT_HOLD,
    DAY,
    HISTORY_STEPS,
    HOLD_KINDS,
    LOST_OUTCOMES,
    MONTH_DAYS,
    REACHED_OUTCOMES,
    WINDOW_DAYS,
)


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    product: str
    region_code: str
    auto_debit: bool
    coverage: str
    day_end: int  # epoch second at which the as-of day ends in the region's time zone


@dataclass(frozen=True)
class InstalmentRow:
    seq: int
    due_date: date
    cumulative_cents: int


@dataclass(frozen=True)
class EntryRow:
    kind: str
    amount_cents: int
    effective_on: date
    seq: int | None


@dataclass(frozen=True)
class ContactRow:
    contact_id: str
    at_epoch: int
    channel: str
    outcome: str
    ptp_amount_cents: int | None
    ptp_date: date | None


@dataclass(frozen=True)
class HoldRow:
    kind: str
    since: date
    until: date | None


def day_end_epoch(as_of: date, zone: str) -> int:
    """The epoch second at which `as_of` ends in `zone`: "as of a date" is its close, locally.
    The nightly snapshot and the real-time path both take the figure from here."""
    return int(datetime.combine(as_of + timedelta(days=1), time(0), ZoneInfo(zone)).timestamp())


def _days_before_end(day_end: int, at_epoch: int) -> int:
    return (day_end - 1 - at_epoch) // DAY


def account_features(
    account: AccountRow,
    instalments: list[InstalmentRow],
    entries: list[EntryRow],
    contacts: list[ContactRow],
    holds: list[HoldRow],
    *,
    as_of: date,
    previous_stage: str,
    arm_bucket: int,
) -> dict:
    entries = [e for e in entries if e.effective_on <= as_of]
    credited = sum(e.amount_cents for e in entries if e.kind in CREDIT_KINDS)
    charges: dict[int, int] = {}
    for e in entries:
        if e.kind in CHARGE_KINDS and e.seq is not None:
            charges[e.seq] = charges.get(e.seq, 0) + e.amount_cents
    charged = sum(charges.values())

    schedule = sorted(instalments, key=lambda i: i.seq)
    owed_due, oldest_unpaid, next_due, running_charges = None, None, None, 0
    for inst in schedule:
        running_charges += charges.get(inst.seq, 0)
        owed_through = inst.cumulative_cents + running_charges
        if inst.due_date < as_of:
            owed_due = owed_through if owed_due is None else max(owed_due, owed_through)
            if owed_through > credited and (oldest_unpaid is None or inst.due_date < oldest_unpaid):
                oldest_unpaid = inst.due_date
        elif owed_through > credited and (next_due is None or inst.due_date < next_due):
            next_due = inst.due_date
    scheduled = max((i.cumulative_cents for i in schedule), default=0)
    overdue = max((owed_due or 0) - credited, 0)
    outstanding = max(scheduled + charged - credited, 0)
    dpd = (as_of - oldest_unpaid).days if overdue > 0 else 0

    credit_days: dict[date, int] = {}
    for e in entries:
        if e.kind in CREDIT_KINDS:
            credit_days[e.effective_on] = credit_days.get(e.effective_on, 0) + e.amount_cents
    times_cured = 0
    for inst in schedule:
        if inst.due_date < as_of:
            then = sum(a for day, a in credit_days.items() if day <= inst.due_date)
            if then < inst.cumulative_cents <= credited:
                times_cured += 1

    history = _history(schedule, credit_days, scheduled, credited, as_of)

    day_end = account.day_end
    window_start = day_end - WINDOW_DAYS * DAY
    seen = [c for c in contacts if c.at_epoch < day_end]
    reached = [c.at_epoch for c in seen if c.outcome in REACHED_OUTCOMES]
    last_reached = max(reached, default=None)
    calls = [c for c in seen if c.channel == "call"]
    last_call = max((c.at_epoch for c in calls), default=None)
    unreachable = any(c.outcome in LOST_OUTCOMES for c in calls if c.at_epoch == last_call)
    visits = [c.at_epoch for c in seen if c.channel == "visit"]
    last_visit = max(visits, default=None)

    broken = active = 0
    for c in seen:
        if c.outcome != "promise_to_pay" or c.ptp_date < as_of - timedelta(days=WINDOW_DAYS):
            continue
        promised_on = as_of - timedelta(days=_days_before_end(day_end, c.at_epoch))
        paid = sum(a for day, a in credit_days.items() if promised_on <= day <= c.ptp_date)
        if paid < c.ptp_amount_cents:
            if c.ptp_date < as_of:
                broken += 1
            else:
                active = 1

    open_holds = {
        h.kind for h in holds if h.since <= as_of and (h.until is None or h.until >= as_of)
    }
    return {
        "account_id": account.account_id,
        "dpd": dpd,
        "bucket": bucket_for(dpd),
        "overdue_cents": overdue,
        "outstanding_cents": outstanding,
        "overdue_amount": Decimal(overdue) / 100,
        "outstanding": Decimal(outstanding) / 100,
        "product": account.product,
        "region_code": account.region_code,
        "region_coverage": account.coverage,
        "auto_debit": account.auto_debit,
        "days_to_next_due": (next_due - as_of).days if next_due else None,
        "lost_contact": (last_reached is None or last_reached < window_start) and unreachable,
        "days_since_last_reached": (
            _days_before_end(day_end, last_reached) if last_reached is not None else None
        ),
        "refusals_30d": sum(
            1 for c in seen if c.outcome == "refused" and c.at_epoch >= window_start
        ),
        "broken_ptp_30d": broken,
        "ptp_active": bool(active),
        "arrangement_active": ARRANGEMENT_HOLD in open_holds,
        **{f"hold_{kind}": kind in open_holds for kind in HOLD_KINDS},
        "visits_30d": sum(1 for at in visits if at >= window_start),
        "days_since_last_visit": (
            _days_before_end(day_end, last_visit) if last_visit is not None else None
        ),
        "times_cured": times_cured,
        **history,
        "risk_score": None,
        "risk_band": None,
        "p_recover_with_visit": None,
        "p_recover_without_visit": None,
        "arm_bucket": arm_bucket,
        "previous_stage": previous_stage,
    }


def _history(schedule, credit_days, scheduled, credited, as_of) -> dict:
    """The collection score's history inputs, by the definitions of `featuresql` (hist_*):
    credits by each 30-day step back, days past due and outstanding then (charges left out)."""
    steps = range(1, HISTORY_STEPS + 1)
    then = {k: as_of - timedelta(days=k * MONTH_DAYS) for k in steps}
    credited_by = [credited] + [
        sum(a for day, a in credit_days.items() if day <= then[k]) for k in steps
    ]
    out = {}
    for k in steps[:-1]:
        oldest = min(
            (i.due_date for i in schedule
             if i.due_date < then[k] and i.cumulative_cents > credited_by[k]),
            default=None,
        )  # fmt: skip
        out[f"hist_dpd_{k}"] = (then[k] - oldest).days if oldest else 0
    for k in steps[:-1]:
        out[f"hist_outstanding_cents_{k}"] = max(scheduled - credited_by[k], 0)
    for k in range(HISTORY_STEPS):
        out[f"hist_paid_cents_{k}"] = credited_by[k] - credited_by[k + 1]
    out["hist_scheduled_cents"] = scheduled
    return out
