"""The pure engine: metrics, monotonicity, reason codes, bands and recovery probabilities."""

import numpy as np
import pytest

from doorstep.ledger.engine.positions import bucket_for
from doorstep.scoring.engine import features, metrics, policy
from doorstep.scoring.engine.reasons import top_reasons


def test_metrics_on_a_small_exact_case():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])

    assert metrics.auc(labels, scores) == 0.75
    assert metrics.ks(labels, scores) == 0.5
    assert metrics.brier(labels, scores) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    # Bins [0.1) [0.3,0.4) [0.4,0.5) [0.8,0.9): |0.1-0| + |0.35-1| + |0.4-0| + |0.8-1|, each 1/4.
    assert metrics.ece(labels, scores) == pytest.approx((0.1 + 0.65 + 0.4 + 0.2) / 4)


def test_the_public_table_maps_onto_doorsteps_history():
    table = {name: np.array([0]) for name in ("LIMIT_BAL", "default.payment.next.month")}
    table |= {
        name: np.array([v])
        for name, v in zip(features.UCI_STATUS, [4, 3, -1, 0, -2, 1], strict=True)
    }
    table |= {f"BILL_AMT{k}": np.array([4000 * k]) for k in range(1, 7)}
    table |= {f"PAY_AMT{k}": np.array([400 * k]) for k in range(1, 7)}
    table["LIMIT_BAL"] = np.array([80000])

    inputs = features.uci_inputs(table)

    assert inputs["dpd"][0] == 120
    assert [inputs[f"hist_dpd_{k}"][0] for k in range(1, 6)] == [90, 0, 0, 0, 30]
    assert inputs["outstanding_cents"][0] == 100_000  # NT$4,000 = ¥1,000
    assert inputs["hist_outstanding_cents_5"][0] == 600_000
    assert inputs["hist_paid_cents_0"][0] == 10_000
    assert inputs["hist_scheduled_cents"][0] == 2_000_000
    row = dict(zip(features.NAMES, features.model_matrix(inputs)[0], strict=True))
    assert row["months_past_due"] == 4
    assert row["months_past_due_1"] == 3
    assert row["max_months_past_due"] == 4
    assert row["months_delinquent"] == 3


def test_days_become_months_as_buckets_do():
    assert features.months_past_due(np.array([0, 1, 30, 31, 60, 61, 120, 181])).tolist() == [
        0, 1, 1, 2, 2, 3, 4, 7,
    ]  # fmt: skip


def _history(dpd: int, behind: tuple[int, ...], **amounts) -> dict:
    inputs = {name: np.array([0]) for name in features.INPUTS}
    inputs["dpd"] = np.array([dpd])
    for k, days in enumerate(behind, start=1):
        inputs[f"hist_dpd_{k}"] = np.array([days])
    inputs["hist_scheduled_cents"] = np.array([1_200_000])
    owed = amounts.get("owed", 900_000)
    inputs["outstanding_cents"] = np.array([owed])
    for k in range(1, features.HISTORY):
        inputs[f"hist_outstanding_cents_{k}"] = np.array([owed])
    return inputs


def test_raising_days_past_due_never_lowers_the_score(public, public_model):
    """Over a grid of real accounts, every dpd now and every month of history, raised in steps
    of 30 days, gives a score at least as high (monotone constraints, Platt slope positive)."""
    assert public_model.platt[0] > 0
    rng = np.random.default_rng(5)
    sample = rng.choice(len(public.labels), 200, replace=False)
    for column in ("dpd", *(f"hist_dpd_{k}" for k in range(1, features.HISTORY))):
        scores = []
        for days in range(0, 270, 30):
            inputs = {name: values[sample] for name, values in public.inputs.items()}
            inputs[column] = np.full(len(sample), days)
            scores.append(public_model.predict(features.model_matrix(inputs)))
        steps = np.diff(np.column_stack(scores), axis=1)
        assert (steps >= 0).all(), column


def test_the_top_reason_of_an_account_120_days_behind_is_days_past_due(public_model):
    for behind in ((90, 60, 30, 0, 0), (0, 0, 0, 0, 0), (120, 120, 120, 120, 120)):
        matrix = features.model_matrix(_history(120, behind))

        reasons = top_reasons(public_model.contributions(matrix))[0]

        assert reasons[0].code == "dpd"
        assert reasons[0].en == "days past due"
        assert reasons[0].zh == "逾期天数"
        assert public_model.predict(matrix)[0] > 0.5


def test_bands_and_recovery_follow_the_configured_table():
    scores = policy.round_scores(np.array([0.1, 0.2, 0.4999999, 0.5, 0.97]))
    band = policy.bands(scores, low=0.2, high=0.5)
    bucket = policy.bucket_index(np.array([75, 61, 90, 30, 62]))
    table = {"M3": {"low": 0.05, "medium": 0.1, "high": 0.08}}

    with_visit, without = policy.recovery(scores, bucket, band, table)

    assert policy.band_names(band).tolist() == ["low", "medium", "high", "high", "high"]
    assert without.tolist() == [0.9, 0.8, 0.5, 0.5, 0.03]
    assert with_visit.tolist() == [0.95, 0.9, 0.58, 0.5, 0.11]
    assert str(policy.as_decimal(with_visit[4])) == "0.110000"


def test_buckets_are_the_ledgers():
    days = np.arange(0, 400)

    names = [policy.BUCKETS[i] for i in policy.bucket_index(days)]

    assert names == [bucket_for(int(d)) for d in days]
