"""Explain a decision: every rule and gate with the figures it read, and what would change next.

`next_change` looks ahead day by day assuming nothing is paid and nothing else happens: days
past due and days since the last contact grow, amounts stay. The first day the stage would
differ is the answer ("a home visit becomes possible on 2026-12-05 if ¥3,000 or more is still
unpaid"). New instalments falling due are not added, so amounts are lower bounds.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from doorstep.ledger.engine.positions import bucket_for
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


def next_change(strategy: Strategy, row: dict, as_of: date, now: Decision) -> NextChange | None:
    if row["outstanding_cents"] <= 0:
        return None
    for days in range(1, HORIZON_DAYS + 1):
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
