"""Streaming and checking import files: CSV or Parquet in, typed row batches and problems out.

Pure (Arrow, no database). Every check is vectorised over a batch of rows; the slow per-value
path runs only to pin down which values failed a cast. A problem names file, line and field.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from doorstep.intake.formats import ID_MAX, Column, FileFormat

MONEY = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
INTEGER = r"^[0-9]{1,9}$"
COORD = r"^-?[0-9]{1,3}(\.[0-9]{1,8})?$"
ID = r"^[A-Za-z0-9_.:-]+$"
EMAIL = (
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # one @, a dot in the domain, no spaces: enough to catch slips
)
TRUE_VALUES = ("true", "1", "yes", "y", "t")
FALSE_VALUES = ("false", "0", "no", "n", "f", "")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return (
            f"{where}, field {self.field}: {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )


@dataclass
class Problems:
    """Every problem found, kept up to `limit` (the count goes on past it)."""

    limit: int = 100_000
    items: list[Problem] = field(default_factory=list)
    count: int = 0
    unreadable: set[str] = field(default_factory=set)  # files that could not be read at all

    def add(self, file: str, line: int, field_name: str, message: str) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(Problem(file, line, field_name, message))

    def __bool__(self) -> bool:
        return self.count > 0

    def take(self) -> "Problems":
        """The problems found so far, moved into a new object (this one keeps `unreadable`)."""
        taken = Problems(self.limit, self.items, self.count, set(self.unreadable))
        self.items, self.count = [], 0
        return taken

    def merge(self, other: "Problems") -> None:
        for problem in other.items:
            self.add(problem.file, problem.line, problem.field, problem.message)
        self.count += other.count - len(other.items)
        self.unreadable |= other.unreadable


@dataclass
class Batch:
    """Rows of one file that passed every per-value check, typed, with their line numbers.

    `values` are Arrow arrays (dates as date32, money as int64 cents, instants as UTC
    timestamps): the importer stages them without building a Python object per value."""

    lines: list[int]
    values: dict[str, pa.Array]
    rejected: list[str] = field(default_factory=list)  # ids of the rows left out
    absent: frozenset[str] = frozenset()  # optional columns the file does not have

    def __len__(self) -> int:
        return len(self.lines)


def source_path(directory: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet"):
        path = directory / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def read_file(
    path: Path,
    fmt: FileFormat,
    problems: Problems,
    *,
    batch_rows: int = 100_000,
    block_bytes: int = 16 << 20,
) -> Iterator[Batch]:
    """Stream `path` in batches, each checked and typed; bad rows are left out and reported."""
    label = path.name
    is_csv = path.suffix == ".csv"
    raw = (
        _raw_batches_csv(path, fmt, problems, block_bytes)
        if is_csv
        else _raw_batches_parquet(path, fmt, problems, batch_rows)
    )
    first_line = 2 if is_csv else 1  # CSV line 1 is the header; Parquet rows count from 1
    for table in raw:
        if table.num_rows:
            yield check_batch(table, fmt, problems, label=label, first_line=first_line)
        first_line += table.num_rows


def _header(path: Path) -> list[str] | None:
    with path.open("rb") as handle:
        line = handle.readline()
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return [name.strip() for name in text.rstrip("\r\n").split(",")]


def _check_columns(label: str, present: list[str], fmt: FileFormat, problems: Problems) -> bool:
    ok = True
    problems.unreadable.add(label)
    for column in fmt.columns:
        if column.name not in present and column.required:
            problems.add(label, 1, column.name, "column is missing")
            ok = False
    for name in present:
        if name not in fmt.column_names:
            problems.add(label, 1, name, "unknown column (not in the import format)")
            ok = False
    if len(set(present)) != len(present):
        problems.add(label, 1, "", "a column name appears twice")
        ok = False
    if ok:
        problems.unreadable.discard(label)
    return ok


def _raw_batches_csv(
    path: Path, fmt: FileFormat, problems: Problems, block_bytes: int
) -> Iterator[pa.Table]:
    header = _header(path)
    if header is None:
        problems.unreadable.add(path.name)
        problems.add(path.name, 1, "", "not valid UTF-8 text (the header line)")
        return
    if not _check_columns(path.name, header, fmt, problems):
        return
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block_bytes),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:  # the first block is read on open
        _report_bad_csv(path, exc, problems)
        return
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            _report_bad_csv(path, exc, problems)
            return
        yield pa.Table.from_batches([batch])


def _report_bad_csv(path: Path, exc: Exception, problems: Problems) -> None:
    """Arrow says the file is malformed but not where; find the first bad line ourselves."""
    problems.unreadable.add(path.name)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                problems.add(
                    path.name, number, "",
                    f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at position {err.start + 1}); "
                    "save the file as UTF-8",
                )  # fmt: skip
                return
    message = str(exc)
    match = re.search(r"[Rr]ow #(\d+)", message)
    line = int(match.group(1)) if match else 0
    problems.add(path.name, line, "", f"malformed CSV: {message.splitlines()[0]}")


def _raw_batches_parquet(
    path: Path, fmt: FileFormat, problems: Problems, batch_rows: int
) -> Iterator[pa.Table]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        problems.unreadable.add(path.name)
        problems.add(path.name, 0, "", f"not a readable Parquet file: {exc}")
        return
    names = parquet.schema_arrow.names
    if not _check_columns(path.name, names, fmt, problems):
        return
    for batch in parquet.iter_batches(batch_size=batch_rows):
        columns = {}
        for name in names:
            column = batch.column(name)
            if pa.types.is_floating(column.type):
                # A float cannot carry an exact amount; let the text check reject what is inexact.
                column = pc.cast(column, pa.string())
            elif not pa.types.is_string(column.type):
                column = pc.cast(column, pa.string())
            columns[name] = pc.fill_null(column, "")
        yield pa.table(columns)


def check_batch(
    table: pa.Table, fmt: FileFormat, problems: Problems, *, label: str, first_line: int
) -> Batch:
    bad = pa.array([False] * table.num_rows)
    typed: dict[str, pa.Array] = {}
    for column in fmt.columns:
        if column.name in table.column_names:
            values = pc.utf8_trim_whitespace(table.column(column.name).combine_chunks())
        else:
            values = pa.array([""] * table.num_rows)
        column_bad, converted = _check_column(column, values, problems, label, first_line)
        if not column.required and column.kind in ("money", "int", "date", "instant"):
            converted = pc.if_else(pc.equal(values, ""), pa.scalar(None, converted.type), converted)
        bad = pc.or_(bad, column_bad)
        typed[column.name] = converted
    keep = pc.invert(bad)
    rejected = []
    if len(fmt.key) == 1 and fmt.key[0] in table.column_names and pc.any(bad).as_py():
        rejected = pc.filter(table.column(fmt.key[0]), bad).to_pylist()
    kept_rows = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    lines = (kept_rows + first_line).tolist()
    everything = len(kept_rows) == table.num_rows
    values = {
        name: converted if everything else pc.filter(converted, keep)
        for name, converted in typed.items()
    }
    absent = frozenset(c.name for c in fmt.columns if c.name not in table.column_names)
    return Batch(lines=lines, values=values, rejected=rejected, absent=absent)


def python_values(array: pa.Array | pa.ChunkedArray) -> list:
    """Column values as Python objects, by the fastest route for the type (see object_values)."""
    return object_values(array).tolist()


def object_values(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Column values as a NumPy array of Python objects, each converted in C: text as str, dates
    as ISO text (building date objects costs ten times more, and both databases take the text),
    integers and booleans as int and bool, nulls as None. Other types go through to_pylist."""
    if pa.types.is_date(array.type):
        array = pc.cast(array, pa.string())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.to_numpy(zero_copy_only=False)  # None where null
    if pa.types.is_integer(array.type) or pa.types.is_boolean(array.type):
        if not array.null_count:
            return array.to_numpy(zero_copy_only=False).astype(object)
        filled = pc.fill_null(
            array, pa.scalar(0, array.type) if pa.types.is_integer(array.type) else False
        )
        values = filled.to_numpy(zero_copy_only=False).astype(object)
        values[array.is_null().to_numpy(zero_copy_only=False)] = None
        return values
    values = np.empty(len(array), dtype=object)
    values[:] = array.to_pylist()
    return values


