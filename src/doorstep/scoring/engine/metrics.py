"""How good a score is: ranking (AUC, KS), accuracy of the probabilities (Brier, ECE), and the
figures behind the report's plots (calibration, gains, distributions)."""

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

ECE_BINS = 10


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores))


def ks(labels: np.ndarray, scores: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the widest gap between the score distributions of the two classes."""
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.max(tpr - fpr))


def brier(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(np.mean((scores - labels) ** 2))


def _bins(scores: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over [0, 1]."""
    return np.minimum((scores * bins).astype(int), bins - 1)


def ece(labels: np.ndarray, scores: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: over equal-width score bins, the gap between the mean score
    and the observed rate, weighted by the bin's share of accounts."""
    which = _bins(scores, bins)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(scores[inside].mean() - labels[inside].mean())
    return float(total)


def calibration_curve(labels, scores, bins: int = ECE_BINS) -> list[dict]:
    which = _bins(scores, bins)
    return [
        {
            "bin": b,
            "accounts": int((which == b).sum()),
            "mean_score": round(float(scores[which == b].mean()), 4),
            "observed": round(float(labels[which == b].mean()), 4),
        }
        for b in range(bins)
        if (which == b).any()
    ]


def gains(labels, scores, steps: int = 10) -> list[dict]:
    """Cumulative share of the bad accounts found in the riskiest x% (the gains chart)."""
    order = np.argsort(-scores, kind="stable")
    found = np.cumsum(labels[order]) / max(labels.sum(), 1)
    rows = []
    for step in range(1, steps + 1):
        n = round(len(scores) * step / steps)
        rows.append({"share": step / steps, "bad_found": round(float(found[n - 1]), 4)})
    return rows


def distribution(labels, scores, bins: int = 20) -> dict:
    edges = np.linspace(0, 1, bins + 1)
    return {
        "edges": [round(float(e), 3) for e in edges],
        "good": np.histogram(scores[labels == 0], edges)[0].tolist(),
        "bad": np.histogram(scores[labels == 1], edges)[0].tolist(),
    }


def summary(labels: np.ndarray, scores: np.ndarray) -> dict:
    labels = np.asarray(labels, dtype=np.float64)
    return {
        "accounts": len(labels),
        "bad_rate": round(float(labels.mean()), 4),
        "auc": round(auc(labels, scores), 4),
        "ks": round(ks(labels, scores), 4),
        "brier": round(brier(labels, scores), 4),
        "ece": round(ece(labels, scores), 4),
    }


# --- intervals for outcome rates (the uplift report) --------------------------------------------

Z95 = 1.959964  # the standard normal's 97.5th percentile


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion (95 % by default); None without trials. Unlike the
    normal approximation it stays inside [0, 1] and is usable for small counts and rates near 0
    or 1, which a cohort of visited accounts per arm and band often is."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def ratio_interval(
    n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float, z: float = Z95
) -> tuple[float, float] | None:
    """Normal-approximation interval (95 % by default) for a ratio of sums R = Σy / Σx over n
    units — the linearisation (delta method) of survey sampling: the variance of R is that of
    the residuals y − R·x divided by n·x̄², and the residuals' sum of squares comes from the five
    sums alone (Σy² − 2R·Σxy + R²·Σx²), so the interval needs no row-level pass. Clipped to
    [0, 1] (recoveries are capped at what was overdue). None below two units or with Σx = 0."""
    if n < 2 or sx <= 0:
        return None
    ratio = sy / sx
    residual = max(syy - 2 * ratio * sxy + ratio * ratio * sxx, 0.0) / (n - 1)
    se = np.sqrt(residual / n) / (sx / n)
    return (max(0.0, float(ratio - z * se)), min(1.0, float(ratio + z * se)))
