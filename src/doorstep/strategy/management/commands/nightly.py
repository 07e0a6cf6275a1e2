"""doorstep nightly --as-of DATE [--engine duckdb|postgres|spark] [--snapshot DIR]
[--spark-master URL] [--strategy FILE] [--dry-run] [--enqueue]"""

import getpass
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from doorstep.strategy import domain, tasks
from doorstep.strategy.engine.document import StrategyInvalid, load_strategy
from doorstep.strategy.enums import Engine
from doorstep.strategy.models import StrategyVersion
from doorstep.strategy.snapshot import SnapshotInvalid


class Command(BaseCommand):
    help = "Decide every account's collection stage as of a date and plan the actions due."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, required=True)
        parser.add_argument(
            "--engine",
            choices=[Engine.DUCKDB, Engine.POSTGRES, Engine.SPARK],
            default=Engine.DUCKDB,
        )
        parser.add_argument(
            "--snapshot",
            type=Path,
            help="read this Parquet snapshot (`doorstep snapshot`) instead of the database",
        )
        parser.add_argument(
            "--spark-master",
            help="Spark master URL (default: DOORSTEP_SPARK_MASTER, else local[2])",
        )
        parser.add_argument("--strategy", type=Path, help="a strategy file (published first)")
        parser.add_argument("--dry-run", action="store_true", help="decide, write nothing")
        parser.add_argument("--by", default=None, help="who runs it (default: the OS user)")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="hand the run to the background worker (doorstep db_worker) and return",
        )

    def handle(
        self, as_of, engine, snapshot, spark_master, strategy, dry_run, by, enqueue, **options
    ):
        by = by or f"cli:{getpass.getuser()}"
        if enqueue:
            if dry_run or strategy is not None:
                raise CommandError("--enqueue runs the active strategy for real: no --dry-run, "
                                   "no --strategy")  # fmt: skip
            if engine == Engine.POSTGRES and connection.vendor != "postgresql":
                raise CommandError("the postgres engine runs in place: DATABASE_URL must name "
                                   "PostgreSQL")  # fmt: skip
            if engine == Engine.SPARK:
                raise CommandError("--enqueue runs duckdb or postgres; run the spark engine with "
                                   "its --snapshot directly")  # fmt: skip
            queued = tasks.nightly.enqueue(as_of.isoformat(), engine=engine, by=by)
            self.stdout.write(f"nightly run as of {as_of} enqueued: task {queued.id}")
            return
        version = None
        if strategy is not None:
            text = strategy.read_text(encoding="utf-8")
            try:
                if dry_run:
                    name = load_strategy(text).document.name
                    version = StrategyVersion(pk=0, name=name, version=0, document=text)
                else:
                    version = domain.publish_strategy(
                        text, by=by, note=f"nightly --strategy {strategy}"
                    )
            except StrategyInvalid as error:
                raise CommandError(f"{strategy}: " + "\n  ".join(error.errors)) from None
        try:
            result = domain.run_nightly(
                as_of,
                engine=engine,
                by=by,
                version=version,
                dry_run=dry_run,
                snapshot_dir=snapshot,
                spark_master=spark_master,
            )
        except SnapshotInvalid as error:
            raise CommandError(error.message) from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        verb = "would decide" if dry_run else "decided"
        self.stdout.write(
            f"{verb} {result.accounts:,} accounts as of {as_of} with {result.strategy} on "
            f"{result.engine} in {result.seconds:.2f} s; {result.actions:,} actions due"
        )
        for stage, count in sorted(result.stages.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {stage:<12} {count:>10,}")