def _report(mask: pa.Array, values: pa.Array, problems, label, first_line, name, message) -> None:
    indices = pc.indices_nonzero(mask).to_pylist()
    for i in indices[: problems.limit]:
        shown = values[i].as_py()
        problems.add(
            label, first_line + i, name, f"{message} (got {shown!r})" if shown else message
        )
    problems.count += max(0, len(indices) - problems.limit)


def _check_column(column: Column, values: pa.Array, problems, label, first_line):
    """Returns (bad mask, converted array). Converted values at bad positions are placeholders."""
    name = column.name
    empty = pc.equal(values, "")
    bad = pa.array([False] * len(values))
    if column.required:
        if pc.any(empty).as_py():
            _report(empty, values, problems, label, first_line, name, "is empty")
        bad = empty
    present = pc.invert(empty)

    def fail(mask, message):
        nonlocal bad
        mask = pc.and_(mask, present)
        if pc.any(mask).as_py():
            _report(mask, values, problems, label, first_line, name, message)
            bad = pc.or_(bad, mask)

    kind = column.kind
    if kind in ("id", "text", "code6", "enum", "tz", "currency", "email"):
        if kind == "id":
            fail(pc.greater(pc.utf8_length(values), ID_MAX), f"longer than {ID_MAX} characters")
            fail(pc.invert(pc.match_substring_regex(values, ID)), "is not a valid identifier")
        elif kind == "text" and column.max_length:
            fail(pc.greater(pc.utf8_length(values), column.max_length),
                 f"longer than {column.max_length} characters")  # fmt: skip
        elif kind == "email":
            fail(pc.greater(pc.utf8_length(values), 254), "longer than 254 characters")
            fail(pc.invert(pc.match_substring_regex(values, EMAIL)),
                 "is not an email address such as name@example.com")  # fmt: skip
        elif kind == "code6":
            fail(pc.invert(pc.match_substring_regex(values, r"^[0-9]{6}$")),
                 "must be a 6-digit administrative code")  # fmt: skip
        elif kind == "enum":
            fail(pc.invert(pc.is_in(values, pa.array(column.choices))),
                 f"must be one of {', '.join(column.choices)}")  # fmt: skip
        elif kind == "tz":
            fail(pc.invert(pc.is_in(values, pa.array(sorted(_zones())))),
                 "is not an IANA time zone such as Asia/Shanghai")  # fmt: skip
        elif kind == "currency":
            fail(pc.invert(pc.match_substring_regex(values, r"^[A-Z]{3}$")),
                 "must be a 3-letter ISO 4217 code")  # fmt: skip
            values = pc.if_else(empty, "CNY", values)
        return bad, values
    if kind == "money":
        fail(pc.starts_with(values, "-"), "must not be negative")
        fail(pc.and_(pc.invert(pc.starts_with(values, "-")),
                     pc.invert(pc.match_substring_regex(values, MONEY))),
             "must be an amount in yuan with at most 2 decimals, e.g. 1234.50")  # fmt: skip
        safe = pc.if_else(pc.or_(bad, empty), "0", values)
        return bad, _to_cents(safe)
    if kind == "int":
        fail(pc.invert(pc.match_substring_regex(values, INTEGER)), "must be a whole number")
        safe = pc.if_else(pc.or_(bad, empty), "0", values)
        return bad, pc.cast(safe, pa.int64())
    if kind == "coord":
        fail(pc.invert(pc.match_substring_regex(values, COORD)), "must be decimal degrees")
        return bad, pc.if_else(pc.or_(bad, empty), pa.scalar(None, pa.string()), values)
    if kind == "bool":
        lowered = pc.utf8_lower(values)
        known = pc.is_in(lowered, pa.array(TRUE_VALUES + FALSE_VALUES))
        fail(pc.invert(known), "must be true or false")
        return bad, pc.is_in(lowered, pa.array(TRUE_VALUES))
    if kind == "date":
        parsed, failed = _cast_strict(values, present, pa.date32(), _is_iso_date)
        fail(failed, "is not a date in the form YYYY-MM-DD")
        return bad, parsed
    if kind == "instant":
        parsed, failed = _cast_strict(
            values, present, pa.timestamp("us", tz="UTC"), _is_iso_instant
        )
        fail(failed, "is not a time in ISO 8601 with a UTC offset, e.g. 2026-10-03T14:22:05+08:00")
        return bad, parsed
    raise ValueError(f"unknown column kind {kind}")


