"""The bulk guard (one DuckDB statement for a day's actions) equals the one-by-one guard in
planned order, for both packs, across time zones (hypothesis)."""

from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from doorstep.compliance.engine.bulk import check_bulk
from doorstep.compliance.engine.checks import (
    Action,
    Attempt,
    Context,
    Inconvenient,
    ThirdParty,
    evaluate_in_order,
)
from doorstep.compliance.engine.pack import load_pack

PACKS = [load_pack("cn-default"), load_pack("us-regf")]
ZONES = ["Asia/Shanghai", "Asia/Urumqi", "America/New_York", "Europe/London"]
CHANNELS = ["sms", "email", "app", "call", "call", "visit", "letter", "third_party_call"]
OUTCOMES = ["delivered", "reached", "no_answer", "unreachable", "refused", "promise_to_pay"]
HOLDS = ["dispute", "complaint", "cease_visit", "visit_declined", "deceased", "bankruptcy",
         "legal_action"]  # fmt: skip
DAY = date(2026, 10, 1)  # a quiet day in cn-default, sometimes; the batch day varies below


@st.composite
def borrower(draw, n):
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from([date(2026, 10, 1), date(2026, 11, 20), date(2026, 11, 21)]))
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    history = tuple(
        Attempt(
            midnight - timedelta(minutes=draw(st.integers(600, 40 * 24 * 60))),
            draw(st.sampled_from(CHANNELS)),
            draw(st.sampled_from(OUTCOMES)),
            draw(st.sampled_from([None, f"T{n}a", f"T{n}b"])),
        )
        for _ in range(draw(st.integers(0, 12)))
    )
    holds = draw(st.lists(st.sampled_from(HOLDS), max_size=1, unique=True))
    ceased = draw(st.lists(st.sampled_from(["all", "sms", "call", "visit"]), max_size=1))
    slots = tuple(
        Inconvenient(draw(st.none() | st.integers(0, 6)), time(h), time(h + 2))
        for h in draw(st.lists(st.integers(6, 20), max_size=1))
    )
    actions = []
    for _k in range(draw(st.integers(1, 8))):
        channel = draw(st.sampled_from(CHANNELS))
        # Planned on the batch day in the borrower's zone: spread over 06:00–23:00 local.
        local_minutes = draw(
            st.sampled_from([479, 480, 1199, 1200, 1259, 1260]) | st.integers(360, 1380)
        )
        from zoneinfo import ZoneInfo

        planned = datetime.combine(day, time(0), ZoneInfo(zone)) + timedelta(minutes=local_minutes)
        actions.append(
            Action(
                account_id=f"A{n}",
                borrower_id=f"B{n}",
                channel=channel,
                purpose=draw(st.sampled_from(["collection", "locate"])),
                actor="test",
                planned_at=planned.astimezone(UTC),
                template=draw(st.sampled_from(["ok", "draft"])),
                third_party_id=draw(st.sampled_from([f"T{n}a", f"T{n}b", "T-harvested"]))
                if channel == "third_party_call"
                else None,
            )
        )
    settled = draw(st.booleans()) and draw(st.booleans())
    return zone, history, frozenset(holds), frozenset(ceased), slots, settled, actions


def third_parties(n):
    return {
        f"T{n}a": ThirdParty(True, False, False),
        f"T{n}b": ThirdParty(True, True, n % 2 == 0),
        "T-harvested": ThirdParty(False, False, False),
    }


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True).flatmap(
        lambda ids: st.tuples(*[borrower(i) for i in ids]).map(
            lambda bs: list(zip(ids, bs, strict=True))
        )
    ),
    st.sampled_from([0, 1]),
)
def test_bulk_equals_one_by_one(borrowers, which):
    expected, got = run_both(PACKS[which], borrowers)
    assert got == expected


def test_caps_within_the_batch_report_the_first_rule_in_pack_order():
    # Six calls on the six days before and five planned today: the 7-day cap leaves room for one.
    # Refused calls are not attempts, so the daily cap (earlier in the pack) is never reached:
    # counting them would wrongly name it from the 4th call on.
    from zoneinfo import ZoneInfo

    zone = "Asia/Urumqi"
    day = date(2026, 11, 20)
    local = lambda d, h: datetime.combine(d, time(h), ZoneInfo(zone)).astimezone(UTC)  # noqa: E731
    history = tuple(
        Attempt(local(day - timedelta(days=k), 9), "call", "no_answer") for k in range(1, 7)
    )
    batch = [
        Action("A1", "B1", "call", "collection", "t", local(day, 9 + k), "ok") for k in range(5)
    ]
    expected, got = run_both(
        PACKS[0], [(1, (zone, history, frozenset(), frozenset(), (), False, batch))]
    )
    assert got == expected == [None] + ["cn.cap.calls_7d"] * 4


