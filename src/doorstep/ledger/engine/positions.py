"""An account's position as of a date, computed by walking its schedule (the real-time path).

The portfolio path (`ledger.queries.portfolio_positions`) computes the same figures set-based in
SQL; a property test holds the two together.

Definitions (DOMAIN §2): as of date D, the obligations are every scheduled instalment plus every
charge effective on or before D. Everything credited (payments, waivers) effective on or before D
pays them in order: oldest instalment first, and within an instalment in the configured component
order (default late fee, penalty interest, fee, interest, principal).

An instalment is overdue once its due date has passed: at the end of its due date it is due but
not yet late (DPD 1 is the next day). So overdue > 0 exactly when DPD >= 1, and DPD counts from
the due date of the oldest instalment, due before D, that is not fully paid.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

DEFAULT_ORDER = ("late_fee", "penalty_interest", "fee", "interest", "principal")
CHARGE_KINDS = ("late_fee", "penalty_interest")
CREDIT_KINDS = ("payment", "waiver")

BUCKETS = (
    (0, "M0"),
    (30, "M1"),
    (60, "M2"),
    (90, "M3"),
    (120, "M4"),
    (150, "M5"),
    (180, "M6"),
)


def bucket_for(dpd: int) -> str:
    """M0 current; M1 1–30 ... M6 151–180; M6+ over 180."""
    for upper, name in BUCKETS:
        if dpd <= upper:
            return name
    return "M6+"


@dataclass(frozen=True)
class ScheduledInstalment:
    seq: int
    due_date: date
    principal: int
    interest: int = 0
    fee: int = 0

    @property
    def scheduled(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True)
class Entry:
    """A ledger entry as the engine sees it. `seq` names the instalment a charge belongs to."""

    kind: str
    amount: int
    effective_on: date
    seq: int | None = None


@dataclass
class InstalmentState:
    seq: int
    due_date: date
    owed: dict[str, int]
    paid: dict[str, int] = field(default_factory=dict)

    @property
    def unpaid(self) -> int:
        return sum(self.owed.values()) - sum(self.paid.values())

    def unpaid_of(self, component: str) -> int:
        return self.owed.get(component, 0) - self.paid.get(component, 0)


@dataclass(frozen=True)
class Position:
    as_of: date
    dpd: int
    bucket: str
    overdue: int
    outstanding: int
    credited: int
    charged: int
    scheduled: int
    unapplied: int
    next_due_date: date | None
    instalments: tuple[InstalmentState, ...]

    @property
    def settled(self) -> bool:
        return self.outstanding == 0

    def overdue_by_component(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for state in self.instalments:
            if state.due_date < self.as_of:
                for component in state.owed:
                    totals[component] = totals.get(component, 0) + state.unpaid_of(component)
        return totals


def position(
    schedule: Sequence[ScheduledInstalment],
    entries: Iterable[Entry],
    as_of: date,
    *,
    order: Sequence[str] = DEFAULT_ORDER,
) -> Position:
    states = [
        InstalmentState(
            seq=inst.seq,
            due_date=inst.due_date,
            owed={"principal": inst.principal, "interest": inst.interest, "fee": inst.fee},
        )
        for inst in sorted(schedule, key=lambda i: i.seq)
    ]
    by_seq = {state.seq: state for state in states}
    credited = charged = 0
    for entry in entries:
        if entry.effective_on > as_of:
            continue
        if entry.kind in CREDIT_KINDS:
            credited += entry.amount
        elif entry.kind in CHARGE_KINDS:
            if entry.seq not in by_seq:
                raise ValueError(f"charge names instalment {entry.seq}, not in the schedule")
            owed = by_seq[entry.seq].owed
            owed[entry.kind] = owed.get(entry.kind, 0) + entry.amount
            charged += entry.amount
        else:
            raise ValueError(f"unknown entry kind {entry.kind!r}")

    remaining = max(credited, 0)
    for state in states:
        for component in order:
            take = min(remaining, state.unpaid_of(component))
            if take > 0:
                state.paid[component] = state.paid.get(component, 0) + take
                remaining -= take

    oldest_unpaid = next((s for s in states if s.due_date < as_of and s.unpaid > 0), None)
    dpd = (as_of - oldest_unpaid.due_date).days if oldest_unpaid else 0
    overdue = sum(s.unpaid for s in states if s.due_date < as_of)
    outstanding = sum(s.unpaid for s in states)
    next_due = next((s.due_date for s in states if s.due_date >= as_of and s.unpaid > 0), None)
    return Position(
        as_of=as_of,
        dpd=dpd,
        bucket=bucket_for(dpd),
        overdue=overdue,
        outstanding=outstanding,
        credited=credited,
        charged=charged,
        scheduled=sum(inst.scheduled for inst in schedule),
        unapplied=remaining,
        next_due_date=next_due,
        instalments=tuple(states),
    )
