"""The decision compiled to SQL and the decision evaluated in Python agree on any features,
NULLs, overrides and arms included (hypothesis over feature rows, DuckDB as the SQL engine)."""

from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from doorstep.strategy.engine.actions import priority_of, priority_sql
from doorstep.strategy.engine.decide import decide, decisions_sql
from doorstep.strategy.engine.document import load_strategy
from doorstep.strategy.engine.features import FEATURES, HOLD_KINDS

DEFAULT = (Path(__file__).parents[2] / "src/doorstep/strategy/default.yaml").read_text()
EXPERIMENT = DEFAULT.replace(
    "arms:\n  - id: champion\n    share: 100\n",
    "arms:\n  - id: champion\n    share: 70\n  - id: early_visit\n    share: 30\n",
).replace(
    '        when: "dpd >= 90 AND overdue_amount >= 3000"\n',
    '        when: "dpd >= 90 AND overdue_amount >= 3000"\n'
    "        overrides:\n"
    '          - {arm: early_visit, when: "dpd >= 60 AND overdue_amount >= 3000"}\n'
    '          - {product: credit_card, region: "650102", when: "dpd >= 120 AND overdue_amount >= 5000"}\n'
    "          - {product: micro_loan, when: \"risk_band = 'high' AND dpd >= 45\"}\n",
)
STRATEGIES = [load_strategy(DEFAULT), load_strategy(EXPERIMENT)]
SQL_TYPES = {"int": "INTEGER", "money": "DECIMAL(18, 2)", "bool": "BOOLEAN", "text": "VARCHAR",
             "score": "DECIMAL(9, 6)"}  # fmt: skip

RARELY = st.sampled_from([False, False, False, False, True])
money = st.integers(0, 6_000_000).map(lambda c: Decimal(c) / 100)
score = st.none() | st.integers(0, 1_000_000).map(lambda v: Decimal(v) / 1_000_000)


@st.composite
def feature_rows(draw):
    dpd = draw(
        st.sampled_from([0, 1, 7, 8, 30, 31, 60, 61, 89, 90, 179, 180, 181]) | st.integers(0, 400)
    )
    overdue = (
        Decimal(0)
        if dpd == 0
        else draw(
            money | st.sampled_from([Decimal("2999.99"), Decimal("3000.00"), Decimal("30000.00")])
        )
    )
    scored = draw(st.booleans())
    row = {
        "dpd": dpd,
        "bucket": "M0",
        "overdue_amount": overdue,
        "outstanding": overdue + draw(money),
        "product": draw(st.sampled_from(["micro_loan", "instalment", "credit_card"])),
        "region_code": draw(st.sampled_from(["440305", "650102", "654002"])),
        "region_coverage": draw(st.sampled_from(["in_house", "agency", "none"])),
        "auto_debit": draw(st.booleans()),
        "days_to_next_due": draw(st.none() | st.integers(0, 40)),
        "lost_contact": draw(st.booleans()),
        "days_since_last_reached": draw(st.none() | st.integers(0, 90)),
        "refusals_30d": draw(st.integers(0, 5)),
        "broken_ptp_30d": draw(st.integers(0, 3)),
        "ptp_active": draw(st.booleans()),
        "arrangement_active": draw(st.booleans()),
        **{f"hold_{k}": draw(RARELY) for k in HOLD_KINDS},
        "visits_30d": draw(st.integers(0, 3)),
        "days_since_last_visit": draw(st.none() | st.integers(0, 40)),
        "times_cured": draw(st.integers(0, 5)),
        "risk_score": draw(score) if scored else None,
        "risk_band": draw(st.sampled_from(["low", "medium", "high"])) if scored else None,
        "p_recover_with_visit": draw(score) if scored else None,
        "p_recover_without_visit": draw(score) if scored else None,
        "arm_bucket": draw(st.integers(0, 99)),
        "previous_stage": draw(st.sampled_from(["none", "phone", "home_visit"])),
    }
    return row


def sql_decisions(strategy, rows):
    db = duckdb.connect()
    columns = [f"{name} {SQL_TYPES[f.kind]}" for name, f in FEATURES.items()]
    db.execute(
        "CREATE TABLE features (account_id VARCHAR, arm_bucket INTEGER, previous_stage VARCHAR, "
        + ", ".join(columns)
        + ")"
    )
    names = ["account_id", "arm_bucket", "previous_stage", *FEATURES]
    marks = ", ".join("?" * len(names))
    insert = f"INSERT INTO features ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
    db.executemany(insert, [[row[n] for n in names] for row in rows])
    compiled = decisions_sql(strategy, "features", "duckdb")
    wanted = "account_id, stage, triggers, blocked_by, reasons_en, reasons_zh, arm"
    result = db.execute(f"SELECT {wanted} FROM ({compiled}) d").fetchall()  # noqa: S608
    return {r[0]: r[1:] for r in result}


@given(st.lists(feature_rows(), min_size=1, max_size=25), st.sampled_from([0, 1]))
def test_sql_and_python_decisions_agree(rows, which):
    strategy = STRATEGIES[which]
    for n, row in enumerate(rows):
        row["account_id"] = f"A{n}"
        row["arm"] = strategy.arm_for(row["arm_bucket"])
    got = sql_decisions(strategy, rows)
    for row in rows:
        d = decide(strategy, row)
        python = (d.stage, ",".join(d.triggers) or None, ",".join(d.blocked_by) or None,
                  d.reasons_en, d.reasons_zh, d.arm)  # fmt: skip
        assert got[row["account_id"]] == python, row


def test_an_arm_override_changes_the_threshold_for_that_arm_only():
    strategy = STRATEGIES[1]
    base = dict.fromkeys(FEATURES) | {
        "account_id": "A", "dpd": 70, "overdue_amount": Decimal("5000.00"),
        "outstanding": Decimal("5000.00"), "product": "instalment", "region_code": "440305",
        "region_coverage": "in_house", "auto_debit": False, "lost_contact": False,
        "refusals_30d": 0, "broken_ptp_30d": 0, "ptp_active": False, "arrangement_active": False,
        "visits_30d": 0, "times_cured": 0, "previous_stage": "phone",
        **{f"hold_{k}": False for k in HOLD_KINDS},
    }  # fmt: skip
    champion = decide(strategy, base | {"arm_bucket": 10, "arm": strategy.arm_for(10)})
    challenger = decide(strategy, base | {"arm_bucket": 80, "arm": strategy.arm_for(80)})
    assert (champion.arm, champion.stage) == ("champion", "phone")
    assert (challenger.arm, challenger.stage) == ("early_visit", "home_visit")


def test_the_call_queues_priority_is_the_same_in_sql_and_python():
    """engine.actions: what the nightly SQL stores on a planned action and what the real-time
    path stores, across every risk weight's edges and large amounts."""
    cases = [(dpd, cents) for dpd in (0, 1, 30, 31, 60, 61, 90, 91, 400)
             for cents in (0, 1, 9, 299_999, 10**12)]  # fmt: skip
    db = duckdb.connect()
    db.execute("CREATE TABLE d (dpd INTEGER, overdue_cents BIGINT)")
    db.executemany("INSERT INTO d VALUES (?, ?)", cases)
    select = f"SELECT dpd, overdue_cents, {priority_sql('d')} FROM d"  # noqa: S608 - constants
    got = db.execute(select).fetchall()
    assert got == [(dpd, cents, priority_of(dpd, cents)) for dpd, cents in cases]
    assert priority_of(31, 10) == 50
    assert priority_of(91, 10) == 90
