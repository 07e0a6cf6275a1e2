"""doorstep score train|evaluate|activate|deactivate|list|report: the collection score's registry."""

import getpass
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.scoring import domain, queries
from doorstep.scoring.engine import evaluate
from doorstep.scoring.models import ScoringModel


class Command(BaseCommand):
    help = "Train, evaluate, activate, list and report collection-score models."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a model and register it (inactive)")
        train.add_argument("--data", choices=[domain.PUBLIC_TAIWAN], default=domain.PUBLIC_TAIWAN)
        train.add_argument("--csv", type=Path, default=None)
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

    def handle(self, action, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except domain.ScoringError as error:
            raise CommandError(str(error)) from None

    def _train(self, data, csv, by, activate, evaluate, **_):
        by = by or getpass.getuser()
        csv = csv or domain.public_csv()
        self.stdout.write(f"training on {csv} …")
        row = domain.train_public_model(
            csv, by=by, at=timezone.now(), evaluate_folds=5 if evaluate else 0
        )
        self.stdout.write(f"registered {row.version} ({row.artifact})")
        if row.metrics:
            self.stdout.write(json.dumps(row.metrics))
        if activate:
            domain.activate_model(row.version, by=by, at=timezone.now())
            self.stdout.write(f"{row.version} is active")

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
        out = out or Path(row.artifact).with_suffix(".html")
        html, figures = queries.model_report(row, public_data)
        out.write_text(html, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
        self.stdout.write(f"wrote {out} and {out.with_suffix('.json')}")
        self.stdout.write(json.dumps(figures["all"]))
