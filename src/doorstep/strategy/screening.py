"""The nightly run's planned messages and call tasks, screened by the compliance guard at once.

Screening at planning time keeps a refused action out of tomorrow's queues and records why;
sending still asks the guard again (compliance.domain.authorize) at the moment it happens, since a
payment or a dispute in the morning changes the answer.
"""

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection

from doorstep import arrowdb
from doorstep.compliance.domain import screen
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.queries import in_slices
from doorstep.strategy.enums import ActionKind, ActionStatus
from doorstep.strategy.models import PlannedAction
from doorstep.timing import timed

log = logging.getLogger(__name__)
SCREENED = (ActionKind.MESSAGE, ActionKind.CALL_TASK)
PURPOSE = {ActionKind.MESSAGE: "reminder", ActionKind.CALL_TASK: "collection"}


def screen_planned_actions(as_of: date, *, by: str, now: datetime | None = None) -> dict[str, int]:
    """Refuse what the guard refuses among the date's planned messages and call tasks (to be sent
    the next day). Side effects, in one transaction: those actions marked refused with the rule;
    the guard's Refusal rows and audit entry. Returns refused counts by rule."""
    with timed(log, "screen read planned", step="read planned"):
        planned = _planned(as_of)
    if planned.num_rows == 0:
        return {}
    table = pa.table(
        {
            "seq": planned.column("id"),
            "account_id": planned.column("account_id"),
            "borrower_id": planned.column("borrower_id"),
            "channel": planned.column("channel"),
            "purpose": _mapped(planned.column("kind"), PURPOSE, pa.string()),
            "template": planned.column("template"),
            "planned_at": _send_times(as_of + timedelta(days=1), planned),
            "third_party_id": pa.nulls(planned.num_rows, pa.string()),
            "time_zone": planned.column("time_zone"),
            "settled": pc.equal(planned.column("status"), AccountStatus.SETTLED.value),
            "language": planned.column("language"),
        }
    )
    refused: dict[str, list[int]] = {}

    def mark_refused(rule_of: dict[int, str]) -> None:
        # Inside the transaction that records the guard's refusals: a run killed between the two
        # left the actions planned, and its re-run refused (and recorded) them a second time.
        for seq, rule in rule_of.items():
            refused.setdefault(rule, []).append(seq)
        for rule, ids in refused.items():
            for ids_slice in in_slices(ids):
                PlannedAction.objects.filter(pk__in=ids_slice).update(
                    status=ActionStatus.REFUSED, refused_rule=rule
                )

    screen(table, actor=by, now=now, with_refusals=mark_refused)
    return {rule: len(ids) for rule, ids in refused.items()}


ACTIONS = pa.schema(
    [("id", pa.int64())]
    + [(name, pa.string()) for name in ("account_id", "kind", "channel", "template")]
)
FACTS = pa.schema(
    [(name, pa.string()) for name in ("account_id", "borrower_id", "status", "language",
                                      "time_zone")]
)  # fmt: skip
PLANNED = pa.schema([*ACTIONS, *(f for f in FACTS if f.name != "account_id")])


def _planned(as_of: date) -> pa.Table:
    """The date's planned messages and call tasks with what the guard needs of their account,
    borrower and region (PLANNED), in id order.

    Two reads joined in Arrow, not one SQL join: SQLite's nested loop looked each action's
    account and borrower up in the actions' order, one random page after another (13-17 s for
    216k actions at a million accounts); the accounts asked for as a set (`IN`) are walked in key
    order (2.5-4 s). Through ADBC as Arrow outside a transaction, else Django's cursor. Every
    column is NOT NULL, so the ADBC SQLite driver's typing by the first rows cannot guess wrong.
    """
    kinds = ", ".join(f"'{kind}'" for kind in SCREENED)
    where = f"p.as_of = {{as_of}} AND p.status = '{ActionStatus.PLANNED}' AND p.kind IN ({kinds})"
    actions = (
        "SELECT p.id, p.account_id, p.kind, p.channel, p.template "  # noqa: S608 - constants
        f"FROM strategy_plannedaction p WHERE {where}"
    )
    facts = (
        "SELECT a.id, a.borrower_id, a.status, b.language, r.time_zone "  # noqa: S608 - constants
        "FROM ledger_account a JOIN ledger_borrower b ON b.id = a.borrower_id "
        "JOIN ledger_region r ON r.code = b.region_id "
        f"WHERE a.id IN (SELECT p.account_id FROM strategy_plannedaction p WHERE {where})"
    )
    read = _read_arrow if arrowdb.usable() else _read_rows
    both = read([(actions, ACTIONS), (facts, FACTS)], as_of)
    joined = both[0].join(both[1], "account_id", join_type="inner")
    return joined.select(PLANNED.names).sort_by("id").cast(PLANNED)


def _read_arrow(queries, as_of: date) -> list[pa.Table]:
    literal = f"'{as_of.isoformat()}'"
    with arrowdb.adbc_connect() as adbc, adbc.cursor() as cursor:
        tables = []
        for sql, schema in queries:
            cursor.execute(sql.format(as_of=literal))
            read = cursor.fetch_arrow_table()
            tables.append(
                pa.table([read.column(i).cast(f.type) for i, f in enumerate(schema)], schema)
            )
    return tables


def _read_rows(queries, as_of: date) -> list[pa.Table]:
    tables = []
    with connection.cursor() as cursor:
        for sql, schema in queries:
            cursor.execute(sql.format(as_of="%s"), [as_of] * sql.count("{as_of}"))
            rows = cursor.fetchall()
            columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
            tables.append(
                pa.table(
                    [pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema
                )
            )
    return tables


def _mapped(keys: pa.ChunkedArray, mapping: dict, type_: pa.DataType) -> pa.Array:
    """Each key's value from a small mapping, in Arrow (a few distinct keys, many rows)."""
    known = list(mapping)
    return pc.take(pa.array([mapping[k] for k in known], type_), pc.index_in(keys, pa.array(known)))


def _send_times(send_day: date, planned: pa.Table) -> pa.Array:
    """When each action would be sent: the kind's send time (DOORSTEP_SEND_TIMES) on the send day
    in the borrower's region's time zone, computed once per (kind, zone) pair."""
    pairs = pc.binary_join_element_wise(planned.column("kind"), planned.column("time_zone"), "|")
    moments = {}
    for pair in pc.unique(pairs).to_pylist():
        kind, zone = pair.split("|", 1)
        hh, mm = (int(v) for v in settings.DOORSTEP_SEND_TIMES[kind].split(":"))
        moments[pair] = datetime.combine(send_day, time(hh, mm), ZoneInfo(zone))
    return _mapped(pairs, moments, pa.timestamp("us", tz="UTC"))
