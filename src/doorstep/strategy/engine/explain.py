"""Explain a decision: every rule and gate with the figures it read, and what would change next.

`next_change` looks ahead assuming nothing is paid and nothing else happens: days past due and
days since the last contact grow, amounts stay. The first day the stage would differ is the
answer ("a home visit becomes possible on 2026-12-05 if ¥3,000 or more is still unpaid"); only
the days on which some condition can change are looked at (`change_days`). New instalments
falling due are not added, so amounts are lower bounds.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from doorstep.ledger.engine.positions import BUCKETS, bucket_for
from doorstep.scoring.engine.reasons import Reason
from doorstep.strategy.engine.decide import (
    Decision,
    condition_for,
    decide,
    render,
    rule_result,
    stage_for,
)
from doorstep.strategy.engine.document import Strategy
from doorstep.strategy.engine.features import MODEL_FEATURES

HORIZON_DAYS = 400
STAGE_NAMES = {
    "none": ("no collection action", "无催收动作"),
    "pre_due": ("pre-due reminder", "到期前提醒"),
    "reminder": ("reminders", "逾期提醒"),
    "phone": ("phone follow-up", "电话催收"),
    "home_visit": ("home visit", "上门核实"),
    "legal": ("agency placement or legal referral", "委外或诉讼"),
    "suspended": ("suspended", "暂停催收"),
    "arrangement": ("repayment arrangement", "还款安排"),
}


@dataclass(frozen=True)
class RuleLine:
    id: str
    stage: str
    gate: bool
    when: str
    result: bool  # matched (rule) or passed (gate)
    skipped: bool  # read a model feature that is NULL
    figures: dict


@dataclass(frozen=True)
class NextChange:
    on: date
    stage: str
    rules: tuple[str, ...]
    en: str
    zh: str


@dataclass(frozen=True)
class ScoreLine:
    """The collection score of an account in collections: the model in force, the score and its
    band, and the reason groups that raise it most (scoring.engine.reasons), with the history
    inputs they were computed from (for wording them with the account's own figures)."""

    model: str
    risk_score: Decimal
    risk_band: str
    reasons: tuple[Reason, ...]
    inputs: dict


@dataclass(frozen=True)
class Explanation:
    as_of: date
    decision: Decision
    lines: tuple[RuleLine, ...]
    next_change: NextChange | None
    score: ScoreLine | None = None  # None: no model active, or nothing overdue


def explain(strategy: Strategy, row: dict, as_of: date) -> Explanation:
    lines = []
    for rule in strategy.rules:
        condition = condition_for(rule, row)
        skipped = any(row[name] is None for name in condition.features & MODEL_FEATURES)
        lines.append(
            RuleLine(
                id=rule.id,
                stage=rule.stage,
                gate=rule.gate,
                when=condition.text,
                result=rule_result(rule, row),
                skipped=skipped,
                figures={name: row[name] for name in sorted(condition.features)},
            )
        )
    decision = decide(strategy, row)
    return Explanation(as_of, decision, tuple(lines), next_change(strategy, row, as_of, decision))


def shifted(row: dict, days: int) -> dict | None:
    """The features `days` later if nothing is paid; None when that cannot be told."""
    future = dict(row)
    if row["dpd"] > 0:
        future["dpd"] = row["dpd"] + days
    elif row["days_to_next_due"] is not None:
        left = row["days_to_next_due"] - days
        if left < 0:
            return None  # the next instalment would be overdue by an amount the row lacks
        future["days_to_next_due"] = left
    else:
        return future
    future["bucket"] = bucket_for(future["dpd"])
    for name in ("days_since_last_reached", "days_since_last_visit"):
        if row[name] is not None:
            future[name] = row[name] + days
    return future


# What `shifted` moves by one a day (bucket follows dpd), and the dpd on which the bucket changes.
MOVING = ("dpd", "days_to_next_due", "days_since_last_reached", "days_since_last_visit")
BUCKET_EDGES = tuple(upper + 1 for upper, _ in BUCKETS)


def change_days(strategy: Strategy, row: dict) -> Iterable[int]:
    """The days ahead, in order, on which the stage of `shifted(row, days)` may differ from the
    day before: where a moving feature meets one of the literals the strategy compares it with
    (`Strategy.thresholds`), or the bucket changes. Between them every condition keeps its value,
    so looking at these days finds the same first change as looking at every day (tested), with
    tens of evaluations instead of hundreds. Every day when a condition reads a moving feature
    in another way (arithmetic, another feature)."""
    thresholds = strategy.thresholds
    if any(thresholds.get(name, frozenset()) is None for name in (*MOVING, "bucket")) or any(
        not isinstance(literal, Decimal) for name in MOVING for literal in thresholds.get(name, ())
    ):
        return range(1, HORIZON_DAYS + 1)
    if row["dpd"] > 0:
        slopes = {"dpd": 1}
    elif row["days_to_next_due"] is not None:
        slopes = {"days_to_next_due": -1}
    else:
        return ()  # nothing moves
    slopes |= {"days_since_last_reached": 1, "days_since_last_visit": 1}
    days = set()
    for name, slope in slopes.items():
        if row[name] is None:
            continue
        for literal in thresholds.get(name, ()):
            # A comparison with the literal changes where the feature reaches it, one below or
            # one above (=, >, >= ... on whole days).
            for value in range(math.floor(literal) - 1, math.ceil(literal) + 2):
                days.add((value - row[name]) * slope)
    if "bucket" in thresholds and row["dpd"] > 0:
        days.update(edge - row["dpd"] for edge in BUCKET_EDGES)
    return sorted(d for d in days if 1 <= d <= HORIZON_DAYS)


def next_change(strategy: Strategy, row: dict, as_of: date, now: Decision) -> NextChange | None:
    if row["outstanding_cents"] <= 0:
        return None
    for days in change_days(strategy, row):
        future = shifted(row, days)
        if future is None:
            return None
        if stage_for(strategy, future) != now.stage:
            then = decide(strategy, future)
            on = as_of + timedelta(days=days)
            en_stage, zh_stage = STAGE_NAMES[then.stage]
            amount = render("{overdue_amount}", row)
            return NextChange(
                on=on,
                stage=then.stage,
                rules=then.triggers,
                en=f"{en_stage} becomes possible on {on.isoformat()} if ¥{amount} is still "
                f"unpaid ({then.reasons_en})",
                zh=f"如到 {on.isoformat()} 仍未还 ¥{amount}，将进入{zh_stage}（{then.reasons_zh}）",
            )
    return None
