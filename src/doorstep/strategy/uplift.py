"""What happened after a home visit was decided: per strategy arm and risk band, among the accounts
that entered the home_visit stage (or had a visit proposed), how many cured and how much of what
was overdue came back within N days. The figures a visit's uplift (DOORSTEP_SCORING["visit_uplift"],
an assumption so far) is to be estimated from, arm against arm.

The cohort: each account's first decision on or after `since` whose stage is home_visit or that
planned a visit proposal — its arm, risk band (none without a model) and overdue amount are the
decision's. Its outcome window is the N days after the decision's date; accounts whose window
has not closed by `as_of` are counted as pending, not as failures.

- **Cured**: within the window the account settled, or a later decision found it at 0 days past
  due, or its payments covered what was overdue at the decision.
- **Recovered**: payments within the window, capped per account at what was overdue at the
  decision, over what was overdue at the decision (a ratio of sums).

Intervals (95 %): Wilson for the cure rate; for the recovery rate, the normal approximation of a
ratio estimator (delta method), from sums only (`scoring.engine.metrics.ratio_interval`).

One SQL statement over the decisions, the ledger and the accounts gives every group's count and
sums; nothing is computed account by account in Python.
"""

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.db import connection

from doorstep.scoring.engine.metrics import ratio_interval, wilson
from doorstep.strategy.enums import ActionKind, Stage

ALL_BANDS = "all"
NO_BAND = "none"


@dataclass(frozen=True)
class UpliftGroup:
    arm: str
    band: str  # low / medium / high; "none": decided without a model; "all": the arm's total
    accounts: int
    cured: int
    cure_rate: float | None
    cure_ci: tuple[float, float] | None
    overdue_cents: int
    recovered_cents: int
    recovery_rate: float | None
    recovery_ci: tuple[float, float] | None


@dataclass(frozen=True)
class UpliftReport:
    since: date
    until: date  # the last decision date whose window has closed
    as_of: date
    days: int
    groups: tuple[UpliftGroup, ...]
    pending: int  # cohort accounts whose window is still open on as_of

    def as_json(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "pending": self.pending,
            "cure_ci": "Wilson 95%",
            "recovery_ci": "normal approximation of the ratio estimator (delta method), 95%",
            "groups": [asdict(g) for g in self.groups],
        }


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "plus_days": "({column} + %(days)s)",
            "least": "LEAST",
            "real": "DOUBLE PRECISION",
        }
    return {
        "plus_days": "date({column}, '+' || %(days)s || ' days')",
        "least": "MIN",
        "real": "REAL",
    }


def uplift_sql() -> str:
    """The report's one statement: per arm and band, the count, the cures and the five sums of
    overdue x and recovered y (cents; squares and products in yuan², as floats) that the
    intervals need."""
    d = _dialect()
    end = d["plus_days"].format(column="c.as_of")
    real = d["real"]
    return f"""
WITH entry AS (
    SELECT account_id, MIN(as_of) AS as_of
    FROM strategy_decision sd
    WHERE as_of >= %(since)s AND as_of <= %(until)s
      AND (stage = %(stage)s OR EXISTS (
            SELECT 1 FROM strategy_plannedaction pa
            WHERE pa.account_id = sd.account_id AND pa.as_of = sd.as_of AND pa.kind = %(kind)s))
    GROUP BY account_id
),
cohort AS (
    SELECT d.account_id, d.as_of, d.arm, COALESCE(d.risk_band, %(no_band)s) AS band,
           d.overdue_cents
    FROM strategy_decision d
    JOIN entry e ON e.account_id = d.account_id AND e.as_of = d.as_of
),
paid AS (
    SELECT c.account_id, SUM(l.amount_cents) AS paid_cents
    FROM cohort c
    JOIN ledger_ledgerentry l ON l.account_id = c.account_id
    WHERE l.kind = 'payment' AND l.effective_on > c.as_of AND l.effective_on <= {end}
    GROUP BY c.account_id
),
back_to_zero AS (
    SELECT DISTINCT c.account_id
    FROM cohort c
    JOIN strategy_decision later ON later.account_id = c.account_id
    WHERE later.as_of > c.as_of AND later.as_of <= {end} AND later.dpd = 0
),
outcome AS (
    SELECT c.arm, c.band, c.overdue_cents AS x,
           {d["least"]}(COALESCE(p.paid_cents, 0), c.overdue_cents) AS y,
           CASE WHEN (a.settled_on IS NOT NULL AND a.settled_on <= {end})
                  OR z.account_id IS NOT NULL
                  OR COALESCE(p.paid_cents, 0) >= c.overdue_cents
                THEN 1 ELSE 0 END AS cured
    FROM cohort c
    JOIN ledger_account a ON a.id = c.account_id
    LEFT JOIN paid p ON p.account_id = c.account_id
    LEFT JOIN back_to_zero z ON z.account_id = c.account_id
)
SELECT arm, band, COUNT(*), SUM(cured), SUM(x), SUM(y),
       SUM(CAST(x AS {real}) * x / 10000), SUM(CAST(y AS {real}) * y / 10000),
       SUM(CAST(x AS {real}) * y / 10000)
FROM outcome
GROUP BY arm, band
ORDER BY arm, band"""


