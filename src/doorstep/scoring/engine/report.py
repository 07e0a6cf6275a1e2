"""The model report: figures as JSON and an HTML page with the plots as inline SVG (matplotlib,
no script, no network)."""

import html
import io
import json

import numpy as np

from doorstep.scoring.engine import metrics

COLUMNS = ("accounts", "bad_rate", "auc", "ks", "brier", "ece")


def report_figures(labels: np.ndarray, scores: np.ndarray, delinquent: np.ndarray) -> dict:
    labels = np.asarray(labels, dtype=np.float64)
    return {
        "all": metrics.summary(labels, scores),
        "delinquent": metrics.summary(labels[delinquent], scores[delinquent]),
        "calibration": metrics.calibration_curve(labels, scores),
        "gains": metrics.gains(labels, scores),
        "distribution": metrics.distribution(labels, scores),
    }


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _plots(figures: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plots = []
    fig, ax = plt.subplots(figsize=(4.2, 4))
    cal = figures["calibration"]
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1)
    ax.plot([c["mean_score"] for c in cal], [c["observed"] for c in cal], marker="o")
    ax.set(
        xlabel="mean score", ylabel="observed rate", title="Calibration", xlim=(0, 1), ylim=(0, 1)
    )
    plots.append(("Calibration", _svg(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.2, 4))
    gains = figures["gains"]
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1)
    ax.plot([0] + [g["share"] for g in gains], [0] + [g["bad_found"] for g in gains], marker="o")
    ax.set(xlabel="share of accounts, riskiest first", ylabel="share of bad accounts found",
           title="Gains", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    plots.append(("Gains", _svg(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4))
    dist = figures["distribution"]
    edges = np.array(dist["edges"])
    width = edges[1] - edges[0]
    ax.bar(edges[:-1], dist["good"], width=width, align="edge", alpha=0.6, label="good")
    ax.bar(edges[:-1], dist["bad"], width=width, align="edge", alpha=0.6, label="bad")
    ax.set(xlabel="score", ylabel="accounts", title="Score distribution")
    ax.legend()
    plots.append(("Score distribution", _svg(fig)))
    plt.close(fig)
    return plots


def render_html(title: str, about: dict, figures: dict) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(
            f"<td>{figures[name][k]}</td>"
            for k in ("accounts", "bad_rate", "auc", "ks", "brier", "ece")
        )
        + "</tr>"
        for name in ("all", "delinquent")
    )
    facts = "".join(
        f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in about.items()
    )
    plots = "".join(
        f"<figure>{svg}<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, svg in _plots(figures)
    )
    data = html.escape(json.dumps(figures, ensure_ascii=False))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}figure{{display:inline-block;
margin:1em}}dt{{font-weight:bold}}</style></head><body>
<h1>{html.escape(title)}</h1>
<dl>{facts}</dl>
<table><tr><th></th><th>accounts</th><th>bad rate</th><th>AUC</th><th>KS</th><th>Brier</th>
<th>ECE</th></tr>{rows}</table>
{plots}
<script type="application/json" id="figures">{data}</script>
</body></html>
"""
