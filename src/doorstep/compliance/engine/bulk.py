"""The guard for a whole day's planned actions at once: one DuckDB statement, no Python loop.

Same rules, same answers as `engine.checks.evaluate_in_order` (a property test holds them
equal), on two assumptions the callers keep: a borrower's actions in one batch fall on one local
day, and every attempt on record precedes them (the nightly run plans tomorrow).

Caps inside the batch: the actions that pass every other rule are taken in planned order, and
each allowed one counts against the later ones — within one day the allowed ones are exactly the
first M of them, M being the room the tightest cap leaves, so ranks decide it set-based.

Relations (Arrow tables registered by the caller):
  actions(seq, account_id, borrower_id, channel, purpose, template, planned_at TIMESTAMPTZ,
          third_party_id, time_zone, settled, language)
  holds(account_id, kind, since, until)         ceased(borrower_id, channel, since, until)
  placements(account_id, since, until)          -- open placements with an agency
  inconvenient(borrower_id, weekday, start_s, end_s)   -- seconds of the local day
  attempts(borrower_id, at TIMESTAMPTZ, channel, outcome, third_party_id)
  templates(template, channel, language)         -- approved ones
  third_parties(third_party_id, supplied_by_borrower, is_employer, employer_objected)
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from doorstep.compliance.engine.checks import CONVERSATION_OUTCOMES
from doorstep.compliance.engine.pack import VISIT_CHECKS, Pack, Rule


def zone_offsets(zones, start: datetime, end: datetime) -> dict[str, list[tuple[int, int]]]:
    """Per time zone, (from epoch second, UTC offset in seconds) for every offset in force between
    `start` and `end`, found by stepping 15 minutes through the window with zoneinfo: ICU's
    per-row conversion costs more than everything else in the statement."""
    found = {}
    step = timedelta(minutes=15)
    for zone in zones:
        tz = ZoneInfo(zone)
        at = start
        offset = int(at.astimezone(tz).utcoffset().total_seconds())
        spans = [(int(at.timestamp()), offset)]
        while at < end:
            nxt = at + step
            o = int(nxt.astimezone(tz).utcoffset().total_seconds())
            if o != offset:
                # Find the exact second of the change inside the step.
                lo, hi = int(at.timestamp()), int(nxt.timestamp())
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    m = datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset().total_seconds()
                    lo, hi = (mid, hi) if m == offset else (lo, mid)
                spans.append((hi, o))
                offset = o
            at = nxt
        found[zone] = spans
    return found


def offset_sql(epoch: str, zone: str, offsets: dict[str, list[tuple[int, int]]]) -> str:
    """SQL for the UTC offset (seconds) of the instant `epoch` in the zone named by `zone`."""
    whens = []
    for name, spans in sorted(offsets.items()):
        if len(spans) == 1:
            value = str(spans[0][1])
        else:
            inner = " ".join(f"WHEN {epoch} >= {t} THEN {o}" for t, o in reversed(spans[1:]))
            value = f"(CASE {inner} ELSE {spans[0][1]} END)"
        whens.append(f"WHEN '{name}' THEN {value}")
    return f"(CASE {zone} {' '.join(whens)} END)"


EPOCH_DAY = date(1970, 1, 1)

# How far back the history may reach (the longest window in a pack, with a margin).
LOOKBACK_DAYS = 40


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values) or "NULL"


def _seconds(t) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _group(rule: Rule) -> str:
    return "g_" + "_".join(sorted(rule.counted))


def _check_groups(pack: Pack) -> None:
    sets = {frozenset(r.counted) for r in pack.rules if r.check == "cap"}
    for a in sets:
        for b in sets:
            if a != b and a & b:
                raise ValueError(
                    "bulk checking needs cap channel groups that are equal or disjoint"
                )


def _fails_sql(rule: Rule, pack: Pack, n: int) -> str:
    """The rule's failure as SQL over `x` (actions with local time and history figures); caps
    need the ranks and are composed in `bulk_sql`."""
    if rule.check in VISIT_CHECKS:
        return "TRUE"  # visits are authorized one at a time, with their facts (checks.VisitFacts)
    match rule.check:
        case "settled":
            return "x.settled"
        case "placed":
            # The bulk form checks the lender's own planned actions: never the agency's.
            return (
                "EXISTS (SELECT 1 FROM placements p WHERE p.account_id = x.account_id "
                "AND p.since_d <= x.local_day AND (p.until_d IS NULL OR p.until_d >= x.local_day))"
            )
        case "hold":
            return (
                "EXISTS (SELECT 1 FROM holds h WHERE h.account_id = x.account_id "
                f"AND h.kind IN ({_in(rule.kinds)}) AND h.since_d <= x.local_day "
                "AND (h.until_d IS NULL OR h.until_d >= x.local_day))"
            )
        case "cease":
            return (
                "EXISTS (SELECT 1 FROM ceased c WHERE c.borrower_id = x.borrower_id "
                "AND (c.channel = 'all' OR c.channel = x.channel) AND c.since_d <= x.local_day "
                "AND (c.until_d IS NULL OR c.until_d >= x.local_day))"
            )
        case "inconvenient":
            return (
                "EXISTS (SELECT 1 FROM inconvenient i WHERE i.borrower_id = x.borrower_id "
                "AND (i.weekday IS NULL OR i.weekday = x.weekday) "
                "AND i.start_s <= x.local_s AND x.local_s < i.end_s)"
            )
        case "hours":
            return f"NOT ({_seconds(rule.start)} <= x.local_s AND x.local_s < {_seconds(rule.end)})"
        case "quiet_day":
            days = ", ".join(str((d - EPOCH_DAY).days) for d in pack.quiet_days)
            return f"x.local_day IN ({days})" if days else "FALSE"
        case "template":
            return (
                "NOT EXISTS (SELECT 1 FROM templates t WHERE t.template = x.template "
                "AND t.channel = x.channel AND t.language = x.language)"
            )
        case "after_conversation":
            return f"COALESCE(x.c{n}, 0) > 0"
        case "third_party":
            return (
                "(tp.third_party_id IS NULL OR NOT tp.supplied_by_borrower "
                "OR x.purpose <> 'locate' OR (tp.is_employer AND tp.employer_objected))"
            )
    raise ValueError(rule.check)


def _window(rule: Rule) -> str:
    return f"al.local_day >= al.batch_day - {rule.days - 1}"


def bulk_sql(pack: Pack, offsets: dict[str, list[tuple[int, int]]]) -> str:
    _check_groups(pack)
    rules = list(pack.rules)
    caps = [n for n, r in enumerate(rules) if r.check == "cap"]
    talks = [n for n, r in enumerate(rules) if r.check == "after_conversation"]
    parties = [n for n, r in enumerate(rules) if r.check == "third_party"]
    plain = [n for n, r in enumerate(rules) if r.check != "cap"]
    longest = max([rules[n].days for n in caps + talks + parties] or [1])
    # One pass over the history: per borrower, what each cap and conversation rule counts.
    per_borrower = [
        f"SUM(CASE WHEN al.channel IN ({_in(rules[n].counted)}) AND {_window(rules[n])} "
        f"THEN 1 ELSE 0 END) AS h{n}"
        for n in caps
    ] + [
        f"MAX(CASE WHEN al.channel = 'call' AND al.outcome IN ({_in(CONVERSATION_OUTCOMES)}) "
        f"AND {_window(rules[n])} THEN 1 ELSE 0 END) AS c{n}"
        for n in talks
    ]
    per_party = [f"SUM(CASE WHEN {_window(rules[n])} THEN 1 ELSE 0 END) AS t{n}" for n in parties]
    flags = ",\n       ".join(f"{_fails_sql(rules[n], pack, n)} AS f{n}" for n in plain)
    applies = {n: f"channel IN ({_in(r.channels)})" for n, r in enumerate(rules)}
    base_ok = " AND ".join(f"NOT ({applies[n]} AND f{n})" for n in plain) or "TRUE"
    groups = sorted({_group(rules[n]) for n in caps})
    ranks = []
    for g in groups:
        members = next(rules[n].counted for n in caps if _group(rules[n]) == g)
        in_group = [n for n in caps if _group(rules[n]) == g]
        ranks.append(
            f"SUM(CASE WHEN base_ok AND channel IN ({_in(members)}) THEN 1 ELSE 0 END) OVER ("
            "PARTITION BY borrower_id ORDER BY planned_at, seq "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_{g}"
        )
        room = ", ".join(f"{rules[n].limit} - COALESCE(h{n}, 0)" for n in in_group)
        ranks.append(f"LEAST({room}) AS room_{g}")
    for n in parties:
        ranks.append(
            "SUM(CASE WHEN base_ok AND channel = 'third_party_call' THEN 1 ELSE 0 END) OVER ("
            "PARTITION BY borrower_id, third_party_id ORDER BY planned_at, seq "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_tp{n}"
        )
    rank_columns = ",\n       ".join(ranks)
    verdict = []
    for n, r in enumerate(rules):
        if r.check == "cap":
            g = _group(r)
            used = f"LEAST(GREATEST(room_{g}, 0), COALESCE(before_{g}, 0))"
            fails = f"COALESCE(h{n}, 0) + {used} >= {r.limit}"
        elif r.check == "third_party":
            fails = f"(f{n} OR COALESCE(t{n}, 0) + COALESCE(before_tp{n}, 0) >= {r.limit})"
        else:
            fails = f"f{n}"
        verdict.append(f"WHEN {applies[n]} AND {fails} THEN '{r.id}'")
    history_columns = ", ".join(per_borrower) or "0 AS nothing"
    party_columns = ", ".join(per_party) or "0 AS nothing"
    return f"""
