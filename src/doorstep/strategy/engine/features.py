"""The documented feature set: what a rule may look at (docs/strategy.md lists the same).

Every feature is computed two ways that must agree: set-based by `engine.featuresql` for the
nightly run, and in Python by `engine.account` for one account in real time.
"""

from dataclasses import dataclass

from doorstep.scoring.engine import features as score_features

# Hold kinds, as in ledger.enums.HoldKind (a test keeps them equal; the engine may not import Django).
HOLD_KINDS = (
    "dispute",
    "complaint",
    "cease_visit",
    "visit_declined",
    "deceased",
    "bankruptcy",
    "legal_action",
)
# The hold the arrangements app keeps open while an arrangement is kept: not a feature of its own,
# it is what `arrangement_active` reads.
ARRANGEMENT_HOLD = "arrangement"
# Holds that stop every collection action (stage `suspended`, DOMAIN §4).
SUSPENDING_HOLDS = ("dispute", "complaint", "deceased", "bankruptcy", "legal_action")

REACHED_OUTCOMES = ("reached", "promise_to_pay")
LOST_OUTCOMES = ("unreachable", "wrong_number")

WINDOW_DAYS = 30  # refusals, broken promises, visits and lost contact look back this far
# The collection score reads six 30-day steps of history (doorstep.scoring.engine.features):
# hist_dpd_k and hist_outstanding_cents_k as of the date minus 30·k days (k = 1..5), and
# hist_paid_cents_k credited in the k-th 30-day window back (k = 0..5). Not rule features.
MONTH_DAYS = score_features.MONTH_DAYS
HISTORY_STEPS = score_features.HISTORY

DAY = 86_400  # seconds


def _hold_texts(kind: str) -> tuple[str, str]:
    return f"an open {kind.replace('_', ' ')} hold", f"{kind} 暂停"


# Holds whose length is policy: their texts say it, so a reason may quote it (document.py).
HOLD_TEXTS = {
    "visit_declined": (
        "the borrower declined a visit: no visit for 30 days (DOORSTEP_VISITS decline_hold_days)",
        "借款人拒绝上门：30天内不再上门（DOORSTEP_VISITS decline_hold_days）",
    ),
}


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # int | money | bool | text | score
    en: str
    zh: str
    model: bool = False  # NULL until a scoring model is active: rules using it are skipped


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature(
            "dpd", "int", "days past due of the oldest unpaid instalment", "最早未还期的逾期天数"
        ),
        Feature("bucket", "text", "delinquency bucket M0…M6+", "逾期阶段 M0…M6+"),
        Feature(
            "overdue_amount", "money", "everything due and unpaid, yuan", "已到期未还金额（元）"
        ),
        Feature("outstanding", "money", "everything not yet paid, yuan", "全部未还金额（元）"),
        Feature("product", "text", "micro_loan | instalment | credit_card", "产品"),
        Feature("region_code", "text", "administrative code of the borrower's region", "地区代码"),
        Feature("region_coverage", "text", "in_house | agency | none", "外访覆盖"),
        Feature("auto_debit", "bool", "repays by automatic debit", "自动扣款"),
        Feature(
            "days_to_next_due",
            "int",
            "days until the next unpaid instalment falls due (NULL if none)",
            "距下一期未还款到期的天数",
        ),
        Feature(
            "lost_contact",
            "bool",
            "no successful contact in 30 days and the latest call found the number "
            "unreachable or wrong",
            "失联：30天内无有效联系且最近一次电话无法接通或号码错误",
        ),
        Feature(
            "days_since_last_reached",
            "int",
            "days since the last successful contact (NULL if never)",
            "距上次有效联系的天数",
        ),
        Feature("refusals_30d", "int", "refusals in the last 30 days", "30天内拒绝沟通次数"),
        Feature(
            "broken_ptp_30d",
            "int",
            "promises to pay whose date passed in the last 30 days unpaid",
            "30天内违约的承诺还款",
        ),
        Feature(
            "ptp_active", "bool", "a promise to pay not yet due and not yet kept", "承诺还款进行中"
        ),
        Feature(
            "arrangement_active",
            "bool",
            "a repayment arrangement is being kept (none of its instalments missed)",
            "还款安排履行中",
        ),
        *(
            Feature(f"hold_{kind}", "bool", *HOLD_TEXTS.get(kind, _hold_texts(kind)))
            for kind in HOLD_KINDS
        ),
        Feature("visits_30d", "int", "home visits in the last 30 days", "30天内上门次数"),
        Feature(
            "days_since_last_visit",
            "int",
            "days since the last home visit (NULL if never)",
            "距上次上门的天数",
        ),
        Feature(
            "times_cured",
            "int",
            "instalments that fell overdue and were later paid in full",
            "曾逾期后还清的期数",
        ),
        Feature("risk_score", "score", "probability of rolling deeper", "风险分", model=True),
        Feature("risk_band", "text", "low | medium | high", "风险等级", model=True),
        Feature(
            "p_recover_with_visit",
            "score",
            "probability of recovery with a visit",
            "上门后回收概率",
            model=True,
        ),
        Feature(
            "p_recover_without_visit",
            "score",
            "probability of recovery without a visit",
            "不上门回收概率",
            model=True,
        ),
    )
}
MODEL_FEATURES = frozenset(name for name, f in FEATURES.items() if f.model)
