"""The model registry: register, activate (audited, one at a time), refuse an altered artifact;
the commands list, activate and report."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from doorstep.audit.models import AuditEntry
from doorstep.scoring import domain
from doorstep.scoring.models import ScoringModel
from tests.scoring.conftest import PUBLIC_CSV, tiny_model

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _model_dir(settings, tmp_path):
    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}


def register(n: int = 1) -> ScoringModel:
    return domain.register_model(
        tiny_model(n), data="public-taiwan", data_sha256="ab" * 32, metrics={"auc": 0.5},
        by="analyst", at=AT,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_registered_model_is_a_file_and_a_row_inactive_until_activated():
    row = register()

    assert row.version == "public-taiwan-20261123-1"
    assert Path(row.artifact).read_text().startswith("tree")
    assert row.active is False
    assert row.features[0] == "months_past_due"
    assert set(row.calibration) == {"a", "b"}
    assert domain.active_model() is None
    assert AuditEntry.objects.filter(code="scoring.registered", obj_id=str(row.pk)).count() == 1


@pytest.mark.django_db
def test_activating_switches_the_one_active_model_and_is_audited():
    first, second = register(1), register(2)

    domain.activate_model(first.version, by="head of risk", at=AT)
    domain.activate_model(second.version, by="head of risk", at=AT)

    assert list(ScoringModel.objects.filter(active=True)) == [second]
    entries = AuditEntry.objects.filter(code="scoring.activated").order_by("seq")
    assert [json.loads(e.data) for e in entries] == [
        {"from": None, "to": first.version},
        {"from": first.version, "to": second.version},
    ]
    assert entries[1].actor == "head of risk"


@pytest.mark.django_db
def test_an_altered_artifact_is_refused_and_nothing_switches():
    row = register()
    Path(row.artifact).write_text(Path(row.artifact).read_text() + "\n")

    with pytest.raises(domain.ScoringError) as refused:
        domain.activate_model(row.version, by="x", at=AT)

    assert refused.value.code == "scoring.altered"
    assert ScoringModel.objects.filter(active=True).count() == 0
    assert AuditEntry.objects.filter(code="scoring.activated").count() == 0


@pytest.mark.django_db
def test_commands_list_activate_and_refuse_an_unknown_version(capsys):
    row = register()

    call_command("score", "activate", row.version, "--by", "risk")
    call_command("score", "list")
    with pytest.raises(CommandError, match="no scoring model nope"):
        call_command("score", "activate", "nope")

    out = capsys.readouterr().out
    assert f"{row.version} is active" in out
    assert f"* {row.version}  public-taiwan  AUC 0.5  by analyst" in out


@pytest.mark.django_db
def test_train_evaluate_and_report_commands_on_the_public_table(tmp_path, capsys):
    if not PUBLIC_CSV.exists():
        pytest.skip(f"the public UCI credit-default table is not at {PUBLIC_CSV}")
    row = domain.train_public_model(PUBLIC_CSV, by="analyst", at=AT, rounds=40)
    out = tmp_path / "report.html"

    call_command(
        "score", "report", row.version, "--public-data", str(PUBLIC_CSV), "--out", str(out)
    )
    call_command(
        "score",
        "evaluate",
        "--public-data",
        str(PUBLIC_CSV),
        "--folds",
        "2",
        "--rounds",
        "40",
        "--json",
    )

    page = out.read_text()
    assert page.count("<svg") == 3
    for heading in ("Calibration", "Gains", "Score distribution", "AUC", "KS", "Brier"):
        assert heading in page
    figures = json.loads(out.with_suffix(".json").read_text())
    assert figures["all"]["accounts"] == 30_000
    assert figures["delinquent"]["accounts"] == 6_818
    assert len(figures["gains"]) == 10
    assert figures["method"].startswith("5-fold stratified cross-validation")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert set(json.loads(last)) == {"auc", "ks", "brier", "ece", "auc_delinquent"}


def test_public_data_that_is_missing_or_short_of_columns_is_refused(tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("ID,LIMIT_BAL,PAY_0\n1,20000,2\n")

    with pytest.raises(domain.ScoringError) as absent:
        domain.read_public_data(tmp_path / "nowhere.csv")
    with pytest.raises(domain.ScoringError) as lacking:
        domain.read_public_data(short)

    assert absent.value.code == "scoring.no_data"
    assert lacking.value.code == "scoring.bad_data"
    assert "PAY_AMT6" in str(lacking.value)
