"""What the collection score reads, in doorstep's words, and how the public table maps onto it.

The score reads an account's *history inputs* — plain integers the strategy's feature pass
computes set-based and its real-time twin computes in Python (`strategy.engine.featuresql`,
`strategy.engine.account`): days past due now and at each of the five previous 30-day steps,
what was outstanding then, what was paid in each of the last six 30-day windows, and the total
ever scheduled. `model_matrix` turns those into the model's features; every caller (training on
the public table, the nightly run, one account in real time) goes through it, so the three cannot
drift apart.

No protected or personal attribute enters (sex, marital status, age, education, region): the
score ranks collection work on an account's own behaviour (PIPL's minimum necessary, and no
treatment that differs by who the borrower is).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MONTH_DAYS = 30
HISTORY = 6  # months of history: now and five 30-day steps back

# The history inputs, integers (cents, days). k = 0 is the as-of date, k = 1 thirty days before...
INPUTS = (
    "dpd",
    *(f"hist_dpd_{k}" for k in range(1, HISTORY)),
    "outstanding_cents",
    *(f"hist_outstanding_cents_{k}" for k in range(1, HISTORY)),
    *(f"hist_paid_cents_{k}" for k in range(HISTORY)),
    "hist_scheduled_cents",
)

# The public table is in New Taiwan dollars of 2005; doorstep's amounts are yuan. One yuan was
# about four NT$ then: amounts are converted so that thresholds learnt there mean the same here.
CNY_PER_TWD = 0.25


@dataclass(frozen=True)
class ScoreFeature:
    name: str
    en: str  # a reason, read as "the account's risk is raised/lowered by ..."
    zh: str
    monotone: int = 0  # +1: more of it never lowers the score (DOMAIN: days behind)
    reason: str = ""  # the reason group it speaks for (several features share one reason)


FEATURES: tuple[ScoreFeature, ...] = (
    ScoreFeature("months_past_due", "days past due now", "当前逾期天数", monotone=1, reason="dpd"),
    *(
        ScoreFeature(
            f"months_past_due_{k}",
            f"days past due {k * MONTH_DAYS} days ago",
            f"{k * MONTH_DAYS}天前的逾期天数",
            monotone=1,
            reason="dpd_history",
        )
        for k in range(1, HISTORY)
    ),
    ScoreFeature(
        "max_months_past_due",
        "the deepest delinquency in six months",
        "近六个月最长逾期",
        monotone=1,
        reason="dpd_history",
    ),
    ScoreFeature(
        "months_delinquent",
        "months spent overdue in the last six",
        "近六个月逾期的月数",
        monotone=1,
        reason="dpd_history",
    ),
    ScoreFeature("scheduled", "the size of the loan", "借款总额", reason="size"),
    ScoreFeature("outstanding", "the amount still owed", "未还余额", reason="balance"),
    *(
        ScoreFeature(
            f"outstanding_{k}",
            f"the amount owed {k * MONTH_DAYS} days ago",
            f"{k * MONTH_DAYS}天前的未还余额",
            reason="balance",
        )
        for k in range(1, HISTORY)
    ),
    *(
        ScoreFeature(
            f"paid_{k}",
            "payments in the last 30 days"
            if k == 0
            else f"payments {k * MONTH_DAYS}–{(k + 1) * MONTH_DAYS} days ago",
            "近30天还款" if k == 0 else f"{k * MONTH_DAYS}至{(k + 1) * MONTH_DAYS}天前的还款",
            reason="payments",
        )
        for k in range(HISTORY)
    ),
    ScoreFeature(
        "outstanding_share", "the share of the loan still owed", "未还比例", reason="balance"
    ),
    ScoreFeature(
        "paid_vs_owed",
        "the last 30 days' payments against what was owed a month ago",
        "近30天还款占上月欠款的比例",
        reason="payments",
    ),
    ScoreFeature(
        "paid_vs_outstanding",
        "the last 30 days' payments against what is owed now",
        "近30天还款占当前欠款的比例",
        reason="payments",
    ),
    ScoreFeature(
        "months_paid",
        "months with a payment in the last six",
        "近六个月有还款的月数",
        reason="payments",
    ),
    ScoreFeature(
        "paid_share_6m",
        "six months' payments against six months' balances",
        "近六个月还款占欠款的比例",
        reason="payments",
    ),
)
NAMES = tuple(f.name for f in FEATURES)
MONOTONE = tuple(f.monotone for f in FEATURES)

# Reason groups: the words a reason code is shown in (explain, console, portal).
REASONS: dict[str, tuple[str, str]] = {
    "dpd": ("days past due", "逾期天数"),
    "dpd_history": (
        "past delinquency (days past due in the last six months)",
        "近六个月的逾期记录",
    ),
    "size": ("the size of the loan", "借款金额"),
    "balance": ("the amount still owed", "未还金额"),
    "payments": ("recent payments", "近期还款情况"),
}


def months_past_due(dpd: np.ndarray) -> np.ndarray:
    """Days past due as months behind, the public table's unit: 1–30 days is one month (M1)."""
    return np.ceil(np.maximum(dpd, 0) / MONTH_DAYS)


