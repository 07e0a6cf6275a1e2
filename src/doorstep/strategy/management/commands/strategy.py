"""doorstep strategy validate|publish|show|history|diff: manage the escalation strategy."""

import getpass
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from doorstep.strategy import domain
from doorstep.strategy.engine.document import STAGES, StrategyInvalid, load_strategy
from doorstep.strategy.models import StrategyVersion


def _text(ref: str) -> str:
    """A file path, `name@version`, or `active`."""
    if ref == "active":
        return domain.active_version().document
    if "@" in ref and not Path(ref).exists():
        name, _, version = ref.partition("@")
        found = StrategyVersion.objects.filter(name=name, version=version).first()
        if found is None:
            raise CommandError(f"no strategy version {ref}")
        return found.document
    path = Path(ref)
    if not path.exists():
        raise CommandError(f"no file {ref}")
    return path.read_text(encoding="utf-8")


def _load(ref: str):
    try:
        return load_strategy(_text(ref))
    except StrategyInvalid as error:
        raise CommandError(f"{ref}:\n  " + "\n  ".join(error.errors)) from None


class Command(BaseCommand):
    help = "Validate, publish, show or compare escalation strategies."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("validate", help="check a strategy file").add_argument("file")
        publish = sub.add_parser("publish", help="store a file as the next version")
        publish.add_argument("file")
        publish.add_argument("--author", default=None)
        publish.add_argument("--note", default="")
        show = sub.add_parser("show", help="print a version (default: the active one)")
        show.add_argument("ref", nargs="?", default="active")
        sub.add_parser("history", help="every published version")
        diff = sub.add_parser("diff", help="from→to stage matrix of two strategies on a date")
        diff.add_argument("old")
        diff.add_argument("new")
        diff.add_argument("--as-of", type=date.fromisoformat, required=True)

    def handle(self, action, **options):
        getattr(self, f"_{action}")(**options)

    def _validate(self, file, **_):
        strategy = _load(file)
        self.stdout.write(
            f"{file}: valid ({len(strategy.rules)} rules and gates in "
            f"{len(strategy.stages)} stages)"
        )

    def _publish(self, file, author, note, **_):
        try:
            version = domain.publish_strategy(
                _text(file), by=author or f"cli:{getpass.getuser()}", note=note
            )
        except StrategyInvalid as error:
            raise CommandError(f"{file}:\n  " + "\n  ".join(error.errors)) from None
        self.stdout.write(f"published {version.label} by {version.author}")
        if version.diff:
            self.stdout.write(version.diff)

    def _show(self, ref, **_):
        self.stdout.write(_text(ref))

    def _history(self, **_):
        for v in StrategyVersion.objects.order_by("name", "version"):
            self.stdout.write(f"{v.label:<24} {v.created_at:%Y-%m-%d %H:%M} {v.author}  {v.note}")

    def _diff(self, old, new, as_of, **_):
        matrix = domain.strategy_impact(as_of, _load(old), _load(new))
        stages = [s for s in STAGES if any(s in pair for pair in matrix)]
        width = max(len(s) for s in stages) + 2
        self.stdout.write(f"accounts by stage, {old} (rows) → {new} (columns), as of {as_of}")
        self.stdout.write(" " * width + "".join(f"{s:>{width}}" for s in stages))
        for a in stages:
            cells = "".join(f"{matrix.get((a, b), 0):>{width},}" for b in stages)
            self.stdout.write(f"{a:<{width}}{cells}")
        moved = sum(n for (a, b), n in matrix.items() if a != b)
        self.stdout.write(f"{moved:,} of {sum(matrix.values()):,} accounts change stage")
