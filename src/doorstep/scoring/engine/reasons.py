"""Reason codes: why the score is what it is, in words an operator and a borrower can read.

LightGBM's `pred_contrib` splits each account's raw score into one additive share per feature
(SHAP values for trees). Features that speak for the same thing (the six months of delinquency
history, the balances, the payments) are summed into one reason group, and the groups that raise
the risk most come first.
"""

from dataclasses import dataclass

import numpy as np

from doorstep.scoring.engine.features import FEATURES, REASONS


@dataclass(frozen=True)
class Reason:
    code: str  # a key of features.REASONS
    weight: float  # share of the raw score (log-odds); positive raises the risk
    en: str
    zh: str


def reason_groups(contributions: np.ndarray) -> list[dict[str, float]]:
    """Per account (a row of `Model.contributions`), the summed contribution of each group."""
    groups: list[dict[str, float]] = []
    for row in np.atleast_2d(contributions):
        summed: dict[str, float] = {}
        for feature, value in zip(FEATURES, row[: len(FEATURES)], strict=True):
            summed[feature.reason] = summed.get(feature.reason, 0.0) + float(value)
        groups.append(summed)
    return groups


def top_reasons(contributions: np.ndarray, *, limit: int = 3) -> list[list[Reason]]:
    """Per account, up to `limit` groups that raise the risk, the strongest first."""
    out = []
    for summed in reason_groups(contributions):
        raising = sorted(((code, w) for code, w in summed.items() if w > 0), key=lambda cw: -cw[1])[
            :limit
        ]
        out.append(
            [Reason(code, round(w, 4), REASONS[code][0], REASONS[code][1]) for code, w in raising]
        )
    return out
