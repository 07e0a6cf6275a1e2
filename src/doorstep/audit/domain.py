"""Write and check the audit trail.

`record()` appends one entry inside the caller's transaction, so the entry commits or rolls back
with the change it describes. `anchor()` copies the chain's head to the anchor table and the anchor
file; `verify()` recomputes the whole chain and checks it against the head and every anchor.
"""

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from doorstep.audit.chain import (
    GENESIS,
    canonical_json,
    entry_hash,
    format_at,
    row_text,
    sqlite_at,
)
from doorstep.audit.errors import AuditError
from doorstep.audit.models import AuditAnchor, AuditEntry, AuditHead
from doorstep.runtime import var_dir

CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def record(
    code: str,
    *,
    actor: str,
    obj: models.Model | None = None,
    obj_type: str = "",
    obj_id: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry to the chain. Call it inside the transaction of the change it records.

    Side effects: one AuditEntry row; the head row moved to it (locked until the caller commits,
    which serialises appenders). Raises AuditError on a malformed code, a missing actor, a naive
    time or data that is not JSON.
    """
    if not CODE.match(code):
        raise AuditError(f"audit code {code!r} is not namespaced (area.event)", code="audit.code")
    if not actor:
        raise AuditError("an audit entry needs an actor", code="audit.actor")
    if obj is not None:
        obj_type, obj_id = obj._meta.label_lower, str(obj.pk)
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise AuditError("at must carry a UTC offset", code="audit.naive_time")
    try:
        text = canonical_json(data or {})
    except (TypeError, ValueError) as error:
        raise AuditError(f"audit data is not JSON: {error}", code="audit.data") from None
    # No savepoint inside the caller's transaction (two statements fewer for every recorded
    # change): an entry that fails to append must take the change it records down with it.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        seq = head.seq + 1
        digest = entry_hash(head.hash, seq, at, actor, code, obj_type, str(obj_id), text)
        entry = AuditEntry.objects.create(
            seq=seq,
            at=at,
            actor=actor,
            code=code,
            obj_type=obj_type,
            obj_id=str(obj_id),
            data=text,
            prev_hash=head.hash,
            hash=digest,
        )
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return entry


def _locked_head() -> AuditHead:
    """The head row, locked for this transaction (on SQLite the IMMEDIATE transaction already
    holds the write lock). Created from the chain's last entry when missing (first use, or after a
    test flush); concurrent creators meet at the primary key and one waits for the other."""
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, digest = last or (0, GENESIS)
        AuditHead.objects.bulk_create(
            [AuditHead(pk=1, seq=seq, hash=digest)], ignore_conflicts=True
        )
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def digest_query(sql: str, params=None, *, chunk: int = 10_000) -> tuple[int, str]:
    """(rows, sha256) over the rows of a query, streamed (a server-side cursor on PostgreSQL):
    each row as canonical JSON, one per line. The caller's ORDER BY makes it deterministic."""
    sha = hashlib.sha256()
    rows = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params or [])
        while batch := cursor.fetchmany(chunk):
            rows += len(batch)
            sha.update("".join(row_text(row) + "\n" for row in batch).encode())
    return rows, sha.hexdigest()


# --- anchors ---------------------------------------------------------------------------------


def anchor_path() -> Path:
    """The anchor file: DOORSTEP_AUDIT_ANCHOR_FILE, or one file per database under the var dir
    (so the test databases, the demo and a PostgreSQL database never share one)."""
    configured = getattr(settings, "DOORSTEP_AUDIT_ANCHOR_FILE", "")
    if configured:
        return Path(configured)
    db = connection.settings_dict
    identity = f"{connection.vendor}|{db.get('HOST') or ''}|{db.get('PORT') or ''}|{db['NAME']}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return var_dir() / f"audit-anchors-{connection.vendor}-{key}.jsonl"


def anchor(*, by: str, at: datetime | None = None) -> AuditAnchor:
    """Record the chain's head now. Side effects: an AuditAnchor row; after it commits, one line
    appended (and fsynced) to the anchor file — keep a copy of that file off this machine."""
    at = at or timezone.now()
    with transaction.atomic():
        head = _locked_head()
        row = AuditAnchor.objects.create(seq=head.seq, hash=head.hash, at=at, by=by)
    line = json.dumps({"seq": row.seq, "hash": row.hash, "at": format_at(at), "by": by})
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return row


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int  # the first entry concerned (for a missing entry, the one missing)
    code: str  # that entry's audit code, when it still exists
    kind: str  # hash | link | gap | head | anchor | anchor_file
    message: str


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    anchors_checked: int = 0
    anchor_file: str = ""
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        data["first_problem"] = asdict(self.first) if self.first else None
        return data


@dataclass(frozen=True)
class _Anchor:
    seq: int
    hash: str
    at: str
    source: str  # "database" or "<file> line N"

    def __str__(self) -> str:
        return f"the anchor of {self.at} ({self.source})"


