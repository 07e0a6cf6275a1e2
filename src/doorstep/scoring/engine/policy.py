"""From a calibrated score to what the strategy reads: risk band and recovery probabilities.

- risk_score: probability that the account rolls to a deeper bucket (or defaults) without
  intervention.
- risk_band: low below `bands.low`, high at or above `bands.high`, medium between.
- p_recover_without_visit = 1 − risk_score: the account self-cures or keeps paying.
- p_recover_with_visit = p_without + uplift[bucket][band], capped at 1. **An assumption**: there
  is no experimental data on what a visit adds yet; the table is configured
  (DOORSTEP_SCORING["visit_uplift"]) and the strategy's arms record what is needed to measure it
  (docs/scoring.md).

Scores are rounded to 6 places, as the strategy stores them (DECIMAL(9, 6)), before the band and
the recovery probabilities are derived, so that SQL and Python read the same figures.
"""

from decimal import Decimal

import numpy as np

PLACES = 6
BANDS = ("low", "medium", "high")


def round_scores(scores: np.ndarray) -> np.ndarray:
    return np.round(np.clip(scores, 0.0, 1.0), PLACES)


def bands(scores: np.ndarray, *, low: float, high: float) -> np.ndarray:
    """Band per account as an index into BANDS: low below `low`, high from `high`."""
    return (scores >= low).astype(np.int8) + (scores >= high).astype(np.int8)


def band_names(band_index: np.ndarray) -> np.ndarray:
    return np.array(BANDS, dtype=object)[band_index]


# Buckets as in ledger.engine.positions.bucket_for: M0 is dpd 0, M1 1–30 … M6 151–180, M6+ beyond.
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+")
_BUCKET_EDGES = np.array([0, 30, 60, 90, 120, 150, 180])


def bucket_index(dpd: np.ndarray) -> np.ndarray:
    return np.searchsorted(_BUCKET_EDGES, np.asarray(dpd), side="left")


def uplift(bucket: np.ndarray, band: np.ndarray, table: dict) -> np.ndarray:
    """The configured uplift of a visit per account (bucket and band as indexes); 0 for a bucket
    or band the table lacks."""
    lookup = np.zeros((len(BUCKETS), len(BANDS)))
    for name, by_band in table.items():
        for band_name, value in by_band.items():
            lookup[BUCKETS.index(name), BANDS.index(band_name)] = value
    return lookup[bucket, band]


def recovery(
    scores: np.ndarray, bucket: np.ndarray, band: np.ndarray, table: dict
) -> tuple[np.ndarray, np.ndarray]:
    """(p_recover_with_visit, p_recover_without_visit), rounded like the scores."""
    without = np.round(1.0 - scores, PLACES)
    with_visit = np.round(np.minimum(without + uplift(bucket, band, table), 1.0), PLACES)
    return with_visit, without


def as_decimal(value: float) -> Decimal:
    """A rounded score as the Decimal the real-time path compares exactly."""
    return Decimal(f"{value:.{PLACES}f}")
