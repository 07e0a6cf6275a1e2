"""Training the score on doorstep's own ledger: the account-months and their labels, set-based per
month-end, and a model trained on the earlier months, measured on the latest and registered with
its data source."""

import json
from datetime import date, timedelta

import numpy as np
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from doorstep.intake.importer import import_portfolio
from doorstep.scoring.domain import LEDGER, ScoringError, train_ledger_model
from doorstep.scoring.models import ScoringModel
from doorstep.strategy.history import ledger_history, month_ends
from doorstep.synth.portfolio import generate_portfolio
from tests.arrangements.conftest import local
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _model_dir(settings, tmp_path):
    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}


def paid_at(day: date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


@pytest.fixture
def histories(tmp_path):
    """Four accounts whose every month-end is known (as_of − 60 and as_of − 30):

    ROLL  ¥5,000 due as_of − 100, never paid: dpd 40 → 70 → 100, rolls each month.
    CURE  ¥2,000 due as_of − 50, paid as_of − 10; ¥500 due as_of + 10: not yet due at − 60 and
          overdue by − 30 (rolls M0 → M1), then paid before the next month-end (no roll).
    PAID  ¥800 due as_of − 20, paid as_of − 10 (settles): no roll, and gone once settled.
    DEEP  ¥5,000 due as_of − 250, never paid: beyond 180 days and further behind (rolls).
    """
    p = Portfolio(AS_OF)
    p.account("ROLL", overdue="5000.00", dpd=100)
    p.account("CURE", overdue="2000.00", dpd=50, due_in=10)
    p.pay("CURE", "2000.00", paid_at(AS_OF - timedelta(days=10)))
    p.account("PAID")  # the builder's settled account: ¥800 due − 20, paid − 10
    p.account("DEEP", overdue="5000.00", dpd=250)
    import_portfolio(p.write(tmp_path / "p"))


@pytest.mark.django_db(transaction=True)
def test_account_months_carry_the_inputs_and_whether_the_account_rolled(histories):
    history = ledger_history(AS_OF, months=2)

    assert history.month_ends == (AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    got = {
        (int(m), str(a)): (int(dpd), int(label))
        for m, a, dpd, label in zip(
            history.month, history.account, history.inputs["dpd"], history.labels, strict=True
        )
    }
    assert got == {
        (0, "CURE"): (0, 1),
        (0, "DEEP"): (190, 1),
        (0, "PAID"): (0, 0),
        (0, "ROLL"): (40, 1),
        (1, "CURE"): (20, 0),
        (1, "DEEP"): (220, 1),
        (1, "PAID"): (0, 0),
        (1, "ROLL"): (70, 1),
    }
    roll = (history.month == 1) & (history.account == "ROLL")
    assert history.inputs["hist_dpd_1"][roll].tolist() == [40]
    assert history.inputs["hist_scheduled_cents"][roll].tolist() == [500_000]
    assert history.inputs["outstanding_cents"][roll].tolist() == [500_000]


def test_month_ends_step_back_thirty_days_oldest_first():
    assert month_ends(AS_OF, 3) == [date(2026, 8, 22), date(2026, 9, 21), date(2026, 10, 21)]


@pytest.fixture
def synthetic_ledger(tmp_path):
    """2,000 accounts of the demo generator as of AS_OF."""
    generate_portfolio(tmp_path / "synth", accounts=2000, seed=7, as_of=AS_OF)
    import_portfolio(tmp_path / "synth")


@pytest.mark.django_db(transaction=True)
def test_a_model_trained_on_the_ledger_is_measured_on_the_latest_month_and_registered(
    synthetic_ledger,
):
    history = ledger_history(AS_OF, months=6)
    rolled = history.labels.mean()
    assert 0.05 < rolled < 0.6  # neither constant nor all rolls

    row = train_ledger_model(
        month=history.month, month_ends=history.month_ends, inputs=history.inputs,
        labels=history.labels, by="analyst", at=local(AS_OF), rounds=30,
    )  # fmt: skip

    assert row.data == LEDGER
    assert row.version == "ledger-20261120-1"
    assert len(row.data_sha256) == 64
    assert row.active is False
    held = history.month == 5
    assert row.metrics["accounts"] == int(held.sum())
    assert row.metrics["holdout_month"] == history.month_ends[-1].isoformat()
    assert row.metrics["train_rows"] == int((~held).sum())
    assert row.metrics["train_months"] == [d.isoformat() for d in history.month_ends[:-1]]
    assert 0.7 < row.metrics["auc"] < 0.99  # learnable, not trivial
    assert 0.6 < row.metrics["auc_delinquent"] < 0.99


@pytest.mark.django_db(transaction=True)
def test_the_command_trains_on_the_ledger_as_of_a_date(synthetic_ledger, capsys):
    with time_machine.travel(local(AS_OF + timedelta(days=1))):
        call_command(
            "score", "train", "--data", "ledger", "--as-of", "2026-11-20", "--months", "4",
            "--rounds", "20", "--by", "analyst",
        )  # fmt: skip

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "account-months of the ledger: 4 month-ends before 2026-11-20 …"
    assert out[2] == "registered ledger-20261121-1 (" + ScoringModel.objects.get().artifact + ")"
    figures = json.loads(out[3])
    assert figures["holdout_month"] == "2026-10-21"
    assert ScoringModel.objects.get().data == "ledger"


@pytest.mark.django_db
def test_too_short_or_constant_a_history_is_refused():
    inputs = {"dpd": np.array([0, 1])}
    with pytest.raises(ScoringError) as short:
        train_ledger_model(
            month=np.array([0, 0]), month_ends=(AS_OF,), inputs=inputs, labels=np.array([0, 1]),
            by="a", at=local(AS_OF),
        )  # fmt: skip
    assert short.value.code == "scoring.short_history"
    with pytest.raises(ScoringError) as constant:
        train_ledger_model(
            month=np.array([0, 1]), month_ends=(AS_OF, AS_OF), inputs=inputs,
            labels=np.array([0, 0]), by="a", at=local(AS_OF),
        )  # fmt: skip
    assert constant.value.code == "scoring.constant_label"
    assert not ScoringModel.objects.exists()


@pytest.mark.django_db
def test_train_on_the_ledger_without_decisions_asks_for_a_date():
    with pytest.raises(CommandError, match="give --as-of"):
        call_command("score", "train", "--data", "ledger")