def pending_sql() -> str:
    return """
SELECT COUNT(DISTINCT account_id) FROM strategy_decision sd
WHERE as_of > %(until)s AND as_of <= %(as_of)s
  AND (stage = %(stage)s OR EXISTS (
        SELECT 1 FROM strategy_plannedaction pa
        WHERE pa.account_id = sd.account_id AND pa.as_of = sd.as_of AND pa.kind = %(kind)s))
  AND account_id NOT IN (
        SELECT account_id FROM strategy_decision s2
        WHERE s2.as_of >= %(since)s AND s2.as_of <= %(until)s AND s2.stage = %(stage)s)"""


def _group(arm, band, n, cured, sx, sy, sxx, syy, sxy) -> UpliftGroup:
    n, cured, sx, sy = int(n), int(cured or 0), int(sx or 0), int(sy or 0)
    return UpliftGroup(
        arm=arm,
        band=band,
        accounts=n,
        cured=cured,
        cure_rate=round(cured / n, 4) if n else None,
        cure_ci=_rounded(wilson(cured, n)),
        overdue_cents=sx,
        recovered_cents=sy,
        recovery_rate=round(sy / sx, 4) if sx else None,
        recovery_ci=_rounded(
            ratio_interval(n, sx / 100, sy / 100, float(sxx or 0), float(syy or 0), float(sxy or 0))
        ),
    )


def _rounded(interval):
    return None if interval is None else (round(interval[0], 4), round(interval[1], 4))


def latest_decision_date() -> date | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(as_of) FROM strategy_decision")
        found = cursor.fetchone()[0]
    if isinstance(found, str):
        found = date.fromisoformat(found)
    return found


def uplift_report(*, since: date, as_of: date, days: int = 30) -> UpliftReport:
    """The report (see the module's docstring): decisions from `since` whose `days`-day window
    has closed by `as_of`."""
    if days < 1:
        raise ValueError("the outcome window is at least one day")
    until = as_of - timedelta(days=days)
    params = {
        "since": since.isoformat() if connection.vendor != "postgresql" else since,
        "until": until.isoformat() if connection.vendor != "postgresql" else until,
        "as_of": as_of.isoformat() if connection.vendor != "postgresql" else as_of,
        "days": days,
        "stage": Stage.HOME_VISIT.value,
        "kind": ActionKind.VISIT_PROPOSAL.value,
        "no_band": NO_BAND,
    }
    with connection.cursor() as cursor:
        cursor.execute(uplift_sql(), params)
        rows = cursor.fetchall()
        cursor.execute(pending_sql(), params)
        pending = int(cursor.fetchone()[0])
    groups = []
    for arm in sorted({row[0] for row in rows}):
        mine = [row for row in rows if row[0] == arm]
        groups.extend(_group(*row) for row in mine)
        if len(mine) > 1:  # the arm over every band: the sums add up
            totals = [sum(row[k] or 0 for row in mine) for k in range(2, 9)]
            groups.append(_group(arm, ALL_BANDS, *totals))
    return UpliftReport(since, until, as_of, days, tuple(groups), pending)
