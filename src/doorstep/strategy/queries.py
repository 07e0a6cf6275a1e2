"""Reads of the strategy: one account's features (the real-time path), explain, exports."""

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from datetime import date, datetime

import duckdb
import pyarrow as pa
from django.db import connection
from django.db.models.functions import Collate

from doorstep import arrowdb, roundtrips
from doorstep.audit.domain import digest_query
from doorstep.contact.models import Contact
from doorstep.ledger.domain import local_date
from doorstep.ledger.models import Account, Hold, Instalment, LedgerEntry
from doorstep.ledger.queries import Books
from doorstep.scoring.domain import active_model, score_reasons, score_row
from doorstep.scoring.engine.features import INPUTS
from doorstep.strategy.engine.account import (
    AccountRow,
    ContactRow,
    EntryRow,
    HoldRow,
    InstalmentRow,
    account_features,
    day_end_epoch,
)
from doorstep.strategy.engine.document import Strategy
from doorstep.strategy.engine.explain import Explanation, ScoreLine, explain
from doorstep.strategy.models import Decision


def arm_bucket(account_id: str) -> int:
    """The Python twin of `featuresql.arm_bucket_sql`."""
    return int(hashlib.md5(account_id.encode()).hexdigest()[:8], 16) % 100  # noqa: S324


def _previous_stage_rows(account_id: str, as_of: date):
    """The stage of the account's latest decision on or after the last decision date before
    `as_of` (the nightly run's definition), as at most one row; the last date is a subquery."""
    last_day = Decision.objects.filter(as_of__lt=as_of).order_by("-as_of").values("as_of")[:1]
    return (
        Decision.objects.filter(account_id=account_id, as_of__lt=as_of, as_of__gte=last_day)
        .order_by("-as_of")
        .values_list("stage")[:1]
    )


def account_features_row(
    account: Account, as_of: date, strategy: Strategy, *, books: Books | None = None
) -> dict:
    """Every feature of one account as of a date, plus `arm` and `previous_stage`. `books`: the
    account's schedule and entries as of the same day, when the caller has read them."""
    region = account.borrower.region
    day_end = day_end_epoch(as_of, region.time_zone)
    reads = [
        Contact.objects.filter(account=account).values_list(
            "id", "at", "channel", "outcome", "ptp_amount_cents", "ptp_date"
        ),
        Hold.objects.filter(account=account, since__lte=as_of).values_list(
            "kind", "since", "until"
        ),
        _previous_stage_rows(account.pk, as_of),
    ]
    if books is None or books.as_of != as_of:
        reads += [
            Instalment.objects.filter(account=account).values_list(
                "seq", "due_date", "cumulative_cents"
            ),
            LedgerEntry.objects.filter(account=account, effective_on__lte=as_of).values_list(
                "kind", "amount_cents", "effective_on", "instalment__seq"
            ),
        ]
    # All of the account's reads in one round trip (PostgreSQL; roundtrips).
    contact_rows, hold_rows, previous, *book_rows = roundtrips.fetch_all(*reads)
    if book_rows:
        instalments = [InstalmentRow(*row) for row in book_rows[0]]
        entries = [EntryRow(*row) for row in book_rows[1]]
    else:
        instalments = [
            InstalmentRow(i.seq, i.due_date, i.cumulative_cents) for i in books.instalments
        ]
        entries = [EntryRow(*row) for row in books.entries]
    contacts = [
        ContactRow(cid, int(at.timestamp()), channel, outcome, amount, ptp_date)
        for cid, at, channel, outcome, amount, ptp_date in contact_rows
    ]
    holds = [HoldRow(*row) for row in hold_rows]
    bucket = arm_bucket(account.pk)
    row = account_features(
        AccountRow(
            account.pk,
            account.product,
            region.code,
            account.auto_debit,
            region.field_coverage,
            day_end,
        ),
        instalments,
        entries,
        contacts,
        holds,
        as_of=as_of,
        previous_stage=previous[0][0] if previous else "none",
        arm_bucket=bucket,
    )
    row["arm"] = strategy.arm_for(bucket)
    # The collection score, as the nightly run gives it: only for accounts in collections.
    model = active_model()
    row["model"] = model
    if model is not None and row["dpd"] > 0:
        row.update(score_row(model, row))
    return row


def stored_decision(account_id: str, as_of: date) -> Decision | None:
    return (
        Decision.objects.select_related("strategy")
        .filter(account_id=account_id, as_of=as_of)
        .first()
    )


