"""The guard for a whole day's planned actions at once: one DuckDB statement, no Python loop.

Same rules, same answers as `engine.checks.evaluate_in_order` (a property test holds them
equal), on two assumptions the callers keep: a borrower's actions in one batch fall on one local
day, and every attempt on record precedes them (the nightly run plans tomorrow).

Caps inside the batch: the actions that pass every other rule are taken in planned order, and
each allowed one counts against the later ones — within one day the allowed ones are exactly the
first M of them, M being the room the tightest cap leaves, so ranks decide it set-based.

Relations (Arrow tables registered by the caller):
  actions(seq, account_id, borrower_id, channel, purpose, template, planned_at TIMESTAMPTZ,
          third_party_id, time_zone, settled)
  holds(account_id, kind, since, until)         ceased(borrower_id, channel, since, until)
  inconvenient(borrower_id, weekday, start_s, end_s)   -- seconds of the local day
  attempts(borrower_id, at TIMESTAMPTZ, channel, outcome, third_party_id)
  templates(template, channel)                   -- approved ones
  third_parties(third_party_id, supplied_by_borrower, is_employer, employer_objected)
"""

import duckdb
import pyarrow as pa

from doorstep.compliance.engine.checks import CONVERSATION_OUTCOMES
from doorstep.compliance.engine.pack import Pack, Rule


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


