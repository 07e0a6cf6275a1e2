"""doorstep score train|evaluate|activate|deactivate|list|report|uplift-report: the collection
score's registry, and what the strategy's arms show about visits.

The command sits in the strategy app, above scoring: training on the ledger reads the strategy's
feature pass (`strategy.history`) and the uplift report its decisions (`strategy.uplift`), and the
scoring app knows nothing of strategies (import-linter's layers)."""

import getpass
import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.money import yuan_display
from doorstep.scoring import domain, queries
from doorstep.scoring.engine import evaluate
from doorstep.scoring.models import ScoringModel
from doorstep.strategy import uplift
from doorstep.strategy.history import ledger_history


class Command(BaseCommand):
    help = "Train, evaluate, activate, list and report collection-score models."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a model and register it (inactive)")
        train.add_argument(
            "--data", choices=[domain.PUBLIC_TAIWAN, domain.LEDGER], default=domain.PUBLIC_TAIWAN
        )
        train.add_argument(
            "--csv", type=Path, default=None, help="the public table (public-taiwan)"
        )
        train.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="ledger: the history's last day (default: the latest nightly decision's date)",
        )
        train.add_argument(
            "--months", type=int, default=12, help="ledger: month-ends of history (30-day steps)"
        )
        train.add_argument("--rounds", type=int, default=None, help="boosting rounds")
        train.add_argument("--by", default=None)
        train.add_argument("--activate", action="store_true", help="and make it the active one")
        train.add_argument(
            "--evaluate", action="store_true", help="store 5-fold cross-validated figures too"
        )
        ev = sub.add_parser("evaluate", help="stratified cross-validation on the public table")
        ev.add_argument("--public-data", type=Path, default=None)
        ev.add_argument("--folds", type=int, default=evaluate.FOLDS)
        ev.add_argument("--seed", type=int, default=evaluate.SEED)
        ev.add_argument("--json", action="store_true")
        ev.add_argument("--rounds", type=int, default=None, help="boosting rounds (a quick look)")
        act = sub.add_parser("activate", help="make a model the active score (audited)")
        act.add_argument("version")
        act.add_argument("--by", default=None)
        off = sub.add_parser("deactivate", help="no active score (audited)")
        off.add_argument("--by", default=None)
        sub.add_parser("list", help="every registered model")
        rep = sub.add_parser("report", help="HTML and JSON report of a model on the public table")
        rep.add_argument("version")
        rep.add_argument("--public-data", type=Path, default=None)
        rep.add_argument("--out", type=Path, default=None, help="HTML file (JSON beside it)")
        up = sub.add_parser(
            "uplift-report",
            help="cure and recovery after a home visit was decided, per arm and risk band",
        )
        up.add_argument("--since", type=date.fromisoformat, default=None)
        up.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="read outcomes up to this day (default: the latest nightly decision's date)",
        )
        up.add_argument("--days", type=int, default=30, help="the outcome window N (days)")
        up.add_argument("--json", action="store_true", help="one JSON object on the last line")

    def handle(self, action, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except domain.ScoringError as error:
            raise CommandError(str(error)) from None

    def _train(self, data, csv, by, activate, evaluate, as_of, months, rounds, **_):
        by = by or getpass.getuser()
        if data == domain.LEDGER:
            row = self._train_on_ledger(as_of, months, rounds, by)
        else:
            csv = csv or domain.public_csv()
            self.stdout.write(f"training on {csv} …")
            row = domain.train_public_model(
                csv, by=by, at=timezone.now(), rounds=rounds, evaluate_folds=5 if evaluate else 0
            )
        self.stdout.write(f"registered {row.version} ({row.artifact})")
        if row.metrics:
            self.stdout.write(json.dumps(row.metrics))
        if activate:
            domain.activate_model(row.version, by=by, at=timezone.now())
            self.stdout.write(f"{row.version} is active")

    def _train_on_ledger(self, as_of, months, rounds, by) -> ScoringModel:
        as_of = as_of or uplift.latest_decision_date()
        if as_of is None:
            raise CommandError("no nightly decision yet: give --as-of")
        self.stdout.write(f"account-months of the ledger: {months} month-ends before {as_of} …")
        history = ledger_history(as_of, months=months)
        self.stdout.write(
            f"{history.rows:,} account-months, {int(history.labels.sum()):,} rolled "
            f"({history.month_ends[0]} … {history.month_ends[-1]}; the latest is held out)"
        )
        return domain.train_ledger_model(
            month=history.month,
            month_ends=history.month_ends,
            inputs=history.inputs,
            labels=history.labels,
            by=by,
            at=timezone.now(),
            rounds=rounds,
        )

    def _evaluate(self, public_data, folds, seed, json, rounds, **_):
        import json as json_module

        public_data = public_data or domain.public_csv()
        figures = queries.evaluate_public(
            public_data, folds=folds, seed=seed, **({"rounds": rounds} if rounds else {})
        )
        if not json:
            self.stdout.write(
                f"{folds}-fold stratified cross-validation, seed {seed}, "
                f"{figures['accounts']:,} accounts ({figures['delinquent_accounts']:,} behind)"
            )
        keys = ("auc", "ks", "brier", "ece", "auc_delinquent")
        self.stdout.write(json_module.dumps({k: figures[k] for k in keys}))

    def _activate(self, version, by, **_):
        row = domain.activate_model(version, by=by or getpass.getuser(), at=timezone.now())
        self.stdout.write(f"{row.version} is active")

    def _deactivate(self, by, **_):
        count = domain.deactivate_models(by=by or getpass.getuser(), at=timezone.now())
        self.stdout.write("no active model" if count else "no model was active")

    def _list(self, **_):
        for row in ScoringModel.objects.order_by("created_at"):
            auc = row.metrics.get("auc", "—")
            mark = "*" if row.active else " "
            self.stdout.write(
                f"{mark} {row.version}  {row.data}  AUC {auc}  by {row.created_by} "
                f"at {row.created_at:%Y-%m-%d %H:%M}"
            )

    def _report(self, version, public_data, out, **_):
        public_data = public_data or domain.public_csv()
        row = ScoringModel.objects.filter(version=version).first()
        if row is None:
            raise CommandError(f"no scoring model {version}")
        if row.data != domain.PUBLIC_TAIWAN:
            raise CommandError(
                f"{version} was trained on {row.data}: its out-of-time figures are in the "
                "registry (score list; the row's metrics), the report is the public table's"
            )
        out = out or Path(row.artifact).with_suffix(".html")
        html, figures = queries.model_report(row, public_data)
        out.write_text(html, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
        self.stdout.write(f"wrote {out} and {out.with_suffix('.json')}")
        self.stdout.write(json.dumps(figures["all"]))

    def _uplift_report(self, since, as_of, days, json, **_):
        import json as json_module

        as_of = as_of or uplift.latest_decision_date()
        if as_of is None:
            raise CommandError("no nightly decision yet")
        since = since or date(as_of.year - 1, as_of.month, 1)
        report = uplift.uplift_report(since=since, as_of=as_of, days=days)
        self.stdout.write(
            f"Accounts entering the home-visit stage (or proposed a visit) {report.since} … "
            f"{report.until}; outcomes within {report.days} days, read to {report.as_of}"
        )
        self.stdout.write(
            "cure: settled, back to 0 days past due, or paid what was overdue (Wilson 95% CI); "
            "recovery: paid within the window, capped at what was overdue, over what was "
            "overdue (normal approximation of the ratio, 95% CI)"
        )
        header = (
            f"{'arm':<14}{'band':<8}{'accounts':>9}{'cured':>7}  {'cure rate (95% CI)':<22}"
            f"{'overdue':>16}{'recovered':>16}  recovery (95% CI)"
        )
        self.stdout.write(header)
        for g in report.groups:
            self.stdout.write(
                f"{g.arm:<14}{g.band:<8}{g.accounts:>9}{g.cured:>7}  "
                f"{_rate(g.cure_rate, g.cure_ci):<22}{yuan_display(g.overdue_cents):>16}"
                f"{yuan_display(g.recovered_cents):>16}  {_rate(g.recovery_rate, g.recovery_ci)}"
            )
        if not report.groups:
            self.stdout.write("(no account entered the stage in that window)")
        if report.pending:
            self.stdout.write(
                f"{report.pending} more entered after {report.until}: not yet counted"
            )
        if json:
            self.stdout.write(json_module.dumps(report.as_json(), ensure_ascii=False))


def _rate(rate, interval) -> str:
    if rate is None:
        return "—"
    if interval is None:
        return f"{rate:.1%}"
    return f"{rate:.1%} ({interval[0]:.1%}–{interval[1]:.1%})"
