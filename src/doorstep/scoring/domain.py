"""Write operations of the collection score: train and register a model, activate one, and score
a set of accounts with the active model (the nightly run and the real-time path both call
`score_inputs`)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from django.conf import settings
from django.db import transaction

from doorstep.audit.domain import record
from doorstep.scoring.engine import evaluate, features, policy
from doorstep.scoring.engine.model import Model, compile_trees, train
from doorstep.scoring.engine.reasons import Reason, top_reasons
from doorstep.scoring.models import ScoringModel

PUBLIC_TAIWAN = "public-taiwan"
LEDGER = "ledger"


def public_csv() -> Path:
    """Where the public table is (DOORSTEP_SCORING["public_data"]; by default ../shared beside
    the clone)."""
    return Path(settings.DOORSTEP_SCORING["public_data"])


class ScoringError(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PublicData:
    inputs: dict[str, np.ndarray]
    labels: np.ndarray
    sha256: str

    @property
    def matrix(self) -> np.ndarray:
        return features.model_matrix(self.inputs)

    @property
    def delinquent(self) -> np.ndarray:
        return features.delinquent(self.inputs)


def read_public_data(path: Path) -> PublicData:
    """The UCI table from its CSV, as history inputs and labels."""
    if not path.exists():
        raise ScoringError(f"no public data at {path}", code="scoring.no_data")
    table = pacsv.read_csv(path)
    missing = set(features.UCI_COLUMNS) - set(table.column_names)
    if missing:
        raise ScoringError(f"{path} lacks {sorted(missing)}", code="scoring.bad_data")
    columns = {name: table.column(name).to_numpy() for name in table.column_names}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PublicData(features.uci_inputs(columns), columns[features.UCI_LABEL], digest)


def _model_dir() -> Path:
    path = Path(settings.DOORSTEP_SCORING["model_dir"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def register_model(
    model: Model, *, data: str, data_sha256: str, metrics: dict, by: str, at: datetime
) -> ScoringModel:
    """Store a trained model: its booster as a file under the model dir, the rest as a row.
    Side effects: the file, a ScoringModel row (inactive), an audit entry (scoring.registered)."""
    text = model.to_text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic():
        count = ScoringModel.objects.select_for_update().filter(data=data).count()
        version = f"{data}-{at:%Y%m%d}-{count + 1}"
        while ScoringModel.objects.filter(version=version).exists():
            count += 1
            version = f"{data}-{at:%Y%m%d}-{count + 1}"
        artifact = _model_dir() / f"{version}.txt"
        artifact.write_text(text)
        created = ScoringModel.objects.create(
            version=version,
            data=data,
            data_sha256=data_sha256,
            features=list(model.features),
            parameters=model.params,
            calibration={"a": model.platt[0], "b": model.platt[1]},
            metrics=metrics,
            artifact=str(artifact),
            sha256=digest,
            created_by=by,
            created_at=at,
        )
        record(
            "scoring.registered",
            actor=by,
            obj=created,
            at=at,
            data={"version": version, "data": data, "sha256": digest, "metrics": metrics},
        )
    return created


def train_public_model(
    path: Path, *, by: str, at: datetime, rounds: int | None = None, evaluate_folds: int = 0
) -> ScoringModel:
    """Train on the public table and register the model. With `evaluate_folds`, the registry
    row carries cross-validated figures (else the out-of-fold figures of the calibration)."""
    public = read_public_data(path)
    matrix, labels = public.matrix, public.labels
    kwargs = {"rounds": rounds} if rounds else {}
    metrics = {}
    if evaluate_folds:
        scores = evaluate.out_of_fold(matrix, labels, folds=evaluate_folds, **kwargs)
        metrics = {
            **evaluate.figures(labels, scores, public.delinquent),
            "folds": evaluate_folds,
            "seed": evaluate.SEED,
        }
    model = train(matrix, labels, seed=evaluate.SEED, **kwargs)
    return register_model(
        model, data=PUBLIC_TAIWAN, data_sha256=public.sha256, metrics=metrics, by=by, at=at
    )


def history_sha256(month: np.ndarray, inputs: dict[str, np.ndarray], labels: np.ndarray) -> str:
    """A digest of a training history (months, inputs in INPUTS order, labels): the same ledger
    as of the same date gives the same digest."""
    digest = hashlib.sha256()
    for values in (month, *(inputs[name] for name in features.INPUTS), labels):
        digest.update(np.ascontiguousarray(values, dtype=np.int64).tobytes())
    return digest.hexdigest()


def train_ledger_model(
    *,
    month: np.ndarray,
    month_ends: tuple,
    inputs: dict[str, np.ndarray],
    labels: np.ndarray,
    by: str,
    at: datetime,
    rounds: int | None = None,
) -> ScoringModel:
    """Train on doorstep's own account-months (`strategy.history.ledger_history`) and register
    the model (data "ledger"). Time-ordered: the model trains on every month but the latest and
    is measured on the latest, which it never saw (AUC, KS, Brier, ECE; AUC on the accounts
    behind); the registered booster is that one, so its figures are out of time."""
    month = np.asarray(month)
    labels = np.asarray(labels)
    if len(month_ends) < 2 or len(labels) == 0:
        raise ScoringError(
            "training on the ledger needs at least two months of history",
            code="scoring.short_history",
        )
    held = month == len(month_ends) - 1
    learn = ~held
    if len(np.unique(labels[learn])) < 2 or len(np.unique(labels[held])) < 2:
        raise ScoringError(
            "the ledger's history has no roll, or nothing but rolls, to learn from",
            code="scoring.constant_label",
        )
    matrix = features.model_matrix(inputs)
    kwargs = {"rounds": rounds} if rounds else {}
    model = train(matrix[learn], labels[learn], seed=evaluate.SEED, **kwargs)
    scores = model.predict(matrix[held])
    held_inputs = {name: values[held] for name, values in inputs.items()}
    metrics = {
        **evaluate.figures(labels[held], scores, features.delinquent(held_inputs)),
        "method": "time-ordered: trained on the earlier month-ends, measured on the latest",
        "train_months": [d.isoformat() for d in month_ends[:-1]],
        "holdout_month": month_ends[-1].isoformat(),
        "train_rows": int(learn.sum()),
        "train_roll_rate": round(float(labels[learn].mean()), 4),
        "holdout_roll_rate": round(float(labels[held].mean()), 4),
        "seed": evaluate.SEED,
    }
    return register_model(
        model,
        data=LEDGER,
        data_sha256=history_sha256(month, inputs, labels),
        metrics=metrics,
        by=by,
        at=at,
    )


def activate_model(version: str, *, by: str, at: datetime) -> ScoringModel:
    """Make `version` the active score (the nightly run and real-time path use it from then on).
    Side effects: the previously active row deactivated, this one activated; an audit entry
    (scoring.activated: from and to version)."""
    with transaction.atomic():
        chosen = ScoringModel.objects.select_for_update().filter(version=version).first()
        if chosen is None:
            raise ScoringError(f"no scoring model {version}", code="scoring.unknown_model")
        load_model(chosen)  # refuse an artifact that is missing or altered before switching
        previous = ScoringModel.objects.select_for_update().filter(active=True).first()
        if previous is not None and previous.pk == chosen.pk:
            return chosen
        if previous is not None:
            ScoringModel.objects.filter(pk=previous.pk).update(active=False)
        ScoringModel.objects.filter(pk=chosen.pk).update(active=True, activated_at=at)
        record(
            "scoring.activated",
            actor=by,
            obj=chosen,
            at=at,
            data={"from": previous.version if previous else None, "to": chosen.version},
        )
        chosen.refresh_from_db()
        return chosen


def deactivate_models(*, by: str, at: datetime) -> int:
    """No score at all: the strategy's rules reading it are skipped again. Audited."""
    with transaction.atomic():
        previous = ScoringModel.objects.select_for_update().filter(active=True).first()
        if previous is None:
            return 0
        ScoringModel.objects.filter(pk=previous.pk).update(active=False)
        record("scoring.deactivated", actor=by, obj=previous, at=at, data={})
        return 1


