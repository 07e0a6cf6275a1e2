"""doorstep bench NAME [--json] ...: run a benchmark and print its figures."""

import importlib
import json

from django.core.management.base import BaseCommand

BENCHMARKS = ("ledger", "nightly", "compliance", "routing", "dashboards", "load")


class Command(BaseCommand):
    help = "Run a benchmark (ledger, nightly, compliance, routing, dashboards, load). With --json the figures are one JSON object on the last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="benchmark", required=True)
        for name in BENCHMARKS:
            module = importlib.import_module(f"doorstep.benchmarks.{name}")
            bench = sub.add_parser(name, help=(module.__doc__ or "").splitlines()[0])
            bench.add_argument("--json", action="store_true", dest="as_json")
            module.add_arguments(bench)

    def handle(self, benchmark, as_json, **options):
        module = importlib.import_module(f"doorstep.benchmarks.{benchmark}")
        quiet = bool(options.get("worker"))
        figures = module.run(options, out=(lambda text: None) if quiet else self.stderr.write)
        if as_json:
            self.stdout.write(json.dumps(figures, default=str))
        else:
            self.stdout.write(json.dumps(figures, indent=2, default=str))
        if isinstance(figures, dict) and figures.get("failures"):
            # A benchmark that counts failures (bench load: failed requests) fails after its
            # figures are out.
            raise SystemExit(1)
