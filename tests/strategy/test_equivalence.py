"""DuckDB on the snapshot, PostgreSQL in place, and the real-time path give the same features
and the same decision for every account (generated portfolios; hypothesis for the edge cases)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import assess_charges
from doorstep.ledger.models import Account, Hold
from doorstep.scoring.domain import activate_model, active_model, register_model
from doorstep.strategy import domain, queries, snapshot
from doorstep.strategy.engine.decide import decide
from doorstep.strategy.engine.featuresql import features_sql
from doorstep.synth import generate_portfolio
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)
DECISION = ("stage", "triggers", "blocked_by", "reasons_en", "reasons_zh", "arm")


def batch_rows(as_of: date, strategy) -> dict[str, dict]:
    db = domain.duckdb_decisions(as_of, strategy, snapshot.arrow_snapshot(as_of))
    cursor = db.execute("SELECT * FROM dec")
    names = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def postgres_rows(as_of: date) -> dict[str, dict]:
    """The in-place features, scored as the nightly run scores them when a model is active."""
    sql = features_sql(as_of, "postgres", sources=snapshot.source_ctes(as_of))
    model = active_model()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE nightly_features ON COMMIT DROP AS {sql}")
        if model is not None:
            domain._score_in_postgres(cursor, model)
        cursor.execute("SELECT * FROM nightly_features")
        names = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def assert_all_paths_agree(as_of: date) -> int:
    strategy = domain.compiled(domain.active_version())
    batch = batch_rows(as_of, strategy)
    in_place = postgres_rows(as_of) if connection.vendor == "postgresql" else None
    accounts = Account.objects.select_related("borrower__region").filter(pk__in=list(batch))
    differences = []
    for account in accounts:
        row = queries.account_features_row(account, as_of, strategy)
        decision = decide(strategy, row)
        got = batch[account.pk]
        features = {k: (v, got[k]) for k, v in row.items() if k in got and v != got[k]}
        python = (decision.stage, ",".join(decision.triggers) or None,
                  ",".join(decision.blocked_by) or None, decision.reasons_en,
                  decision.reasons_zh, decision.arm)  # fmt: skip
        sql = tuple(got[k] for k in DECISION)
        if in_place is not None:
            pg = in_place[account.pk]
            features |= {f"pg:{k}": (v, pg[k]) for k, v in row.items() if k in pg and v != pg[k]}
        if features or python != sql:
            differences.append((account.pk, features, python, sql))
    assert differences == []
    return len(batch)


@pytest.mark.django_db(transaction=True)
def test_a_generated_portfolio_decides_the_same_on_every_path(tmp_path):
    generate_portfolio(tmp_path, accounts=400, seed=11, as_of=AS_OF - timedelta(days=1))
    import_portfolio(tmp_path)
    assess_charges(AS_OF - timedelta(days=30))
    assess_charges(AS_OF)

    assert assert_all_paths_agree(AS_OF) > 300
    assert assert_all_paths_agree(AS_OF - timedelta(days=45)) > 250


@pytest.mark.django_db(transaction=True)
def test_scores_are_the_same_on_every_path(tmp_path, settings):
    """With a scoring model active: the same risk score, band and recovery probabilities from
    DuckDB, PostgreSQL in place and the real-time path, for the accounts in collections only."""
    from tests.scoring.conftest import tiny_model

    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}
    at = datetime(2026, 11, 20, tzinfo=UTC)
    row = register_model(tiny_model(), data="test", data_sha256="", metrics={}, by="t", at=at)
    activate_model(row.version, by="t", at=at)
    generate_portfolio(tmp_path, accounts=300, seed=12, as_of=AS_OF - timedelta(days=1))
    import_portfolio(tmp_path)
    assess_charges(AS_OF)

    assert assert_all_paths_agree(AS_OF) > 250
    batch = batch_rows(AS_OF, domain.compiled(domain.active_version()))
    scored = [r for r in batch.values() if r["risk_score"] is not None]
    assert scored
    assert all(r["dpd"] > 0 for r in scored)
    assert len(scored) == sum(1 for r in batch.values() if r["dpd"] > 0)
    assert {r["risk_band"] for r in scored} <= {"low", "medium", "high"}
    assert all(
        r["p_recover_without_visit"] == 1 - r["risk_score"]
        and r["p_recover_with_visit"] >= r["p_recover_without_visit"]
        for r in scored
    )


CHANNELS = ["sms", "app", "call", "call", "visit"]
OUTCOMES = ["delivered", "reached", "no_answer", "unreachable", "wrong_number", "refused",
            "promise_to_pay"]  # fmt: skip
HOLD_KINDS = ["dispute", "complaint", "cease_visit", "visit_declined", "deceased", "bankruptcy",
              "legal_action"]  # fmt: skip


@st.composite
def account_specs(draw):
    dpd = draw(st.sampled_from([0, 1, 30, 31, 60, 61, 89, 90, 179, 180]) | st.integers(0, 300))
    overdue_cents = 0 if dpd == 0 else draw(st.integers(1, 4_000_000))
    return {
        "dpd": dpd,
        "overdue_cents": overdue_cents,
        "due_in": draw(st.none() | st.integers(0, 6)),
        "region": draw(st.sampled_from(["440305", "650102", "654002"])),
        "auto_debit": draw(st.booleans()),
        # Payments as a share of what is overdue, so none is more than is owed.
        "payments": draw(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 40)), max_size=3)),
        "contacts": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 70),
                    st.sampled_from(CHANNELS),
                    st.sampled_from(OUTCOMES),
                    st.integers(-10, 40),
                    st.integers(0, 23),
                ),
                max_size=6,
            )
        ),
        # An arrangement's hold (opened by the arrangements app, never imported): days ago.
        "arrangement": draw(st.none() | st.integers(0, 40)),
        "holds": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(HOLD_KINDS),
                    st.integers(0, 60),
                    st.none() | st.integers(-30, 30),
                ),
                max_size=2,
                unique_by=lambda h: (h[0], h[1]),
            )
        ),
    }


EXAMPLES = iter(range(10**6))


@pytest.mark.django_db(transaction=True)
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(account_specs(), min_size=1, max_size=12))
def test_edge_cases_decide_the_same_on_every_path(tmp_path, specs):
    example = next(EXAMPLES)
    p = Portfolio(AS_OF, prefix=f"E{example}-")
    for n, spec in enumerate(specs):
        account_id = f"E{example}-{n}"
        overdue = Decimal(spec["overdue_cents"]) / 100
        p.account(account_id, overdue=f"{overdue:.2f}", dpd=spec["dpd"], due_in=spec["due_in"],
                  region=spec["region"], auto_debit=spec["auto_debit"])  # fmt: skip
        budget = spec["overdue_cents"]
        for days_ago, share in spec["payments"]:
            amount = budget * share // 100
            if amount > 0 and days_ago < spec["dpd"]:
                budget -= amount
                paid_at = f"{(AS_OF - timedelta(days=days_ago)).isoformat()}T09:30:00+08:00"
                p.pay(account_id, f"{Decimal(amount) / 100:.2f}", paid_at)
        for days_ago, channel, drawn, ptp_in, hour in spec["contacts"]:
            if channel in ("sms", "app"):
                outcome = "delivered"  # a message can only be delivered
            else:
                outcome = "no_answer" if drawn == "delivered" else drawn
            ptp = outcome == "promise_to_pay"
            p.contact(account_id, days_ago, channel, outcome,
                      "300.00" if ptp else "", (AS_OF + timedelta(days=ptp_in)).isoformat() if ptp else "")  # fmt: skip
            at = p.contacts[-1]
            p.contacts[-1] = (at[0], at[1], at[2].replace("T11:", f"T{hour:02d}:"), *at[3:])
        for kind, since_ago, until_in in spec["holds"]:
            until = None if until_in is None else AS_OF + timedelta(days=until_in)
            if until is None or until >= AS_OF - timedelta(days=since_ago):
                p.hold(account_id, kind, since_days_ago=since_ago, until=until)
    import_portfolio(p.write(tmp_path / f"e{example}"))
    for n, spec in enumerate(specs):
        if spec["arrangement"] is not None:
            since = AS_OF - timedelta(days=spec["arrangement"])
            Hold.objects.create(account_id=f"E{example}-{n}", kind="arrangement", since=since)
    assess_charges(AS_OF)

    assert_all_paths_agree(AS_OF)