def verify(*, max_problems: int = 100, chunk: int = 10_000) -> Verification:
    """Recompute the chain from entry 1, streaming, and check it against the head row, the anchor
    table and the anchor file. Problems are sorted by seq: the first names the first bad entry."""
    started = time.perf_counter()
    result = Verification(anchor_file=str(anchor_path()))
    problems: list[Problem] = []
    anchors = _anchors(problems)
    result.anchors_checked = len(anchors)
    by_seq: dict[int, list[_Anchor]] = {}
    for a in anchors:
        by_seq.setdefault(a.seq, []).append(a)
    for a in by_seq.pop(0, []):
        if a.hash != GENESIS:
            problems.append(Problem(1, "", "anchor", f"the anchor {a} is not the empty chain's"))
    prev_seq, prev_hash, prev_code = 0, GENESIS, ""
    for seq, at, actor, code, obj_type, obj_id, data, stored_prev, stored in _entries(chunk):
        result.entries += 1
        computed = entry_hash(stored_prev, seq, at, actor, code, obj_type, obj_id, data)
        if (
            computed == stored
            and seq == prev_seq + 1
            and stored_prev == prev_hash
            and seq not in by_seq
        ):
            prev_seq, prev_hash, prev_code = seq, stored, code
            continue
        this = f"entry {seq} ({code})"
        if seq != prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
            message = f"entry {missing} missing: seq jumps from {prev_seq} to {this}"
            problems.append(Problem(prev_seq + 1, "", "gap", message))
        elif stored_prev != prev_hash:
            if computed == stored:
                # This entry is intact but chained to something else: the previous one changed
                # and its hash was recomputed to hide it.
                message = (
                    f"entry {prev_seq} ({prev_code}) was rewritten: its hash is not the one "
                    f"entry {seq} chained to"
                )
                problems.append(Problem(prev_seq, prev_code, "link", message))
            else:
                message = f"{this} does not chain to entry {prev_seq}"
                problems.append(Problem(seq, code, "link", message))
        if computed != stored:
            message = (
                f"{this} does not match its hash: a field was edited, or the row was moved "
                "from another seq"
            )
            problems.append(Problem(seq, code, "hash", message))
        for a in by_seq.pop(seq, []):
            if a.hash != stored:
                message = f"{this} is not the entry in {a}: the chain was rewritten up to here"
                problems.append(Problem(seq, code, "anchor", message))
        prev_seq, prev_hash, prev_code = seq, stored, code
        if len(problems) >= max_problems:
            break
    else:
        for seq, found in sorted(by_seq.items()):
            for a in found:
                message = (
                    f"the chain ends at {prev_seq} but {a} names entry {seq}: "
                    f"entries {prev_seq + 1}–{seq} were removed"
                )
                problems.append(Problem(prev_seq + 1, "", "anchor", message))
        _check_head(prev_seq, prev_hash, problems)
    result.head_seq, result.head_hash = prev_seq, prev_hash
    result.problems = sorted(problems, key=lambda p: p.seq)[:max_problems]
    result.seconds = round(time.perf_counter() - started, 3)
    return result


ENTRIES = (
    "SELECT seq, at, actor, code, obj_type, obj_id, data, prev_hash, hash "
    "FROM audit_auditentry ORDER BY seq"
)
ENTRIES_SQLITE = ENTRIES.replace("seq, at,", "seq, at || '',")


def _entries(chunk: int):
    """Every entry in seq order, streamed through a server-side cursor on PostgreSQL. Raw rows:
    the ORM's per-row converters cost more than the hashing."""
    # On SQLite, `at` read as text (no declared type, so no datetime converter) and turned into
    # the canonical spelling directly: a third of the time of verifying otherwise.
    sqlite = connection.vendor == "sqlite"
    with connection.chunked_cursor() as cursor:
        cursor.execute(ENTRIES_SQLITE if sqlite else ENTRIES)
        while batch := cursor.fetchmany(chunk):
            if sqlite:
                for row in batch:
                    yield (row[0], sqlite_at(row[1]), *row[2:])
            else:
                yield from batch


def _check_head(last_seq: int, last_hash: str, problems: list[Problem]) -> None:
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    if head is None:
        if last_seq:
            problems.append(Problem(last_seq + 1, "", "head", "the chain head row is missing"))
        return
    seq, digest = head
    if seq > last_seq:
        message = (
            f"the head is at {seq} but the chain ends at {last_seq}: "
            f"entries {last_seq + 1}–{seq} were removed"
        )
        problems.append(Problem(last_seq + 1, "", "head", message))
    elif (seq, digest) != (last_seq, last_hash):
        message = f"the head ({seq}, {digest[:12]}…) is not the last entry ({last_seq})"
        problems.append(Problem(min(seq, last_seq) + 1, "", "head", message))


def _anchors(problems: list[Problem]) -> list[_Anchor]:
    found: dict[tuple[int, str], _Anchor] = {}
    for seq, digest, at in AuditAnchor.objects.values_list("seq", "hash", "at"):
        found.setdefault((seq, digest), _Anchor(seq, digest, format_at(at), "database"))
    path = anchor_path()
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    key = (int(item["seq"]), str(item["hash"]))
                    at = str(item["at"])
                except (ValueError, KeyError, TypeError):
                    message = f"{path} line {number} is not an anchor"
                    problems.append(Problem(0, "", "anchor_file", message))
                    continue
                found[key] = _Anchor(key[0], key[1], at, f"{path.name} line {number}")
    return sorted(found.values(), key=lambda a: a.seq)
