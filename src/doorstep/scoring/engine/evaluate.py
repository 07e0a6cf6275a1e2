"""Cross-validation: every account is scored by a model that never saw it."""

import numpy as np
from sklearn.model_selection import StratifiedKFold

from doorstep.scoring.engine import metrics
from doorstep.scoring.engine.model import ROUNDS, train

FOLDS = 5
SEED = 20261123


def out_of_fold(
    matrix: np.ndarray,
    labels: np.ndarray,
    *,
    folds: int = FOLDS,
    seed: int = SEED,
    rounds: int = ROUNDS,
    params: dict | None = None,
) -> np.ndarray:
    """Calibrated scores from `folds`-fold stratified cross-validation (shuffled with `seed`):
    each fold is scored by a model (booster and calibration) trained on the other folds."""
    scores = np.zeros(len(labels))
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in splits.split(matrix, labels):
        model = train(
            matrix[train_rows], labels[train_rows], seed=seed, rounds=rounds, params=params
        )
        scores[test_rows] = model.predict(matrix[test_rows])
    return scores


def figures(labels: np.ndarray, scores: np.ndarray, delinquent: np.ndarray) -> dict:
    """The done-when figures: AUC, KS, Brier and ECE on every account, AUC on the accounts
    already behind (roll vs self-cure)."""
    labels = np.asarray(labels, dtype=np.float64)
    overall = metrics.summary(labels, scores)
    return {
        "auc": overall["auc"],
        "ks": overall["ks"],
        "brier": overall["brier"],
        "ece": overall["ece"],
        # Undefined when the accounts behind are all of one kind (a small or young ledger).
        "auc_delinquent": round(metrics.auc(labels[delinquent], scores[delinquent]), 4)
        if len(np.unique(labels[delinquent])) == 2
        else None,
        "accounts": overall["accounts"],
        "delinquent_accounts": int(delinquent.sum()),
    }