def model_matrix(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The model's features (float64, C order, one row per account, in `NAMES` order) from the
    history inputs: integer arrays named as in INPUTS. Filled column by column into a Fortran-
    order block and turned once: at a million rows that is several times faster than stacking."""
    n = len(columns["dpd"])
    out = np.empty((n, len(NAMES)), order="F")
    j = 0

    def put(values) -> None:
        nonlocal j
        out[:, j] = values
        j += 1

    months = [months_past_due(np.asarray(columns["dpd"], dtype=np.float64))] + [
        months_past_due(np.asarray(columns[f"hist_dpd_{k}"], dtype=np.float64))
        for k in range(1, HISTORY)
    ]
    for m in months:
        put(m)
    put(np.maximum.reduce(months))
    put(sum((m > 0).astype(np.float64) for m in months))
    scheduled = np.asarray(columns["hist_scheduled_cents"], dtype=np.float64) / 100
    put(scheduled)
    owed = [np.asarray(columns["outstanding_cents"], dtype=np.float64) / 100] + [
        np.asarray(columns[f"hist_outstanding_cents_{k}"], dtype=np.float64) / 100
        for k in range(1, HISTORY)
    ]
    for o in owed:
        put(o)
    paid = [
        np.asarray(columns[f"hist_paid_cents_{k}"], dtype=np.float64) / 100 for k in range(HISTORY)
    ]
    for p in paid:
        put(p)
    put(owed[0] / np.maximum(scheduled, 1))
    put(paid[0] / np.maximum(owed[1], 1))
    put(paid[0] / np.maximum(owed[0], 1))
    put(sum((p > 0).astype(np.float64) for p in paid))
    put(sum(paid) / np.maximum(sum(owed), 1))
    assert j == len(NAMES)
    return np.ascontiguousarray(out)


# --- the public table --------------------------------------------------------------------------

UCI_STATUS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
UCI_LABEL = "default.payment.next.month"
UCI_COLUMNS = (
    "LIMIT_BAL",
    *UCI_STATUS,
    *(f"BILL_AMT{k}" for k in range(1, HISTORY + 1)),
    *(f"PAY_AMT{k}" for k in range(1, HISTORY + 1)),
    UCI_LABEL,
)


def uci_inputs(table: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The UCI "default of credit card clients" columns as doorstep's history inputs.

    PAY_0, PAY_2..PAY_6 (-2 no use, -1 paid in full, 0 revolving, 1..9 months behind) are the
    months behind at the latest statement and the five before: k months behind is k × 30 days past
    due (what is not behind is 0). BILL_AMT1..6 are what was owed at those statements, PAY_AMT1..6
    what was paid in the month to each, LIMIT_BAL stands for the size of the loan. Amounts are
    converted to yuan cents at CNY_PER_TWD.
    """

    def cents(name: str) -> np.ndarray:
        return np.rint(np.asarray(table[name], dtype=np.float64) * CNY_PER_TWD * 100).astype(
            np.int64
        )

    def dpd(name: str) -> np.ndarray:
        return np.maximum(np.asarray(table[name], dtype=np.int64), 0) * MONTH_DAYS

    inputs = {"dpd": dpd("PAY_0"), "outstanding_cents": cents("BILL_AMT1")}
    for k in range(1, HISTORY):
        inputs[f"hist_dpd_{k}"] = dpd(UCI_STATUS[k])
        inputs[f"hist_outstanding_cents_{k}"] = cents(f"BILL_AMT{k + 1}")
    for k in range(HISTORY):
        inputs[f"hist_paid_cents_{k}"] = cents(f"PAY_AMT{k + 1}")
    inputs["hist_scheduled_cents"] = cents("LIMIT_BAL")
    return inputs


def delinquent(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Accounts behind now (1+ months; dpd ≥ 1): the accounts in collections."""
    return np.asarray(inputs["dpd"]) > 0
