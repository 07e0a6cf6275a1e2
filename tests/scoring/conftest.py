"""The public data and one model trained on it, once per test session.

The CSV is read from ../shared/datasets/uci-credit-default/ beside the repository (where the
developers' machines and CI keep the shared data); tests that need it skip when it is absent.
"""

from pathlib import Path

import numpy as np
import pytest

from doorstep.scoring.engine import evaluate
from doorstep.scoring.engine.model import train

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_CSV = (ROOT / "../shared/datasets/uci-credit-default/UCI_Credit_Card.csv").resolve()


@pytest.fixture(scope="session")
def public():
    from doorstep.scoring.domain import read_public_data

    if not PUBLIC_CSV.exists():
        pytest.skip(f"the public UCI credit-default table is not at {PUBLIC_CSV}")
    return read_public_data(PUBLIC_CSV)


@pytest.fixture(scope="session")
def public_model(public):
    """The shipped recipe trained on every row (what `doorstep score train` registers)."""
    return train(public.matrix, public.labels, seed=evaluate.SEED)


@pytest.fixture(scope="session")
def small_public_model(public):
    """The shipped recipe with few rounds, on every row: enough for the reasons' tests."""
    return train(public.matrix, public.labels, seed=evaluate.SEED, rounds=60)


def tiny_model(seed: int = 1):
    """A small model on synthetic history (no public data needed): for registry and nightly
    tests, where what matters is that a model exists, not how good it is."""
    from doorstep.scoring.engine import features

    rng = np.random.default_rng(seed)
    n = 2000
    dpd = rng.integers(0, 200, n)
    inputs = {name: rng.integers(0, 500_000, n) for name in features.INPUTS}
    inputs["dpd"] = dpd
    for k in range(1, features.HISTORY):
        inputs[f"hist_dpd_{k}"] = np.maximum(dpd - 30 * k, 0)
    labels = (rng.random(n) < 0.1 + 0.6 * (dpd / 200)).astype(int)
    return train(features.model_matrix(inputs), labels, seed=seed, rounds=20)
