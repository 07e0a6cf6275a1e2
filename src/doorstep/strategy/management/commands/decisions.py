"""doorstep decisions --as-of DATE --format csv|json|parquet [--out FILE]"""

import csv
import json
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.management.base import BaseCommand, CommandError

from doorstep.strategy.queries import EXPORT_COLUMNS, export_rows


class Command(BaseCommand):
    help = "Export the decisions of a date (amounts in yuan)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, required=True)
        parser.add_argument("--format", choices=["csv", "json", "parquet"], default="csv")
        parser.add_argument("--out", type=Path, help="file to write (default: standard output)")

    def handle(self, as_of, format, out, **options):
        rows = export_rows(as_of)
        if format == "parquet":
            if out is None:
                raise CommandError("parquet needs --out FILE")
            self._parquet(rows, out)
            return
        stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            if format == "csv":
                writer = csv.writer(stream)
                writer.writerow(EXPORT_COLUMNS)
                writer.writerows(rows)
            else:
                stream.write("[")
                for n, row in enumerate(rows):
                    stream.write(("," if n else "") + "\n" + json.dumps(
                        dict(zip(EXPORT_COLUMNS, row, strict=True)), ensure_ascii=False
                    ))  # fmt: skip
                stream.write("\n]\n")
        finally:
            if out:
                stream.close()

    @staticmethod
    def _parquet(rows, out: Path):
        schema = pa.schema([(c, pa.int32() if c == "dpd" else pa.string()) for c in EXPORT_COLUMNS])
        with pq.ParquetWriter(out, schema) as writer:
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    writer.write_table(pa.Table.from_pylist(
                        [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in batch], schema
                    ))  # fmt: skip
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(
                    [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in batch], schema
                ))  # fmt: skip
