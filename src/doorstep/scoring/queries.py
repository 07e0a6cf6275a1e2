"""Reads of the collection score: evaluation and reports on the public table."""

from pathlib import Path

from doorstep.scoring.domain import read_public_data
from doorstep.scoring.engine import evaluate, report
from doorstep.scoring.engine.model import PARAMS, ROUNDS
from doorstep.scoring.models import ScoringModel


def evaluate_public(path: Path, *, folds: int, seed: int, rounds: int = ROUNDS) -> dict:
    """Stratified `folds`-fold cross-validation of the shipped recipe on the public table."""
    public = read_public_data(path)
    scores = evaluate.out_of_fold(
        public.matrix, public.labels, folds=folds, seed=seed, rounds=rounds
    )
    return evaluate.figures(public.labels, scores, public.delinquent)


def model_report(row: ScoringModel, path: Path) -> tuple[str, dict]:
    """(HTML, figures) for a model. The shipped booster saw every row of the public table, so its
    figures come from 5-fold cross-validation of the same recipe (parameters, rounds, seed):
    no account is scored by a booster that trained on it."""
    public = read_public_data(path)
    params = {k: v for k, v in row.parameters.items() if k not in ("rounds", "seed")}
    rounds = row.parameters.get("rounds", ROUNDS)
    seed = row.parameters.get("seed", evaluate.SEED)
    scores = evaluate.out_of_fold(
        public.matrix, public.labels, seed=seed, rounds=rounds, params={**PARAMS, **params}
    )
    figures = report.report_figures(public.labels, scores, public.delinquent)
    figures["method"] = f"{evaluate.FOLDS}-fold stratified cross-validation, seed {seed}"
    about = {
        "model": row.version,
        "data": f"{row.data} ({path.name}, sha256 {row.data_sha256[:12]}…)",
        "trained": f"{row.created_at:%Y-%m-%d %H:%M} by {row.created_by}",
        "figures from": figures["method"],
        "features": ", ".join(row.features),
        "calibration": f"Platt a={row.calibration['a']:.4f} b={row.calibration['b']:.4f}",
    }
    return report.render_html(f"Collection score {row.version}", about, figures), figures