def _cast_strict(values, present, target, check_one):
    """Cast the whole array at once; only if that fails, find the failing values one by one."""
    placeholder = "1970-01-01" if target == pa.date32() else "1970-01-01T00:00:00Z"
    candidate = pc.if_else(present, values, placeholder)
    try:
        return pc.cast(candidate, target), pa.array([False] * len(values))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        failed = pa.array([not check_one(v) for v in candidate.to_pylist()])
        cleaned = pc.if_else(failed, placeholder, candidate)
        return pc.cast(cleaned, target), failed


def _is_iso_date(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_iso_instant(text: str) -> bool:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    if parsed.tzinfo is None:
        return False
    try:
        pc.cast(pa.array([text]), pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _to_cents(values: pa.Array) -> pa.Array:
    """'12' → 1200, '12.5' → 1250, '12.34' → 1234 through Arrow's exact decimal: never float.
    Values arrive already checked against MONEY (digits, at most 2 decimals)."""
    exact = pc.cast(values, pa.decimal128(15, 2))
    return pc.cast(pc.multiply(exact, pa.scalar(Decimal(100), pa.decimal128(3, 0))), pa.int64())


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def local_dates(instants: pa.Array, zones: pa.Array | None, home_zone: str) -> pa.Array:
    """The calendar date (date32) of each UTC instant in its time zone: `zones` gives one per
    instant (null: the home zone), or is None when every instant is in the home zone."""
    ZoneInfo(home_zone)  # fail loudly on an unknown zone rather than guess
    result = _local_dates_in(instants, home_zone)
    if zones is None or zones.null_count == len(zones):
        return result
    for zone in pc.unique(pc.drop_null(zones)).to_pylist():
        ZoneInfo(zone)
        mask = pc.fill_null(pc.equal(zones, zone), False)
        result = pc.if_else(mask, _local_dates_in(instants, zone), result)
    return result


def _local_dates_in(instants: pa.Array, zone: str) -> pa.Array:
    local = pc.local_timestamp(pc.cast(instants, pa.timestamp("us", tz=zone)))
    return pc.cast(local, pa.date32())
