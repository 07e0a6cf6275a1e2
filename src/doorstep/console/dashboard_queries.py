"""The set-based reads behind the console's dashboards (docs/console.md defines every figure).

Each function is one SQL statement or one ORM aggregate over the whole portfolio, grouped in the
database; Python only shapes the few grouped rows it gets back. Nothing here loops over accounts.

The raw SQL is composed from this module's constants (table and column names, bucket bounds, kinds)
and from vendor-specific date arithmetic; every value goes through query parameters (hence the
`noqa: S608` on the composed statements).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from doorstep.complaints.enums import CaseState, Finding
from doorstep.complaints.models import Case
from doorstep.compliance.models import Refusal
from doorstep.ledger.engine.positions import BUCKETS
from doorstep.ledger.enums import EntryKind
from doorstep.ledger.queries import BucketLine, portfolio_by_bucket
from doorstep.strategy.enums import RunStatus, Stage
from doorstep.strategy.models import NightlyRun
from doorstep.visits.enums import VisitEvent
from doorstep.visits.models import Visit, VisitTransition

BUCKET_NAMES = (*(name for _, name in BUCKETS), "M6+")
# Where an account at the earlier month-end can be at the later one, besides a bucket.
SETTLED = "settled"  # decided with nothing outstanding
UNDECIDED = "undecided"  # no decision on the later day (it left the portfolio's history)

# What the recovery figures can be grouped by; each maps to its SQL key and label.
RECOVERY_DIMENSIONS = {
    "stage": ("e.stage", "e.stage"),
    "product": ("a.product", "a.product"),
    "region": ("r.code", "r.name"),
    "arm": ("e.arm", "e.arm"),
}

# Visit events counted by the visits dashboard (a proposal counts by its proposed_on date).
VISIT_EVENTS = (
    VisitEvent.APPROVE,
    VisitEvent.REJECT,
    VisitEvent.SEND_NOTICE,
    VisitEvent.DECLINE,
    VisitEvent.CANCEL,
    VisitEvent.CHECK_IN,
    VisitEvent.COMPLETE,
)


def _bucket_sql(dpd: str) -> str:
    whens = " ".join(f"WHEN {dpd} <= {upper} THEN '{name}'" for upper, name in BUCKETS)
    return f"CASE {whens} ELSE 'M6+' END"


def _date_param(name: str) -> str:
    """A date parameter, typed where the database needs to be told (PostgreSQL VALUES lists)."""
    if connection.vendor == "postgresql":
        return f"CAST(%({name})s AS DATE)"
    return f"%({name})s"


def _days_after(column: str) -> str:
    """SQL for the date `%(window)s` days after the date `column`."""
    if connection.vendor == "postgresql":
        return f"({column} + CAST(%(window)s AS INTEGER))"
    return f"date({column}, '+' || %(window)s || ' days')"


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def day_start(day: date) -> datetime:
    """The first instant of `day` in the configured time zone (DOORSTEP_TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


# --- the decision history ----------------------------------------------------------------------


def close_days() -> list[date]:
    """The dates of the completed nightly runs, oldest first: the snapshots of the history."""
    return list(
        NightlyRun.objects.filter(status=RunStatus.DONE)
        .order_by("as_of")
        .values_list("as_of", flat=True)
        .distinct()
    )


# --- portfolio ---------------------------------------------------------------------------------


def portfolio(as_of: date) -> list[BucketLine]:
    """Accounts, overdue and outstanding per bucket as of a date, every bucket listed (one
    statement: the ledger's set-based positions, settled accounts left out)."""
    found = {line.bucket: line for line in portfolio_by_bucket(as_of)}
    return [found.get(name, BucketLine(name, 0, 0, 0)) for name in BUCKET_NAMES]


# --- roll rates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollCount:
    month: str  # the later month, "YYYY-MM"
    from_bucket: str
    to: str  # a bucket, SETTLED or UNDECIDED
    accounts: int


def roll_counts(pairs: list[tuple[str, date, date]]) -> list[RollCount]:
    """For each (month, earlier snapshot, later snapshot): the accounts with something
    outstanding on the earlier day, counted by their bucket then and where they are on the later
    day. One statement for every pair."""
    if not pairs:
        return []
    values, params = [], {}
    for n, (month, before, after) in enumerate(pairs):
        params |= {f"m{n}": month, f"b{n}": before, f"a{n}": after}
        values.append(f"(%(m{n})s, {_date_param(f'b{n}')}, {_date_param(f'a{n}')})")
    sql = f"""
WITH pairs(month, before_day, after_day) AS (VALUES {", ".join(values)})
SELECT p.month, {_bucket_sql("a.dpd")},
       CASE WHEN b.account_id IS NULL THEN '{UNDECIDED}'
            WHEN b.outstanding_cents <= 0 THEN '{SETTLED}'
            ELSE {_bucket_sql("b.dpd")} END,
       COUNT(*)
FROM pairs p
JOIN strategy_decision a ON a.as_of = p.before_day
LEFT JOIN strategy_decision b ON b.account_id = a.account_id AND b.as_of = p.after_day
WHERE a.outstanding_cents > 0
GROUP BY 1, 2, 3
"""  # noqa: S608
    return [RollCount(*row) for row in _fetch(sql, params)]


# --- cure and recovery -------------------------------------------------------------------------

_ENTRIES = f"""
SELECT d.account_id, d.as_of, d.stage, d.arm, d.overdue_cents
FROM strategy_decision d
WHERE d.as_of >= %(start)s AND d.as_of <= %(end)s
  AND d.stage <> d.previous_stage AND d.stage <> '{Stage.NONE}' AND d.overdue_cents > 0
"""  # noqa: S608


@dataclass(frozen=True)
class CureLine:
    stage: str
    arm: str
    entries: int
    cured: int


def cure_counts(start: date, end: date, *, window: int) -> list[CureLine]:
    """Entries into a stage with something overdue, between `start` and `end` (both included),
    by stage and arm, and how many of them were decided `none` with nothing overdue within
    `window` days after."""
    sql = f"""
WITH entries AS ({_ENTRIES})
SELECT e.stage, e.arm, COUNT(*),
       SUM(CASE WHEN EXISTS (
               SELECT 1 FROM strategy_decision c
               WHERE c.account_id = e.account_id AND c.as_of > e.as_of
                 AND c.as_of <= {_days_after("e.as_of")}
                 AND c.stage = '{Stage.NONE}' AND c.overdue_cents = 0)
           THEN 1 ELSE 0 END)
FROM entries e
GROUP BY e.stage, e.arm
"""  # noqa: S608
    rows = _fetch(sql, {"start": start, "end": end, "window": window})
    return [CureLine(stage, arm, entries, cured or 0) for stage, arm, entries, cured in rows]


@dataclass(frozen=True)
class RecoveryLine:
    key: str
    label: str
    entries: int
    overdue: int  # cents overdue at entry
    recovered: int  # cents paid in the window, at most the overdue at entry
    collected: int  # cents paid in the window, uncapped


def recovery_by(dimension: str, start: date, end: date, *, window: int) -> list[RecoveryLine]:
    """Entries into a stage with something overdue, between `start` and `end`, grouped by
    `dimension` (stage, product, region or arm): the overdue at entry and the payments of the
    `window` days after the entry day."""
    key, label = RECOVERY_DIMENSIONS[dimension]
    sql = f"""
WITH entries AS ({_ENTRIES}),
paid AS (
    SELECT e.account_id, e.stage, e.arm, e.overdue_cents,
           COALESCE((SELECT SUM(p.amount_cents) FROM ledger_ledgerentry p
                     WHERE p.account_id = e.account_id AND p.kind = '{EntryKind.PAYMENT}'
                       AND p.effective_on > e.as_of
                       AND p.effective_on <= {_days_after("e.as_of")}), 0) AS collected
    FROM entries e
)
SELECT {key}, {label}, COUNT(*), SUM(e.overdue_cents),
       SUM(CASE WHEN e.collected <= 0 THEN 0
                WHEN e.collected >= e.overdue_cents THEN e.overdue_cents
                ELSE e.collected END),
       SUM(e.collected)
FROM paid e
JOIN ledger_account a ON a.id = e.account_id
JOIN ledger_borrower b ON b.id = a.borrower_id
JOIN ledger_region r ON r.code = b.region_id
GROUP BY {key}, {label}
ORDER BY {key}
"""  # noqa: S608
    rows = _fetch(sql, {"start": start, "end": end, "window": window})
    return [RecoveryLine(k, lab, n, int(o), int(r), int(c)) for k, lab, n, o, r, c in rows]


# --- visits and promises -----------------------------------------------------------------------


def visit_steps(start: date, end: date) -> dict[str, int]:
    """Visits proposed (by their proposed_on date) and each workflow step taken (by the day of the
    transition in the configured time zone) between `start` and `end`, both included."""
    steps = {"propose": Visit.objects.filter(proposed_on__range=(start, end)).count()}
    moved = (
        VisitTransition.objects.filter(
            event__in=VISIT_EVENTS, at__gte=day_start(start), at__lt=day_start(end + timedelta(1))
        )
        .values_list("event")
        .annotate(n=Count("id"))
        .order_by()
    )
    return steps | dict(moved)


def visit_outcomes(start: date, end: date) -> dict[str, int]:
    """The outcomes of the visits completed between `start` and `end`."""
    rows = (
        VisitTransition.objects.filter(
            event=VisitEvent.COMPLETE,
            at__gte=day_start(start),
            at__lt=day_start(end + timedelta(1)),
        )
        .values_list("visit__outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


@dataclass(frozen=True)
class PromiseLine:
    channel: str
    promises: int
    promised: int  # cents
    kept: int
    broken: int
    pending: int
    paid: int  # cents paid toward the promises, each at most its amount


def promises(start: date, end: date, *, today: date) -> list[PromiseLine]:
    """Promises to pay whose promised date is between `start` and `end`, by the channel they were
    made on. Kept: the account's payments from the day of the promise through the promised date
    reach the amount. Broken: not kept and the promised date is before `today`. Pending: the rest.
    """
    promised_on, tz_params = connection.ops.datetime_cast_date_sql(
        "c.at", (), timezone.get_default_timezone_name()
    )
    sql = f"""
SELECT x.channel, COUNT(*), SUM(x.ptp_amount_cents),
       SUM(CASE WHEN x.paid >= x.ptp_amount_cents THEN 1 ELSE 0 END),
       SUM(CASE WHEN x.paid < x.ptp_amount_cents AND x.ptp_date < %s THEN 1 ELSE 0 END),
       SUM(CASE WHEN x.paid < x.ptp_amount_cents AND x.ptp_date >= %s THEN 1 ELSE 0 END),
       SUM(CASE WHEN x.paid <= 0 THEN 0
                WHEN x.paid >= x.ptp_amount_cents THEN x.ptp_amount_cents ELSE x.paid END)
FROM (
    SELECT c.channel, c.ptp_amount_cents, c.ptp_date,
           COALESCE((SELECT SUM(p.amount_cents) FROM ledger_ledgerentry p
                     WHERE p.account_id = c.account_id AND p.kind = '{EntryKind.PAYMENT}'
                       AND p.effective_on >= {promised_on}
                       AND p.effective_on <= c.ptp_date), 0) AS paid
    FROM contact_contact c
    WHERE c.outcome = 'promise_to_pay' AND c.ptp_date >= %s AND c.ptp_date <= %s
) x
GROUP BY x.channel
ORDER BY x.channel
"""  # noqa: S608
    rows = _fetch(sql, [today, today, *tz_params, start, end])
    return [PromiseLine(ch, n, int(a), k, b, p, int(paid)) for ch, n, a, k, b, p, paid in rows]


# --- complaints and refusals -------------------------------------------------------------------


@dataclass(frozen=True)
class CaseLine:
    kind: str
    category: str
    filed: int
    answered: int
    on_time: int
    upheld: int  # upheld or partly upheld
    open: int
    open_late: int  # open past the day the answer was due


def cases(start: date, end: date, *, today: date) -> list[CaseLine]:
    """Complaints and disputes filed between `start` and `end`, by kind and category, with what
    became of them by now."""
    answered = Q(state=CaseState.ANSWERED)
    still_open = Q(state=CaseState.OPEN)
    rows = (
        Case.objects.filter(
            filed_at__gte=day_start(start), filed_at__lt=day_start(end + timedelta(1))
        )
        .values_list("kind", "category")
        .annotate(
            filed=Count("id"),
            answered=Count("id", filter=answered),
            on_time=Count("id", filter=answered & Q(answered_at__date__lte=F("due_on"))),
            upheld=Count("id", filter=Q(finding__in=[Finding.UPHELD, Finding.PARTLY])),
            open=Count("id", filter=still_open),
            open_late=Count("id", filter=still_open & Q(due_on__lt=today)),
        )
        .order_by("kind", "category")
    )
    return [CaseLine(*row) for row in rows]


@dataclass(frozen=True)
class RefusalLine:
    rule_id: str
    source: str
    refusals: int
    accounts: int


def refusals(start: date, end: date) -> list[RefusalLine]:
    """Actions the compliance guard refused between `start` and `end`, by the refusing rule."""
    rows = (
        Refusal.objects.filter(at__gte=day_start(start), at__lt=day_start(end + timedelta(1)))
        .values_list("rule_id", "source")
        .annotate(refusals=Count("id"), accounts=Count("account_id", distinct=True))
        .order_by("-refusals", "rule_id")
    )
    return [RefusalLine(*row) for row in rows]
