"""The done-when figures on the public table: 5-fold stratified cross-validation, seed
evaluate.SEED, every account scored by a model (booster and calibration) that never saw it."""

from doorstep.scoring.engine import evaluate


def test_cross_validated_figures_on_the_public_table(public):
    scores = evaluate.out_of_fold(public.matrix, public.labels)

    figures = evaluate.figures(public.labels, scores, public.delinquent)

    assert figures["accounts"] == 30_000
    assert figures["delinquent_accounts"] == 6_818
    assert figures["auc"] >= 0.78
    assert figures["ece"] <= 0.02
    assert figures["ks"] >= 0.42
    assert figures["brier"] <= 0.14
    assert figures["auc_delinquent"] >= 0.74
