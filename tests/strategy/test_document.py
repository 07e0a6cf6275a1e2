"""Strategy documents: the shipped default loads; every problem in a bad one is reported."""

from pathlib import Path

import pytest

from doorstep.ledger.enums import HoldKind
from doorstep.strategy.engine.document import StrategyInvalid, load_strategy
from doorstep.strategy.engine.features import ARRANGEMENT_HOLD, FEATURES, HOLD_KINDS

DEFAULT = (Path(__file__).parents[2] / "src/doorstep/strategy/default.yaml").read_text()


def test_the_default_strategy_loads_with_the_ladder_of_domain_4():
    strategy = load_strategy(DEFAULT)
    assert [s.id for s in strategy.stages] == [
        "pre_due", "reminder", "phone", "home_visit", "legal", "suspended", "arrangement",
    ]  # fmt: skip
    assert [r.id for r in strategy.stage_rules("home_visit", gates=True)] == [
        "home_visit.coverage", "home_visit.no_visit_hold", "home_visit.caps",
        "home_visit.expected_value",
    ]  # fmt: skip


def test_hold_features_match_the_ledger_hold_kinds():
    assert {*HOLD_KINDS, ARRANGEMENT_HOLD} == set(HoldKind.values)
    assert {f"hold_{k}" for k in HOLD_KINDS} <= set(FEATURES)


def errors(text: str) -> list[str]:
    with pytest.raises(StrategyInvalid) as invalid:
        load_strategy(text)
    return invalid.value.errors


def test_bad_conditions_are_all_reported_with_their_rule_ids():
    text = DEFAULT.replace('when: "dpd >= 31"', 'when: "dpd >= (SELECT 31)"').replace(
        'when: "dpd BETWEEN 1 AND 30"', 'when: "days_overdue BETWEEN 1 AND 30"'
    )
    assert errors(text) == [
        "rule reminder.dpd_1_30 (line 1, column 1): unknown feature 'days_overdue'",
        "rule phone.dpd_31: a subquery is not allowed in a condition",
    ]


def test_structure_errors_name_the_place():
    assert errors(
        "name: x\nnone_reason: {en: a, zh: b}\nstages: []\narms: [{id: a, share: 50}]"
    ) == ["document: Value error, arm shares must add up to 100"]
    swapped = (
        DEFAULT.replace("  - id: reminder\n", "  - id: TMP\n")
        .replace("  - id: pre_due\n", "  - id: reminder\n")
        .replace("  - id: TMP\n", "  - id: pre_due\n")
    )
    assert errors(swapped) == [
        "document: Value error, ladder stages must come lowest first: pre_due, reminder, phone, "
        "home_visit, legal"
    ]
    assert errors(DEFAULT.replace("{days_to_next_due} days and", "{salary} days and"))[
        0
    ].startswith("stages.0.rules.0.reason.en: Value error, {salary} is not a feature")
    assert errors(DEFAULT.replace("cadence: daily", "cadence: hourly")) == [
        "stages.2.actions.0.cadence: String should match pattern '^(on_entry|daily|on_dpd)$'"
    ]


def test_yaml_errors_give_the_line():
    assert errors("name: [unclosed\n") == [
        "not valid YAML (line 2, column 1): expected ',' or ']', but got '<stream end>'"
    ]


def test_a_reason_that_quotes_a_threshold_the_condition_no_longer_has_is_refused():
    moved = DEFAULT.replace('when: "dpd >= 31"', 'when: "dpd >= 40"')

    assert errors(moved) == [
        "rule phone.dpd_31: its en reason quotes 31, a figure its condition does not contain; "
        "write the condition's figures, or show the account's with a {placeholder}",
        "rule phone.dpd_31: its zh reason quotes 31, a figure its condition does not contain; "
        "write the condition's figures, or show the account's with a {placeholder}",
    ]
    # Edited together, the text and the rule agree again.
    load_strategy(moved.replace("from day 31", "from day 40").replace("逾期31天起", "逾期40天起"))


def test_figures_may_come_from_the_features_the_condition_reads_and_chinese_units():
    # "30 days" is the window of refusals_30d; "3万元" is 30,000.
    assert "30天内拒绝沟通" in DEFAULT
    assert "3万元以上" in DEFAULT
    load_strategy(DEFAULT)
    lowered = DEFAULT.replace(
        "overdue_amount >= 30000 AND dpd >= 31", "overdue_amount >= 20000 AND dpd >= 31"
    )
    assert any("its zh reason quotes 3" in e for e in errors(lowered))