def run_both(pack, borrowers):
    actions, contexts = [], []
    rows = {
        k: []
        for k in ("holds", "ceased", "inconvenient", "attempts", "templates", "third_parties",
                  "placements")
    }  # fmt: skip
    rows["templates"] = [
        {"template": "ok", "channel": c, "language": "zh"}
        for c in ("sms", "email", "app", "letter")
    ]
    for n, (zone, history, holds, ceased, slots, settled, batch) in borrowers:
        tps = third_parties(n)
        for action in batch:
            actions.append(action)
            day = action.planned_at.astimezone(__import__("zoneinfo").ZoneInfo(zone)).date()
            contexts.append(Context(
                time_zone=zone, settled=settled, holds=holds, ceased=ceased, inconvenient=slots,
                attempts=history, template_approved=action.template == "ok",
                third_party=tps.get(action.third_party_id),
                placed_with="AG1" if n % 5 == 3 else None,  # every fifth borrower is placed
            ))  # fmt: skip
            del day
        if n % 5 == 3:
            rows["placements"].append(
                {"account_id": f"A{n}", "since": date(2026, 1, 1), "until": None}
            )
        rows["holds"] += [
            {"account_id": f"A{n}", "kind": k, "since": date(2026, 1, 1), "until": None}
            for k in holds
        ]
        rows["ceased"] += [
            {"borrower_id": f"B{n}", "channel": c, "since": date(2026, 1, 1), "until": None}
            for c in ceased
        ]
        rows["inconvenient"] += [
            {
                "borrower_id": f"B{n}",
                "weekday": s.weekday,
                "start_s": s.start.hour * 3600,
                "end_s": s.end.hour * 3600,
            }
            for s in slots
        ]
        rows["attempts"] += [
            {"borrower_id": f"B{n}", "at": a.at, "channel": a.channel, "outcome": a.outcome,
             "third_party_id": a.third_party_id}
            for a in history
        ]  # fmt: skip
        rows["third_parties"] += [
            {"third_party_id": k, "supplied_by_borrower": v.supplied_by_borrower,
             "is_employer": v.is_employer, "employer_objected": v.employer_objected}
            for k, v in tps.items() if k != "T-harvested" or n == borrowers[0][0]
        ]  # fmt: skip
    zones = {f"B{n}": b[0] for n, b in borrowers}
    settled = {f"A{n}": b[5] for n, b in borrowers}
    tables = {
        "actions": pa.table(
            {
                "seq": list(range(len(actions))),
                "account_id": [a.account_id for a in actions],
                "borrower_id": [a.borrower_id for a in actions],
                "channel": [a.channel for a in actions],
                "purpose": [a.purpose for a in actions],
                "template": [a.template for a in actions],
                "planned_at": pa.array(
                    [a.planned_at for a in actions], pa.timestamp("us", tz="UTC")
                ),
                "third_party_id": pa.array([a.third_party_id for a in actions], pa.string()),
                "time_zone": [zones[a.borrower_id] for a in actions],
                "settled": [settled[a.account_id] for a in actions],
                "language": ["zh"] * len(actions),
            }
        ),
        "holds": pa.Table.from_pylist(rows["holds"], SCHEMAS["holds"]),
        "placements": pa.Table.from_pylist(rows["placements"], SCHEMAS["placements"]),
        "ceased": pa.Table.from_pylist(rows["ceased"], SCHEMAS["ceased"]),
        "inconvenient": pa.Table.from_pylist(rows["inconvenient"], SCHEMAS["inconvenient"]),
        "attempts": pa.Table.from_pylist(rows["attempts"], SCHEMAS["attempts"]),
        "templates": pa.Table.from_pylist(rows["templates"], SCHEMAS["templates"]),
        "third_parties": pa.Table.from_pylist(rows["third_parties"], SCHEMAS["third_parties"]),
    }
    expected = [v.rule.id if v.rule else None for v in evaluate_in_order(pack, actions, contexts)]
    got = check_bulk(pack, tables).column("rule_id").to_pylist()
    return expected, got


SCHEMAS = {
    "placements": pa.schema([("account_id", pa.string()), ("since", pa.date32()), ("until", pa.date32())]),
    "holds": pa.schema([("account_id", pa.string()), ("kind", pa.string()), ("since", pa.date32()), ("until", pa.date32())]),
    "ceased": pa.schema([("borrower_id", pa.string()), ("channel", pa.string()), ("since", pa.date32()), ("until", pa.date32())]),
    "inconvenient": pa.schema([("borrower_id", pa.string()), ("weekday", pa.int32()), ("start_s", pa.int64()), ("end_s", pa.int64())]),
    "attempts": pa.schema([("borrower_id", pa.string()), ("at", pa.timestamp("us", tz="UTC")), ("channel", pa.string()), ("outcome", pa.string()), ("third_party_id", pa.string())]),
    "templates": pa.schema([("template", pa.string()), ("channel", pa.string()), ("language", pa.string())]),
    "third_parties": pa.schema([("third_party_id", pa.string()), ("supplied_by_borrower", pa.bool_()), ("is_employer", pa.bool_()), ("employer_objected", pa.bool_())]),
}  # fmt: skip
