"""doorstep bench compliance --actions N: set-based checking throughput of the guard.

Builds a day's N planned actions for N/3 borrowers (mixed channels and times, some in other time
zones, with 30 days of contact history, holds, cease requests and third parties), then times the
bulk check (one DuckDB statement) of the active pack. Also times the one-by-one Python guard on a
sample, for comparison. No database is touched.
"""

import resource
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from doorstep.compliance.engine.bulk import check_bulk
from doorstep.compliance.engine.checks import Action, Attempt, Context, evaluate
from doorstep.compliance.engine.pack import load_pack

DAY = date(2026, 11, 20)
ZONES = np.array(["Asia/Shanghai", "Asia/Urumqi", "America/New_York"])
CHANNELS = np.array(
    ["call", "call", "call", "sms", "app", "email", "visit", "letter", "third_party_call"]
)
OUTCOMES = np.array(
    ["no_answer", "reached", "delivered", "refused", "unreachable", "promise_to_pay"]
)


def add_arguments(parser) -> None:
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--pack", default="cn-default")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)


def synthetic(n: int, seed: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    borrowers = max(n // 3, 1)
    b = rng.integers(0, borrowers, n)
    zone = ZONES[rng.choice(3, borrowers, p=[0.8, 0.15, 0.05])]
    # Planned between 07:00 and 22:00 on DAY in each borrower's own time zone.
    seven = {
        z: int(datetime.combine(DAY, time(7), ZoneInfo(z)).timestamp()) for z in ZONES.tolist()
    }
    start_of = np.array([seven[z] for z in zone])[b]
    planned = (start_of + rng.integers(0, 15 * 3600, n)).astype("datetime64[s]")
    start = np.datetime64(datetime(2026, 11, 19, 23, 0, tzinfo=UTC).replace(tzinfo=None), "s")
    channel = CHANNELS[rng.integers(0, len(CHANNELS), n)]
    tp = np.where(channel == "third_party_call", np.char.add("T", b.astype(str)), None)
    history_n = borrowers * 10
    hb = rng.integers(0, borrowers, history_n)
    h_at = start - rng.integers(3600, 30 * 86400, history_n).astype("timedelta64[s]")
    h_channel = CHANNELS[rng.integers(0, len(CHANNELS), history_n)]
    ids = np.char.add("B", np.arange(borrowers).astype(str))
    utc = pa.timestamp("s", tz="UTC")
    return {
        "actions": pa.table(
            {
                "seq": np.arange(n),
                "account_id": np.char.add("A", b.astype(str)),
                "borrower_id": ids[b],
                "channel": channel,
                "purpose": np.where(channel == "third_party_call", "locate", "collection"),
                "template": np.where(rng.random(n) < 0.98, "approved", "draft"),
                "planned_at": pa.array(planned, utc),
                "third_party_id": pa.array(tp, pa.string()),
                "time_zone": zone[b],
                "settled": rng.random(n) < 0.01,
                "language": np.where(zone[b] == "America/New_York", "en", "zh"),
            }
        ),
        "holds": pa.table(
            {
                "account_id": np.char.add("A", rng.integers(0, borrowers, n // 50).astype(str)),
                "kind": np.array(["dispute", "complaint", "cease_visit"])[
                    rng.integers(0, 3, n // 50)
                ],
                "since": pa.array([DAY - timedelta(days=3)] * (n // 50), pa.date32()),
                "until": pa.array([None] * (n // 50), pa.date32()),
            }
        ),
        "ceased": pa.table(
            {
                "borrower_id": ids[rng.integers(0, borrowers, n // 100)],
                "channel": np.array(["all", "sms", "call"])[rng.integers(0, 3, n // 100)],
                "since": pa.array([DAY - timedelta(days=10)] * (n // 100), pa.date32()),
                "until": pa.array([None] * (n // 100), pa.date32()),
            }
        ),
        "inconvenient": pa.table(
            {
                "borrower_id": ids[rng.integers(0, borrowers, n // 100)],
                "weekday": pa.array([None] * (n // 100), pa.int32()),
                "start_s": np.full(n // 100, 12 * 3600),
                "end_s": np.full(n // 100, 14 * 3600),
            }
        ),
        "attempts": pa.table(
            {
                "borrower_id": ids[hb],
                "at": pa.array(h_at, utc),
                "channel": h_channel,
                "outcome": OUTCOMES[rng.integers(0, len(OUTCOMES), history_n)],
                "third_party_id": pa.array(
                    np.where(
                        h_channel == "third_party_call", np.char.add("T", hb.astype(str)), None
                    ),
                    pa.string(),
                ),
            }
        ),
        "templates": pa.table(
            {
                "template": ["approved"] * 8,
                "channel": ["sms", "app", "email", "letter"] * 2,
                "language": ["zh"] * 4 + ["en"] * 4,
            }
        ),
        "third_parties": pa.table(
            {
                "third_party_id": np.char.add("T", np.arange(borrowers).astype(str)),
                "supplied_by_borrower": np.ones(borrowers, bool),
                "is_employer": rng.random(borrowers) < 0.2,
                "employer_objected": rng.random(borrowers) < 0.1,
            }
        ),
    }


def run(options: dict, out) -> dict:
    n, pack = options["actions"], load_pack(options["pack"])
    out(f"building {n:,} planned actions …")
    tables = synthetic(n, options["seed"])
    started = clock.perf_counter()
    result = check_bulk(pack, tables, threads=options["threads"])
    seconds = clock.perf_counter() - started
    rules = result.column("rule_id").value_counts().to_pylist()
    refused = {r["values"]: r["counts"] for r in rules if r["values"] is not None}
    sample = _python_rate(pack, tables, min(n, 20_000))
    return {
        "pack": pack.label,
        "actions": n,
        "seconds": round(seconds, 3),
        "actions_per_s": round(n / seconds),
        "allowed": n - sum(refused.values()),
        "refused_by_rule": dict(sorted(refused.items(), key=lambda kv: -kv[1])),
        "python_one_by_one_actions_per_s": sample,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _python_rate(pack, tables, n: int) -> int:
    """The single-action guard over the first n actions (contexts prepared outside the timing)."""
    a = tables["actions"].slice(0, n).to_pylist()
    by_borrower: dict[str, list[Attempt]] = {}
    for row in tables["attempts"].to_pylist():
        by_borrower.setdefault(row["borrower_id"], []).append(
            Attempt(row["at"], row["channel"], row["outcome"], row["third_party_id"])
        )
    pairs = [
        (
            Action(
                r["account_id"],
                r["borrower_id"],
                r["channel"],
                r["purpose"],
                "bench",
                r["planned_at"].astimezone(UTC),
                r["template"],
                r["third_party_id"],
            ),
            Context(
                time_zone=r["time_zone"],
                settled=r["settled"],
                attempts=tuple(by_borrower.get(r["borrower_id"], ())),
                template_approved=r["template"] == "approved",
            ),
        )
        for r in a
    ]
    started = clock.perf_counter()
    for action, context in pairs:
        evaluate(pack, action, context)
    return round(n / (clock.perf_counter() - started))
