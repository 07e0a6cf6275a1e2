"""doorstep generate DIR --accounts N [--seed S] [--as-of DATE] [--format csv|parquet]"""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from doorstep.synth import generate_portfolio, last_closed_day


class Command(BaseCommand):
    help = "Write a deterministic synthetic portfolio in the import format."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--accounts", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help=(
                "the day the portfolio stands at, YYYY-MM-DD (default: yesterday's close in "
                "DOORSTEP_TIME_ZONE, or the day before while a region's yesterday is still "
                "running: Asia/Urumqi's ends at 02:00 Shanghai time). A portfolio as of today "
                "holds payments later than now, which the import refuses; the default can be "
                "imported at once, at any time of day"
            ),
        )
        parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
        parser.add_argument("--instalments", type=int, default=None,
                            help="instalments per account (default: a mix by product)")  # fmt: skip

    def handle(self, directory, accounts, seed, as_of, format, instalments, **options):
        as_of = as_of or last_closed_day(timezone.now(), settings.TIME_ZONE)
        directory.mkdir(parents=True, exist_ok=True)
        counts = generate_portfolio(
            directory, accounts=accounts, seed=seed, as_of=as_of, fmt=format,
            instalments=instalments,
            progress=lambda done, total: self.stderr.write(f"  {done:,}/{total:,} accounts"),
        )  # fmt: skip
        self.stdout.write(f"wrote {counts.rows:,} rows as of {as_of} to {directory}: {counts}")