def _fails_sql(rule: Rule, pack: Pack) -> str:
    """The rule's failure as SQL over `x` (actions with local time) — caps need the ranks."""
    match rule.check:
        case "settled":
            return "x.settled"
        case "hold":
            return (
                "EXISTS (SELECT 1 FROM holds h WHERE h.account_id = x.account_id "
                f"AND h.kind IN ({_in(rule.kinds)}) AND h.since <= x.local_day "
                "AND (h.until IS NULL OR h.until >= x.local_day))"
            )
        case "cease":
            return (
                "EXISTS (SELECT 1 FROM ceased c WHERE c.borrower_id = x.borrower_id "
                "AND (c.channel = 'all' OR c.channel = x.channel) AND c.since <= x.local_day "
                "AND (c.until IS NULL OR c.until >= x.local_day))"
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
            days = ", ".join(f"DATE '{d.isoformat()}'" for d in pack.quiet_days)
            return f"x.local_day IN ({days})" if days else "FALSE"
        case "template":
            return (
                "NOT EXISTS (SELECT 1 FROM templates t WHERE t.template = x.template "
                "AND t.channel = x.channel)"
            )
        case "after_conversation":
            return (
                "EXISTS (SELECT 1 FROM attempts_local a WHERE a.borrower_id = x.borrower_id "
                f"AND a.channel = 'call' AND a.outcome IN ({_in(CONVERSATION_OUTCOMES)}) "
                f"AND a.local_day BETWEEN x.local_day - {rule.days - 1} AND x.local_day)"
            )
        case "third_party":
            return (
                "(tp.third_party_id IS NULL OR NOT tp.supplied_by_borrower "
                "OR x.purpose <> 'locate' OR (tp.is_employer AND tp.employer_objected))"
            )
    raise ValueError(rule.check)


def _history_sql(rule: Rule, column: str) -> str:
    if rule.check == "third_party":
        match = "a.channel = 'third_party_call' AND a.third_party_id = x.third_party_id"
    else:
        match = f"a.channel IN ({_in(rule.counted)})"
    return (
        f"(SELECT COUNT(*) FROM attempts_local a WHERE a.borrower_id = x.borrower_id AND {match} "
        f"AND a.local_day BETWEEN x.local_day - {rule.days - 1} AND x.local_day) AS {column}"
    )


def bulk_sql(pack: Pack) -> str:
    _check_groups(pack)
    rules = list(pack.rules)
    counted = [r for r in rules if r.check in ("cap", "third_party")]
    plain = [r for r in rules if r.check not in ("cap",)]
    flags = ",\n       ".join(
        f"{_fails_sql(r, pack)} AS f{n}" for n, r in enumerate(rules) if r in plain
    )
    history = ",\n       ".join(_history_sql(r, f"h{rules.index(r)}") for r in counted)
    applies = {n: f"x.channel IN ({_in(r.channels)})" for n, r in enumerate(rules)}
    base_ok = (
        " AND ".join(f"NOT ({applies[n]} AND f{n})" for n, r in enumerate(rules) if r in plain)
        or "TRUE"
    )
    groups = sorted({_group(r) for r in rules if r.check == "cap"})
    ranks = []
    for g in groups:
        members = next(r.counted for r in rules if r.check == "cap" and _group(r) == g)
        ranks.append(
            f"SUM(CASE WHEN base_ok AND channel IN ({_in(members)}) THEN 1 ELSE 0 END) OVER ("
            "PARTITION BY borrower_id ORDER BY planned_at, seq "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_{g}"
        )
        caps = [n for n, r in enumerate(rules) if r.check == "cap" and _group(r) == g]
        room = "LEAST(" + ", ".join(f"{rules[n].limit} - h{n}" for n in caps) + ")"
        ranks.append(f"MIN({room}) OVER (PARTITION BY borrower_id) AS room_{g}")
    tp = [n for n, r in enumerate(rules) if r.check == "third_party"]
    for n in tp:
        ranks.append(
            f"SUM(CASE WHEN base_ok AND channel = 'third_party_call' THEN 1 ELSE 0 END) OVER ("
            "PARTITION BY borrower_id, third_party_id ORDER BY planned_at, seq "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_tp{n}"
        )
    rank_columns = ",\n       ".join(ranks)
    verdict = []
    for n, r in enumerate(rules):
        if r.check == "cap":
            g = _group(r)
            used = f"LEAST(GREATEST(room_{g}, 0), COALESCE(before_{g}, 0))"
            fails = f"h{n} + {used} >= {r.limit}"
        elif r.check == "third_party":
            fails = f"(f{n} OR h{n} + COALESCE(before_tp{n}, 0) >= {r.limit})"
        else:
            fails = f"f{n}"
        verdict.append(f"WHEN {applies[n].replace('x.', '')} AND {fails} THEN '{r.id}'")
    return f"""
WITH attempts_local AS (
    SELECT a.borrower_id, a.channel, a.outcome, a.third_party_id,
           CAST(timezone(z.time_zone, a.at) AS DATE) AS local_day
    FROM attempts a
    JOIN (SELECT DISTINCT borrower_id, time_zone FROM actions) z ON z.borrower_id = a.borrower_id
),
x AS (
    SELECT a.*, CAST(timezone(a.time_zone, a.planned_at) AS DATE) AS local_day,
           CAST(EXTRACT(EPOCH FROM CAST(timezone(a.time_zone, a.planned_at) AS TIME)) AS BIGINT)
               AS local_s,
           isodow(timezone(a.time_zone, a.planned_at)) - 1 AS weekday
    FROM actions a
),
checked AS (
    SELECT x.*,
       {flags}{"," if history else ""}
       {history}
    FROM x LEFT JOIN third_parties tp ON tp.third_party_id = x.third_party_id
),
based AS (
    SELECT x.*, {base_ok} AS base_ok FROM checked x
),
ranked AS (
    SELECT *{"," if ranks else ""}
       {rank_columns}
    FROM based
)
SELECT seq, CASE {" ".join(verdict)} END AS rule_id
FROM ranked
ORDER BY seq
"""


def check_bulk(pack: Pack, tables: dict[str, pa.Table], threads: int = 2) -> pa.Table:
    """(seq, rule_id) for every action: rule_id NULL where allowed."""
    db = duckdb.connect()
    db.execute(f"SET threads = {threads}")
    for name, table in tables.items():
        db.register(name, table)
    return db.sql(bulk_sql(pack)).to_arrow_table()