def active_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(active=True).first()


def load_model(row: ScoringModel) -> Model:
    """The booster of a registry row, read once per process (keyed by the artifact's digest)."""
    return _load(row.artifact, row.sha256, json.dumps(row.calibration), json.dumps(row.parameters))


@lru_cache(maxsize=4)
def _load(artifact: str, sha256: str, calibration: str, parameters: str) -> Model:
    path = Path(artifact)
    if not path.exists():
        raise ScoringError(f"the model file {artifact} is missing", code="scoring.no_artifact")
    text = path.read_text()
    if hashlib.sha256(text.encode()).hexdigest() != sha256:
        raise ScoringError(f"the model file {artifact} was altered", code="scoring.altered")
    ab = json.loads(calibration)
    model = Model.from_text(text, (ab["a"], ab["b"]), json.loads(parameters))
    if settings.DOORSTEP_SCORING["compiled"]:
        model.compiled = compile_trees(artifact, f"{path.with_suffix('')}.{sha256[:16]}.so")
    return model


# --- scoring ----------------------------------------------------------------------------------

SCORE_COLUMNS = ("risk_score", "risk_band", "p_recover_with_visit", "p_recover_without_visit")


def score_inputs(row: ScoringModel, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Score accounts from their history inputs (arrays named as `features.INPUTS`): risk score,
    band and recovery probabilities, each rounded as the strategy stores them."""
    config = settings.DOORSTEP_SCORING
    model = load_model(row)
    matrix = features.model_matrix(inputs)
    scores = policy.round_scores(model.predict(matrix, threads=config["threads"]))
    band = policy.bands(scores, **config["bands"])
    bucket = policy.bucket_index(inputs["dpd"])
    with_visit, without = policy.recovery(scores, bucket, band, config["visit_uplift"])
    return {
        "risk_score": scores,
        "risk_band": policy.band_names(band),
        "p_recover_with_visit": with_visit,
        "p_recover_without_visit": without,
    }


def scores_table(row: ScoringModel, features_table: pa.Table) -> pa.Table:
    """The scores of a feature table (the nightly run's accounts in collections) as Arrow:
    account_id and the four score columns. Probabilities are float64 already rounded to 6
    places: the SQL that joins them casts to DECIMAL(9, 6), which is exact for such values."""
    inputs = {name: features_table.column(name).to_numpy() for name in features.INPUTS}
    if features_table.num_rows:
        scored = score_inputs(row, inputs)
    else:
        empty = np.zeros(0)
        scored = dict.fromkeys(SCORE_COLUMNS, empty)
    return pa.table(
        {
            "account_id": features_table.column("account_id"),
            **{name: pa.array(scored[name]) for name in SCORE_COLUMNS if name != "risk_band"},
            "risk_band": pa.array(scored["risk_band"].tolist(), pa.string()),
        }
    )


def score_row(row: ScoringModel, features_row: dict) -> dict:
    """One account's score columns (Decimals and text), as the real-time path needs them."""
    scored = score_inputs(row, {name: np.array([features_row[name]]) for name in features.INPUTS})
    return {
        "risk_score": policy.as_decimal(scored["risk_score"][0]),
        "risk_band": str(scored["risk_band"][0]),
        "p_recover_with_visit": policy.as_decimal(scored["p_recover_with_visit"][0]),
        "p_recover_without_visit": policy.as_decimal(scored["p_recover_without_visit"][0]),
    }


def score_reasons(row: ScoringModel, features_row: dict, *, limit: int = 3) -> list[Reason]:
    """Why one account scores as it does: up to `limit` reason groups that raise its risk, the
    strongest first, with zh/en text (for explain, the console and the portal)."""
    inputs = {name: np.array([features_row[name]]) for name in features.INPUTS}
    contributions = load_model(row).contributions(features.model_matrix(inputs))
    return top_reasons(contributions, limit=limit)[0]
