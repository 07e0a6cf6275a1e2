"""Rule conditions: only whitelisted SQL is accepted, each refusal names the rule and where."""

from decimal import Decimal

import pytest

from doorstep.strategy.engine.rules import RuleError, evaluate, parse_condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dpd >= (SELECT 90)", "rule r1: a subquery is not allowed in a condition"),
        ("dpd IN (SELECT dpd FROM ledger_account)", "rule r1 (line 1, column 16): a subquery is not allowed in a condition"),
        ("EXISTS (SELECT 1)", "rule r1: a subquery is not allowed in a condition"),
        ("salary > 3", "rule r1 (line 1, column 1): unknown feature 'salary'"),
        ("a.dpd > 3", "rule r1 (line 1, column 3): qualified column a.dpd is not allowed"),
        ("UPPER(product) = 'X'", "rule r1 (line 1, column 1): function UPPER() is not allowed in a condition"),
        ("pg_sleep(10) IS NULL", "rule r1 (line 1, column 1): function PG_SLEEP() is not allowed in a condition"),
        ("dpd / 2 > 40", "rule r1 (line 1, column 1): division (compare products instead: a >= 2 * b) is not allowed in a condition"),
        ("CAST(dpd AS TEXT) = '1'", "rule r1 (line 1, column 6): a cast is not allowed in a condition"),
        ("product LIKE 'micro%'", "rule r1 (line 1, column 1): LIKE is not allowed in a condition"),
        ("dpd >=", "rule r1 (line 1, column 6): cannot parse: Required keyword: 'expression' missing for <class 'sqlglot.expressions.core.GTE'>"),
        ("product > 'a'", "rule r1 (line 1, column 1): text can only be compared with = or <> in product > 'a'"),
        ("dpd = 'ninety'", "rule r1 (line 1, column 1): cannot compare number with text in dpd = 'ninety'"),
        ("dpd + 1", "rule r1: the condition must be true or false, not dpd + 1"),
        ("dpd IS 3", "rule r1 (line 1, column 1): IS may only test for NULL"),
    ],
)  # fmt: skip
def test_forbidden_constructs_are_refused_with_rule_id_and_position(text, message):
    with pytest.raises(RuleError) as refused:
        parse_condition("r1", text)
    assert str(refused.value).startswith(message)


def test_a_multi_line_condition_reports_the_line():
    with pytest.raises(RuleError) as refused:
        parse_condition("home_visit.x", "dpd >= 90\n  AND income > 3")
    assert str(refused.value) == "rule home_visit.x (line 2, column 7): unknown feature 'income'"


def test_whitelisted_constructs_are_accepted_and_name_their_features():
    condition = parse_condition(
        "r1",
        "NOT hold_dispute AND dpd BETWEEN 31 AND 90 AND region_coverage IN ('in_house', 'agency')"
        " AND COALESCE(days_since_last_reached, 999) >= 30 - 2 * 1 AND risk_score IS NULL",
    )
    assert condition.features == {
        "hold_dispute", "dpd", "region_coverage", "days_since_last_reached", "risk_score",
    }  # fmt: skip
    assert condition.uses_model


ROW = {"dpd": 95, "overdue_amount": Decimal("3000.00"), "risk_band": None, "product": "instalment"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("dpd >= 90 AND overdue_amount >= 3000", True),
        ("overdue_amount >= 3000.01", False),
        ("risk_band = 'high'", None),  # NULL compares to NULL
        ("risk_band = 'high' AND dpd < 0", False),  # FALSE wins over NULL in AND
        ("risk_band = 'high' OR dpd > 0", True),  # TRUE wins over NULL in OR
        ("NOT (risk_band = 'high')", None),
        ("risk_band IS NULL", True),
        ("COALESCE(risk_band, 'low') = 'low'", True),
        ("product IN ('micro_loan', 'instalment')", True),
        ("dpd BETWEEN 96 AND 200", False),
        ("dpd - 5 = 90 AND -dpd < 0", True),
    ],
)
def test_python_evaluation_follows_sql_three_valued_logic(text, value):
    assert evaluate(parse_condition("r", text).tree, ROW) is value