def explain_account(
    account_id: str,
    as_of: date | None,
    strategy: Strategy,
    *,
    at: datetime,
    account: Account | None = None,
    books: Books | None = None,
):
    """The live explanation of one account (as of its region's today when `as_of` is None).
    `account`: the account's row with its borrower and region, and `books` its schedule and
    entries as of the day, when the caller has read them."""
    if account is None or account.pk != account_id:
        account = Account.objects.select_related("borrower__region").get(pk=account_id)
    as_of = as_of or local_date(account, at)
    row = account_features_row(account, as_of, strategy, books=books)
    return dataclasses.replace(explained(strategy, row, as_of), score=score_line(row))


# explain() of a features row, remembered per process. It is a pure function of the strategy, the
# row and the date, and the key is all three (the row whole: every feature, the arm, the previous
# stage, the score's figures), so nothing needs invalidating: a write that changes what the
# account's page would say changes its row, and the next view misses. What it saves is "what
# comes next" (up to 400 shifted days decided), about half of the portal's status page.
EXPLAINED_MAX = 512
_explained: OrderedDict = OrderedDict()
_explained_lock = threading.Lock()


def explained(strategy: Strategy, row: dict, as_of: date) -> Explanation:
    try:
        key = (id(strategy), as_of, tuple(row.items()))
        hash(key)
    except TypeError:  # a value that cannot be a key: explained afresh
        return explain(strategy, row, as_of)
    with _explained_lock:
        found = _explained.get(key)
        # The strategy itself is held with its explanation: an id is only unique while alive.
        if found is not None and found[0] is strategy:
            _explained.move_to_end(key)
            return found[1]
    explanation = explain(strategy, row, as_of)
    with _explained_lock:
        _explained[key] = (strategy, explanation)
        while len(_explained) > EXPLAINED_MAX:
            _explained.popitem(last=False)
    return explanation


def score_line(row: dict) -> ScoreLine | None:
    """The score of a features row (`account_features_row`) with its top reasons; None when no
    model is active or the account is not in collections (only those are scored)."""
    model = row.get("model")
    if model is None or row.get("risk_score") is None:
        return None
    return ScoreLine(
        model=model.version,
        risk_score=row["risk_score"],
        risk_band=row["risk_band"],
        reasons=tuple(score_reasons(model, row)),
        inputs={name: row[name] for name in INPUTS},
    )


EXPORT_COLUMNS = (
    "account_id",
    "as_of",
    "stage",
    "previous_stage",
    "triggers",
    "blocked_by",
    "reasons_zh",
    "reasons_en",
    "strategy_version",
    "arm",
    "dpd",
    "overdue",
    "outstanding",
    "engine",
)


def export_rows(as_of: date):
    """The decisions of a date in export shape, streamed in account order."""
    from doorstep.money import yuan

    decisions = (
        Decision.objects.filter(as_of=as_of)
        .select_related("strategy")
        .order_by("account_id")
        .values_list(
            "account_id",
            "as_of",
            "stage",
            "previous_stage",
            "triggers",
            "blocked_by",
            "reasons_zh",
            "reasons_en",
            "strategy__name",
            "strategy__version",
            "arm",
            "dpd",
            "overdue_cents",
            "outstanding_cents",
            "engine",
        )
    )
    for row in decisions.iterator(chunk_size=5000):
        (
            account,
            day,
            stage,
            prev,
            trig,
            blocked,
            zh,
            en,
            name,
            version,
            arm,
            dpd,
            od,
            os_,
            eng,
        ) = row
        yield (
            account, day.isoformat(), stage, prev, trig or "", blocked or "", zh, en,
            f"{name}@{version}", arm, dpd, yuan(od), yuan(os_), eng,
        )  # fmt: skip


# What a decision says (not which run or engine wrote it): equal decisions, equal digest.
DIGEST_COLUMNS = (
    "account_id", "as_of", "stage", "previous_stage", "triggers", "blocked_by", "reasons_en",
    "reasons_zh", "arm", "dpd", "overdue_cents", "outstanding_cents", "strategy_id",
)  # fmt: skip


