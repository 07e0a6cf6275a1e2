"""Explain's next change looks only at the days a condition can change on (`change_days`); on any
features and strategy it finds the same day, stage and wording as looking at every day."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.ledger.engine.positions import bucket_for
from doorstep.strategy.engine import explain
from doorstep.strategy.engine.decide import decide, stage_for
from doorstep.strategy.engine.document import load_strategy
from doorstep.strategy.engine.features import HOLD_KINDS
from tests.strategy.test_decide import DEFAULT, EXPERIMENT, feature_rows

AS_OF = date(2026, 10, 31)
# Thresholds the default lacks: a BETWEEN on days since the last contact, an IN on days to the
# next due date, a decimal literal, a literal on the left and IS NULL.
FORMS = DEFAULT.replace(
    'when: "dpd BETWEEN 1 AND 30"',
    'when: "dpd BETWEEN 1 AND 30 OR (dpd > 40 AND days_since_last_reached BETWEEN 10 AND 20)"',
).replace(
    'when: "dpd = 0 AND days_to_next_due <= 3 AND NOT auto_debit"',
    'when: "dpd = 0 AND (days_to_next_due IN (1, 7, 15) OR 2.5 >= days_to_next_due) '
    'AND NOT auto_debit AND (days_since_last_visit IS NULL OR days_since_last_visit > 44.5)"',
)
# Stages by bucket, with no literal on dpd near the bucket's edges, and a strict comparison.
BUCKETED = (
    DEFAULT.replace('when: "dpd BETWEEN 1 AND 30"', "when: \"bucket = 'M1'\"")
    .replace("(reminders run from day 1 to day 30)", "(the first bucket)")
    .replace("（逾期第1至30天发送提醒）", "（首个逾期区间）")
    .replace('when: "dpd >= 31"', "when: \"bucket NOT IN ('M0', 'M1')\"")
    .replace("AND dpd >= 31", "AND bucket NOT IN ('M0', 'M1')")
    .replace("(phone follow-up from day 31)", "(past the first bucket)")
    .replace("（逾期31天起电话跟进）", "（首个逾期区间之后）")
    .replace("days_to_next_due <= 3 AND", "days_to_next_due < 3 AND")
)
# A moving feature in arithmetic: every day is looked at.
ARITHMETIC = DEFAULT.replace('when: "dpd >= 31"', 'when: "dpd * 2 - 31 >= 31"')
STRATEGIES = [load_strategy(text) for text in (DEFAULT, EXPERIMENT, FORMS, BUCKETED, ARITHMETIC)]


def every_day(strategy, row, now):
    """The first change looked for on every day of the horizon: what next_change did before."""
    for days in range(1, explain.HORIZON_DAYS + 1):
        future = explain.shifted(row, days)
        if future is None:
            return None
        if stage_for(strategy, future) != now.stage:
            return AS_OF + timedelta(days=days), decide(strategy, future).stage
    return None


@settings(max_examples=300)
@given(feature_rows(), st.sampled_from(range(len(STRATEGIES))), st.integers(1, 9_000_000))
def test_the_change_days_find_the_same_next_change_as_every_day(row, which, outstanding):
    strategy = STRATEGIES[which]
    row |= {"account_id": "A1", "bucket": bucket_for(row["dpd"]), "outstanding_cents": outstanding,
            "arm": strategy.arm_for(row["arm_bucket"])}  # fmt: skip
    now = decide(strategy, row)
    found = explain.next_change(strategy, row, AS_OF, now)
    assert (None if found is None else (found.on, found.stage)) == every_day(strategy, row, now)


def grid():
    """Rows on and around every threshold of the strategies above, the rest of the account
    fixed: overdue enough for a home visit, in a covered region, no hold."""
    base = {
        "account_id": "A1", "overdue_amount": Decimal("5000.00"), "outstanding": Decimal("9000.00"),
        "outstanding_cents": 900_000, "product": "instalment", "region_code": "440305",
        "region_coverage": "in_house", "auto_debit": False, "lost_contact": False,
        "refusals_30d": 0, "broken_ptp_30d": 0, "ptp_active": False, "arrangement_active": False,
        **{f"hold_{k}": False for k in HOLD_KINDS}, "visits_30d": 0, "times_cured": 0,
        "risk_score": None, "risk_band": None, "p_recover_with_visit": None,
        "p_recover_without_visit": None, "arm_bucket": 50, "previous_stage": "none",
    }  # fmt: skip
    for due, visit, reached in product(
        (None, 0, 1, 2, 3, 4, 5, 8, 16, 40), (None, 0, 30, 44, 45, 46), (None, 5, 9, 10)
    ):
        yield base | {"dpd": 0, "days_to_next_due": due, "days_since_last_visit": visit,
                      "days_since_last_reached": reached}  # fmt: skip
    for dpd, reached, visit in product(
        (1, 5, 29, 30, 31, 35, 40, 41, 60, 61, 62, 89, 90, 150, 179, 180, 181, 300),
        (None, 0, 9, 10, 21),
        (None, 0),
    ):
        yield base | {"dpd": dpd, "days_to_next_due": None, "days_since_last_visit": visit,
                      "days_since_last_reached": reached}  # fmt: skip


def test_on_and_around_every_threshold_the_change_days_find_the_same_next_change():
    for strategy in STRATEGIES:
        for row in grid():
            row |= {"bucket": bucket_for(row["dpd"]), "arm": strategy.arm_for(row["arm_bucket"])}
            now = decide(strategy, row)
            found = explain.next_change(strategy, row, AS_OF, now)
            got = None if found is None else (found.on, found.stage)
            assert got == every_day(strategy, row, now), (strategy.document.name, row)


def test_the_default_strategy_is_looked_at_on_a_few_days_only():
    default, _, forms, _, arithmetic = STRATEGIES
    assert default.thresholds["dpd"] == {0, 1, 8, 30, 31, 61, 90, 180}
    assert arithmetic.thresholds["dpd"] is None  # read in arithmetic
    assert forms.thresholds["days_to_next_due"] >= {1, 7, 15}
    row = {"dpd": 40, "days_to_next_due": None, "days_since_last_reached": 3,
           "days_since_last_visit": None}  # fmt: skip
    days = list(explain.change_days(default, row))
    assert 50 in days  # dpd 90: the home visit's rule
    assert len(days) < 40
    assert list(explain.change_days(arithmetic, row)) == list(range(1, explain.HORIZON_DAYS + 1))
    # Nothing overdue and no instalment ahead: nothing moves, nothing to look at.
    assert list(explain.change_days(default, row | {"dpd": 0})) == []
