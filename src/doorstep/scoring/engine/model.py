"""Train, calibrate and apply the collection score.

A LightGBM booster (gradient-boosted trees) with monotone constraints where the domain demands
them, then Platt scaling — a logistic curve over the booster's raw score — fitted on out-of-fold
predictions: the training rows are split in `calibration_folds`, a booster trained on the others
scores each part, and the curve is fitted on those scores, which no booster saw in training. The
booster that ships is then trained on all rows. Platt is strictly increasing, so it keeps the
booster's ranking (AUC, KS) and its reason codes; isotonic regression would flatten ties.
"""

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from doorstep.scoring.engine.features import MONOTONE, NAMES

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "lambda_l2": 10.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "monotone_constraints": list(MONOTONE),
    "monotone_constraints_method": "intermediate",
    "num_threads": 1,  # pytest -n 2 and a shared machine: OpenMP threads would fight
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = 300
CALIBRATION_FOLDS = 3


@dataclass
class Model:
    """A trained score: the booster, the Platt curve over its raw score, what it was fit with."""

    booster: lgb.Booster
    platt: tuple[float, float]  # p = 1 / (1 + exp(-(a * raw + b)))
    features: tuple[str, ...] = NAMES
    params: dict = field(default_factory=dict)

    compiled: object = None  # an lleaves.Model of the same booster, when compiled

    def raw(self, matrix: np.ndarray, *, threads: int = 0) -> np.ndarray:
        if self.compiled is not None:
            matrix = np.ascontiguousarray(matrix, dtype=np.float64)
            return self.compiled.predict(matrix, n_jobs=threads or None)
        return self.booster.predict(matrix, raw_score=True, num_threads=threads)

    def predict(self, matrix: np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Calibrated probability of rolling deeper (the public table: default next month)."""
        return platt(self.raw(matrix, threads=threads), self.platt)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per feature, its additive share of the raw score (SHAP values; the last column is the
        base value). Positive raises the risk."""
        return self.booster.predict(matrix, pred_contrib=True)

    def to_text(self) -> str:
        return self.booster.model_to_string()

    @classmethod
    def from_text(cls, text: str, platt_ab: tuple[float, float], params: dict) -> "Model":
        booster = lgb.Booster(model_str=text)
        return cls(booster, (float(platt_ab[0]), float(platt_ab[1])), tuple(NAMES), params)


def platt(raw: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    a, b = ab
    return 1.0 / (1.0 + np.exp(-(a * raw + b)))


def _booster(matrix, labels, params, rounds, seed) -> lgb.Booster:
    data = lgb.Dataset(matrix, labels, feature_name=list(NAMES), free_raw_data=True)
    return lgb.train({**params, "seed": seed}, data, num_boost_round=rounds)


def fit_platt(raw: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    curve = LogisticRegression(C=1e6, max_iter=1000)  # effectively unpenalised
    curve.fit(raw.reshape(-1, 1), labels)
    return float(curve.coef_[0, 0]), float(curve.intercept_[0])


def train(
    matrix: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int,
    params: dict | None = None,
    rounds: int = ROUNDS,
    calibration_folds: int = CALIBRATION_FOLDS,
) -> Model:
    """A calibrated model from a feature matrix (`features.model_matrix`) and 0/1 labels."""
    params = {**PARAMS, **(params or {})}
    labels = np.asarray(labels, dtype=np.int32)
    out_of_fold = np.zeros(len(labels))
    folds = StratifiedKFold(calibration_folds, shuffle=True, random_state=seed)
    for train_rows, held_rows in folds.split(matrix, labels):
        booster = _booster(matrix[train_rows], labels[train_rows], params, rounds, seed)
        out_of_fold[held_rows] = booster.predict(matrix[held_rows], raw_score=True)
    ab = fit_platt(out_of_fold, labels)
    booster = _booster(matrix, labels, params, rounds, seed)
    return Model(booster, ab, tuple(NAMES), {**params, "rounds": rounds, "seed": seed})


def compile_trees(model_file: str, cache: str):
    """The booster compiled to machine code by lleaves (LLVM), raw scores out, cached as a shared
    object at `cache` (compiled once per model, then loaded). About seven times LightGBM's own
    predict on this machine (docs/scoring.md). Written under a private name and moved into place,
    so that two processes compiling at once never load half a file."""
    import os
    import secrets

    import lleaves

    compiled = lleaves.Model(model_file=model_file)
    if os.path.exists(cache):
        compiled.compile(cache=cache, raw_score=True)
        return compiled
    draft = f"{cache}.{os.getpid()}.{secrets.token_hex(4)}"
    compiled.compile(cache=draft, raw_score=True)
    os.replace(draft, cache)
    return compiled
