"""The hash chain's arithmetic: canonical serialisation and entry hashes. Pure (no database).

An entry's hash is sha256 over the previous entry's hash and the canonical JSON of its own fields,
so editing, removing or moving any entry breaks every link after it. The serialisation is part of
the stored format: changing it invalidates every existing chain.
"""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

GENESIS = "0" * 64  # the prev_hash of entry 1


def _default(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in audit data: give it a UTC offset")
        return format_at(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not audit data")


def canonical_json(value) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is, no NaN: one text per value."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )


def format_at(at: datetime) -> str:
    """UTC to the microsecond: 2026-11-22T04:00:00.000000Z."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime | str,
    actor: str,
    code: str,
    obj_type: str,
    obj_id: str,
    data: str,
) -> str:
    """`data` is the stored canonical JSON text, hashed byte for byte as stored; `at` a datetime
    or already `format_at` text.

    The fields are serialised as the JSON array [seq, at, actor, code, obj_type, obj_id, data]
    without spaces, spelled out here because json.dumps per entry was the slowest part of
    verifying millions of entries (test_chain holds the two spellings equal)."""
    q = _quote
    at = at if isinstance(at, str) else format_at(at)
    fields = f"[{int(seq)},{q(at)},{q(actor)},{q(code)},{q(obj_type)},{q(obj_id)},{q(data)}]"
    return hashlib.sha256(f"{prev_hash}\n{fields}".encode()).hexdigest()


def sqlite_at(text: str) -> str:
    """`format_at` of a datetime as Django stores it in SQLite: UTC text, "2026-11-22 04:00:00"
    with ".ffffff" when there are microseconds."""
    return f"{text[:10]}T{text[11:19]}.{text[20:26].ljust(6, '0')}Z"


# JSON string quoting (ensure_ascii=False), the C implementation json.dumps itself uses.
_quote = json.encoder.encode_basestring


def row_text(row) -> str:
    """One result row as canonical text, the same on SQLite and PostgreSQL (where drivers return
    dates as text or as objects, integers as int or Decimal)."""
    return canonical_json([_scalar(value) for value in row])


def _scalar(value):
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, datetime):
        return format_at(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value