WITH lx AS (
    SELECT a.*, a.planned_epoch + {offset_sql("a.planned_epoch", "a.time_zone", offsets)}
           AS local_epoch
    FROM actions a
),
x0 AS (
    SELECT lx.*, local_epoch // 86400 AS local_day, local_epoch % 86400 AS local_s,
           (local_epoch // 86400 + 3) % 7 AS weekday
    FROM lx
),
bd AS (
    SELECT borrower_id, MIN(local_day) AS local_day, MIN(time_zone) AS time_zone,
           MIN(local_day) <> MAX(local_day) OR MIN(time_zone) <> MAX(time_zone) AS several
    FROM x0 GROUP BY borrower_id
),
al AS (
    SELECT a.borrower_id, a.channel, a.outcome, a.third_party_id,
           (a.at_epoch + {offset_sql("a.at_epoch", "bd.time_zone", offsets)}) // 86400 AS local_day,
           bd.local_day AS batch_day
    FROM attempts a JOIN bd ON bd.borrower_id = a.borrower_id
    -- Older attempts are outside every window (the offsets table starts here).
    WHERE a.at_epoch >= {min(t for spans in offsets.values() for t, _ in spans[:1])}
),
hist AS (
    SELECT al.borrower_id, {history_columns}
    FROM al
    WHERE al.local_day BETWEEN al.batch_day - {longest - 1} AND al.batch_day
    GROUP BY al.borrower_id
),
party_hist AS (
    SELECT al.borrower_id, al.third_party_id, {party_columns}
    FROM al
    WHERE al.channel = 'third_party_call'
      AND al.local_day BETWEEN al.batch_day - {longest - 1} AND al.batch_day
    GROUP BY al.borrower_id, al.third_party_id
),
x AS (
    SELECT x0.*, hist.* EXCLUDE (borrower_id), ph.* EXCLUDE (borrower_id, third_party_id)
    FROM x0
    LEFT JOIN hist ON hist.borrower_id = x0.borrower_id
    LEFT JOIN party_hist ph
      ON ph.borrower_id = x0.borrower_id AND ph.third_party_id = x0.third_party_id
),
checked AS (
    SELECT x.*,
       {flags}
    FROM x LEFT JOIN third_parties tp ON tp.third_party_id = x.third_party_id
),
based AS (
    SELECT *, {base_ok} AS base_ok FROM checked
),
ranked AS (
    SELECT *{"," if ranks else ""}
       {rank_columns}
    FROM based
)
SELECT r.seq, CASE {" ".join(verdict)} END AS rule_id, bd.several
FROM ranked r JOIN bd ON bd.borrower_id = r.borrower_id
ORDER BY r.seq
"""


def _seconds_since_epoch(column: pa.ChunkedArray) -> pa.ChunkedArray:
    unit = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[column.type.unit]
    raw = pc.cast(column, pa.int64())
    return raw if unit == 1 else pc.floor(pc.divide(raw, unit)).cast(pa.int64())


def _days(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(pc.cast(column, pa.date32()), pa.int32())


def _with_numbers(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """Instants as epoch seconds and dates as day numbers: integer arithmetic in the statement."""
    out = dict(tables)
    out["actions"] = tables["actions"].append_column(
        "planned_epoch", _seconds_since_epoch(tables["actions"].column("planned_at"))
    )
    out["attempts"] = tables["attempts"].append_column(
        "at_epoch", _seconds_since_epoch(tables["attempts"].column("at"))
    )
    for name in ("holds", "ceased", "placements"):
        t = tables[name]
        out[name] = t.append_column("since_d", _days(t.column("since"))).append_column(
            "until_d", _days(t.column("until"))
        )
    return out


_NO_PLACEMENTS = pa.table(
    {
        "account_id": pa.array([], pa.string()),
        "since": pa.array([], pa.date32()),
        "until": pa.array([], pa.date32()),
    }
)


def check_bulk(pack: Pack, tables: dict[str, pa.Table], threads: int = 2) -> pa.Table:
    """(seq, rule_id) for every action: rule_id NULL where allowed."""
    tables = {"placements": _NO_PLACEMENTS, **tables}
    db = duckdb.connect()
    db.execute(f"SET threads = {threads}")
    for name, table in _with_numbers(tables).items():
        db.register(name, table)
    actions = tables["actions"]
    if actions.num_rows == 0:
        return pa.table({"seq": pa.array([], pa.int64()), "rule_id": pa.array([], pa.string())})
    zones = pc.unique(actions.column("time_zone")).to_pylist()
    first, last = pc.min_max(actions.column("planned_at")).values()
    start = first.as_py() - timedelta(days=LOOKBACK_DAYS)
    offsets = zone_offsets(zones, start, last.as_py() + timedelta(days=1))
    result = db.sql(bulk_sql(pack, offsets)).to_arrow_table()
    if pc.any(result.column("several")).as_py():
        raise ValueError("a borrower has actions on more than one local day (or in two zones)")
    return result.drop_columns(["several"])
