"""doorstep snapshot --as-of DATE --out DIR: the nightly run's input as Parquet files."""

import getpass
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from doorstep.strategy import domain
from doorstep.strategy.snapshot import SnapshotInvalid


class Command(BaseCommand):
    help = (
        "Write the ledger snapshot the nightly run of a date reads (Parquet files and "
        "snapshot.json) for `nightly --snapshot DIR` (the spark engine, or duckdb)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, required=True)
        parser.add_argument("--out", type=Path, required=True, help="an empty or snapshot dir")
        parser.add_argument("--by", default=None, help="who runs it (default: the OS user)")

    def handle(self, as_of, out, by, **options):
        started = time.perf_counter()
        try:
            written = domain.take_snapshot(as_of, out=out, by=by or f"cli:{getpass.getuser()}")
        except SnapshotInvalid as error:
            raise CommandError(error.message) from None
        seconds = time.perf_counter() - started
        total = sum(written.rows.values())
        self.stdout.write(
            f"wrote the snapshot as of {as_of} to {out}: {total:,} rows in {seconds:.2f} s"
        )
        for name, rows in written.rows.items():
            self.stdout.write(f"  {name:<12} {rows:>12,}")
