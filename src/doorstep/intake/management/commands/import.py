"""doorstep import DIR [--report FILE]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from doorstep.audit.domain import record
from doorstep.intake.importer import ImportRejected, import_portfolio, write_report
from doorstep.intake.reading import Problems


class Command(BaseCommand):
    help = "Import a portfolio directory (regions, borrowers, accounts, instalments, payments, contacts, holds; CSV or Parquet). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--report", type=Path, help="write every problem found to this CSV file"
        )
        parser.add_argument("--by", default="import", help="who is importing (kept on every entry)")

    def handle(self, directory: Path, report: Path | None, by: str, **options):
        last = {}

        def progress(label: str, rows: int) -> None:
            if rows - last.get(label, 0) >= 500_000 or label not in last:
                last[label] = rows
                self.stderr.write(f"  {label}: {rows:,} rows")

        try:
            result = import_portfolio(directory, by=by, progress=progress)
        except ImportRejected as rejected:
            problems = rejected.problems
            for problem in problems.items[:20]:
                self.stderr.write(str(problem))
            if problems.count > 20:
                self.stderr.write(f"... and {problems.count - 20} more problems")
            if report:
                write_report(problems, report)
                self.stderr.write(f"every problem is listed in {report}")
            raise CommandError(
                f"import rejected: {problems.count} problems, nothing was written"
            ) from None
        # After the import's own transaction (importer.py owns it and would lose its SQLite
        # journal switch inside an outer one): a crash in between loses this entry, not data.
        record(
            "import.completed",
            actor=by,
            data={
                "directory": directory.resolve().name,
                "rows_read": result.rows_read,
                "rows_written": result.rows_written,
            },
        )
        rate = result.total_read / result.seconds if result.seconds else 0
        for name, seconds in result.seconds_by_file.items():
            if name not in result.rows_read:
                self.stdout.write(f"{name} {seconds:.1f} s")
        for name, read in result.rows_read.items():
            self.stdout.write(
                f"{name:12} {read:>12,} read {result.rows_written.get(name, 0):>12,} written "
                f"{result.seconds_by_file.get(name, 0):>7.1f} s"
            )
        self.stdout.write(
            f"imported {result.total_read:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if report:
            write_report(Problems(), report)