def decisions_digest(as_of: date) -> tuple[int, str]:
    """(rows, sha256) of a date's decisions in account order (byte order), the text hashed being
    each row as audit.chain.row_text writes it (canonical JSON), one per line: the nightly run's
    audit entry vouches for exactly these rows.

    A million rows: the rows stream out through ADBC and DuckDB writes each line (quoting strings
    as json.dumps does; tests/strategy/test_digest holds the two equal), where Python's row by
    row took 19 s. An ADBC read sees only what is committed (`arrowdb`): inside a transaction
    this falls back to `digest_ordered_rows`, the same digest in Python."""
    if not arrowdb.usable():
        return digest_ordered_rows(as_of)
    text = "CAST({} AS TEXT)" if connection.vendor == "postgresql" else "{}"
    d = f"DATE '{as_of.isoformat()}'" if connection.vendor == "postgresql" else f"'{as_of}'"
    columns = []
    for name in DIGEST_COLUMNS:
        if name in NULLABLE_DIGEST_COLUMNS:
            # Coalesced, with a flag: ADBC's SQLite driver types a column by its first rows.
            columns += [f"CASE WHEN {name} IS NULL THEN 1 ELSE 0 END AS {name}_null",
                        f"COALESCE({name}, '') AS {name}"]  # fmt: skip
        else:
            columns.append(f"{text.format(name)} AS {name}" if name == "as_of" else name)
    select = f"SELECT {', '.join(columns)} FROM strategy_decision WHERE as_of = {d}"  # noqa: S608
    line = " || ',' || ".join(_json_sql(name) for name in DIGEST_COLUMNS)
    sha, rows = hashlib.sha256(), 0
    with arrowdb.adbc_connect() as adbc, adbc.cursor() as cursor:
        cursor.execute(select)
        raw = cursor.fetch_arrow_table()
    duck = duckdb.connect()
    duck.register("raw", raw)
    lines = duck.sql(
        f"SELECT '[' || {line} || ']' || chr(10) AS line FROM raw ORDER BY account_id"  # noqa: S608
    ).to_arrow_reader(100_000)
    for batch in lines:
        # The lines' bytes lie end to end in the column's data buffer: hashed where they are.
        if batch.num_rows == 0:
            continue
        column = batch.column(0).cast(pa.large_string())
        _, offsets, data = column.buffers()
        offsets = memoryview(offsets).cast("q")
        start, end = offsets[column.offset], offsets[column.offset + len(column)]
        if end > start:
            sha.update(memoryview(data)[start:end])
        rows += len(column)
    return rows, sha.hexdigest()


NULLABLE_DIGEST_COLUMNS = ("triggers", "blocked_by")
INTEGER_DIGEST_COLUMNS = ("dpd", "overdue_cents", "outstanding_cents", "strategy_id")


def _json_sql(name: str) -> str:
    """DuckDB SQL for one digest column as row_text writes it: a JSON string or number, or null."""
    if name in INTEGER_DIGEST_COLUMNS:
        return f"CAST({name} AS VARCHAR)"
    quoted = _json_string_sql(f"CAST({name} AS VARCHAR)")
    if name in NULLABLE_DIGEST_COLUMNS:
        return f"CASE WHEN {name}_null = 1 THEN 'null' ELSE {quoted} END"
    return quoted


# How json.dumps escapes each control character (\n, or \u001f in lower case).
_ESCAPES = {code: json.dumps(chr(code))[1:-1] for code in range(1, 32)}
# The ones DuckDB's to_json writes otherwise (\u001F: upper case); it agrees on all else.
_UPPER_HEX_ESCAPED = "[\\x0b\\x0e\\x0f\\x1a-\\x1f]"


def _json_string_sql(text: str) -> str:
    """`text` as a JSON string literal exactly as json.dumps(ensure_ascii=False) writes it: by
    DuckDB's to_json, or where that differs by escaping each character in SQL."""
    escaped = f"replace(replace({text}, '\\', '\\\\'), '\"', '\\\"')"
    for code, escape in _ESCAPES.items():
        escaped = f"replace({escaped}, chr({code}), '{escape}')"
    return (
        f"CASE WHEN regexp_matches({text}, '{_UPPER_HEX_ESCAPED}') THEN '\"' || {escaped} || '\"' "
        f"ELSE to_json({text}) END"
    )


def digest_ordered_rows(as_of: date) -> tuple[int, str]:
    """`decisions_digest` row by row in Python (audit.domain.digest_query): the definition."""
    collation = "C" if connection.vendor == "postgresql" else "BINARY"
    rows = (
        Decision.objects.filter(as_of=as_of)
        .order_by(Collate("account_id", collation))
        .values_list(*DIGEST_COLUMNS)
    )
    sql, params = rows.query.sql_with_params()
    return digest_query(sql, params)


def latest_stage_counts() -> tuple[date | None, list[tuple[str, int, int]]]:
    """The most recent decision date and, per stage, accounts and overdue cents on it."""
    from django.db.models import Count, Sum

    latest = Decision.objects.order_by("-as_of").values_list("as_of", flat=True).first()
    if latest is None:
        return None, []
    rows = (
        Decision.objects.filter(as_of=latest)
        .values("stage")
        .annotate(accounts=Count("id"), overdue=Sum("overdue_cents"))
        .order_by("stage")
    )
    order = ["none", "pre_due", "reminder", "phone", "home_visit", "legal", "suspended",
             "arrangement"]  # fmt: skip
    lines = sorted(
        ((r["stage"], r["accounts"], r["overdue"] or 0) for r in rows),
        key=lambda line: order.index(line[0]),
    )
    return latest, lines
