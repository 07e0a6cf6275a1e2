"""The score in the nightly run: accounts in collections get a score and band, every decision
names the model in force, and re-evaluating one account gives the same figures."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from doorstep.intake.importer import import_portfolio
from doorstep.scoring.domain import activate_model, register_model
from doorstep.strategy import domain
from doorstep.strategy.models import Decision
from tests.scoring.conftest import tiny_model
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def engines():
    return ["duckdb", "postgres"] if connection.vendor == "postgresql" else ["duckdb"]


@pytest.fixture
def model(settings, tmp_path):
    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}
    row = register_model(tiny_model(), data="test", data_sha256="", metrics={}, by="t", at=AT)
    return activate_model(row.version, by="t", at=AT)


@pytest.fixture
def portfolio(tmp_path):
    p = Portfolio(AS_OF)
    p.account("LATE", overdue="5000.00", dpd=95)
    p.account("EARLY", overdue="600.00", dpd=3)
    p.account("CURRENT", due_in=10)
    import_portfolio(p.write(tmp_path / "p"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_night_scores_accounts_in_collections_and_records_the_model(model, portfolio, engine):
    if engine not in engines():
        pytest.skip("the postgres engine runs in place on PostgreSQL only")

    domain.run_nightly(AS_OF, engine=engine, by="night")

    decisions = {d.account_id: d for d in Decision.objects.filter(as_of=AS_OF)}
    assert {d.model_id for d in decisions.values()} == {model.pk}
    assert decisions["CURRENT"].risk_score is None
    assert decisions["CURRENT"].risk_band is None
    for account in ("LATE", "EARLY"):
        assert 0 < decisions[account].risk_score < 1
        assert decisions[account].risk_band in ("low", "medium", "high")
    assert decisions["LATE"].risk_score > decisions["EARLY"].risk_score

    night = {a: (d.risk_score, d.risk_band) for a, d in decisions.items()}
    for account in decisions:
        now = domain.reevaluate_account(account, at=AT, by="t")
        assert (now.risk_score, now.risk_band) == night[account]
        assert now.model_id == model.pk


@pytest.mark.django_db(transaction=True)
def test_without_an_active_model_nothing_is_scored(portfolio):
    domain.run_nightly(AS_OF, by="night")

    assert set(Decision.objects.values_list("model_id", "risk_score", "risk_band")) == {
        (None, None, None)
    }


@pytest.mark.django_db(transaction=True)
def test_an_account_in_collections_has_reasons_for_its_score(model, portfolio):
    from doorstep.ledger.models import Account
    from doorstep.scoring.domain import score_reasons
    from doorstep.strategy import queries

    strategy = domain.compiled(domain.active_version())
    account = Account.objects.select_related("borrower__region").get(pk="LATE")
    row = queries.account_features_row(account, AS_OF, strategy)

    reasons = score_reasons(model, row)

    assert 1 <= len(reasons) <= 3
    assert all(r.weight > 0 and r.en and r.zh for r in reasons)
    assert [r.weight for r in reasons] == sorted((r.weight for r in reasons), reverse=True)
