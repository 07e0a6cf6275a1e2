"""The two ways of computing an account's figures agree, and money is conserved.

The real-time path walks one account's schedule in Python (`ledger.engine.positions`); the
portfolio path is one SQL statement over every account (`ledger.queries.portfolio_positions`).
Hypothesis generates schedules, payments, waivers and charges; both paths must give the same DPD,
bucket, overdue and outstanding for every account on several as-of dates.
"""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.ledger.engine.positions import (
    Entry,
    ScheduledInstalment,
    bucket_for,
    position,
)
from doorstep.ledger.models import Account, Borrower, Instalment, LedgerEntry, Region
from doorstep.ledger.queries import account_position, portfolio_positions

START = date(2025, 1, 1)
_ids = itertools.count()


@st.composite
def accounts(draw):
    """A schedule with rising due dates, and entries anywhere in time, on any instalment."""
    count = draw(st.integers(1, 8))
    gaps = draw(st.lists(st.integers(1, 45), min_size=count, max_size=count))
    first = START + timedelta(days=draw(st.integers(0, 60)))
    schedule, due = [], first
    for seq, gap in enumerate(gaps, start=1):
        due = due + timedelta(days=gap) if seq > 1 else first
        schedule.append(
            ScheduledInstalment(
                seq=seq,
                due_date=due,
                principal=draw(st.integers(0, 500_000)),
                interest=draw(st.integers(0, 20_000)),
                fee=draw(st.sampled_from([0, 0, 500, 1_000])),
            )
        )
    day = st.integers(0, 500).map(lambda n: START + timedelta(days=n))
    # Real payments are mostly exact instalment amounts: those hit the "exactly paid" boundaries.
    exact = sorted({i.scheduled for i in schedule if i.scheduled > 0}) or [1]
    amount = st.one_of(st.sampled_from(exact), st.integers(1, 400_000))
    entries = draw(
        st.lists(
            st.one_of(
                st.builds(Entry, st.just("payment"), amount, day),
                st.builds(Entry, st.just("payment"), amount, day),
                st.builds(Entry, st.just("waiver"), st.integers(1, 5_000), day),
                st.builds(
                    Entry,
                    st.sampled_from(["late_fee", "penalty_interest"]),
                    st.integers(1, 9_000),
                    day,
                    st.integers(1, count),
                ),
            ),
            max_size=12,
        )
    )
    # The ledger allows one late fee per instalment and one penalty accrual per instalment and day.
    seen, kept = set(), []
    for entry in entries:
        key = (
            entry.kind,
            entry.seq,
            entry.effective_on if entry.kind == "penalty_interest" else None,
        )
        if entry.seq is None or key not in seen:
            seen.add(key)
            kept.append(entry)
    return schedule, kept


AS_OF = st.lists(
    st.integers(0, 520).map(lambda n: START + timedelta(days=n)), min_size=1, max_size=4
)


def _store(schedule, entries) -> Account:
    region, _ = Region.objects.get_or_create(
        code="440305", defaults={"name": "南山区", "field_coverage": "in_house"}
    )
    number = next(_ids)
    borrower = Borrower.objects.create(
        id=f"HB{number}", name="测试", national_id_encrypted="x", national_id_hash="x",
        phone_encrypted="x", phone_hash="x", address="深圳", region=region, content_hash="x",
    )  # fmt: skip
    account = Account.objects.create(
        id=f"HA{number}", borrower=borrower, product="instalment",
        opened_on=START, principal_cents=max(1, sum(i.principal for i in schedule)),
    )  # fmt: skip
    running = 0
    rows = {}
    for inst in schedule:
        running += inst.scheduled
        rows[inst.seq] = Instalment.objects.create(
            account=account, seq=inst.seq, due_date=inst.due_date, principal_cents=inst.principal,
            interest_cents=inst.interest, fee_cents=inst.fee, cumulative_cents=running,
        )  # fmt: skip
    noon = datetime(2025, 1, 1, 4, tzinfo=UTC)
    for entry in entries:
        LedgerEntry.objects.create(
            account=account, kind=entry.kind, amount_cents=entry.amount,
            effective_on=entry.effective_on, occurred_at=noon, recorded_at=noon,
            instalment=rows[entry.seq] if entry.seq else None, source="system", recorded_by="test",
        )  # fmt: skip
    return account


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(portfolio=st.lists(accounts(), min_size=1, max_size=5), dates=AS_OF)
def test_set_based_and_single_account_paths_agree(portfolio, dates):
    with transaction.atomic():
        stored = [(_store(schedule, entries), schedule, entries) for schedule, entries in portfolio]
        for as_of in dates:
            rows = {row.account_id: row for row in portfolio_positions(as_of)}
            for account, schedule, entries in stored:
                engine = position(schedule, entries, as_of)
                realtime = account_position(account, as_of)
                portfolio_row = rows[account.id]
                expected = (engine.dpd, engine.bucket, engine.overdue, engine.outstanding)
                assert (
                    realtime.dpd,
                    realtime.bucket,
                    realtime.overdue,
                    realtime.outstanding,
                ) == expected
                assert (
                    portfolio_row.dpd,
                    portfolio_row.bucket,
                    portfolio_row.overdue,
                    portfolio_row.outstanding,
                ) == expected
                assert portfolio_row.credited == engine.credited
                assert portfolio_row.charged == engine.charged
        transaction.set_rollback(True)


@given(data=accounts(), as_of=st.integers(0, 520).map(lambda n: START + timedelta(days=n)))
def test_money_is_conserved(data, as_of):
    schedule, entries = data
    result = position(schedule, entries, as_of)
    allocated = sum(sum(state.paid.values()) for state in result.instalments)
    credited = sum(
        e.amount for e in entries if e.kind in ("payment", "waiver") and e.effective_on <= as_of
    )
    charged = sum(
        e.amount
        for e in entries
        if e.kind in ("late_fee", "penalty_interest") and e.effective_on <= as_of
    )
    # Everything credited is either allocated to an instalment or left over as a credit balance.
    assert allocated + result.unapplied == credited
    # Nothing is owed that was not scheduled or charged, and nothing paid twice.
    assert result.outstanding == result.scheduled + charged - allocated
    assert all(
        0 <= state.paid.get(c, 0) <= state.owed.get(c, 0)
        for state in result.instalments
        for c in state.owed
    )
    assert result.unapplied == 0 or result.outstanding == 0
    assert sum(result.overdue_by_component().values()) == result.overdue
    assert 0 <= result.overdue <= result.outstanding
    assert (result.overdue > 0) == (result.dpd >= 1)


def test_allocation_order_fees_then_interest_then_principal_oldest_first():
    schedule = [
        ScheduledInstalment(1, date(2026, 1, 10), principal=10_000, interest=600, fee=100),
        ScheduledInstalment(2, date(2026, 2, 10), principal=10_000, interest=600, fee=100),
    ]
    entries = [
        Entry("late_fee", 3_000, date(2026, 1, 14), seq=1),
        Entry("payment", 3_500, date(2026, 1, 20)),
    ]
    result = position(schedule, entries, date(2026, 1, 31))
    first = result.instalments[0]
    assert first.paid == {"late_fee": 3_000, "fee": 100, "interest": 400}
    assert result.dpd == 21
    assert result.overdue == 10_000 + 600 + 100 + 3_000 - 3_500
    assert result.instalments[1].paid == {}


def test_payment_on_the_as_of_day_counts_and_a_later_one_does_not():
    schedule = [ScheduledInstalment(1, date(2026, 3, 1), principal=5_000)]
    paid_same_day = position(
        schedule, [Entry("payment", 5_000, date(2026, 3, 5))], date(2026, 3, 5)
    )
    paid_next_day = position(
        schedule, [Entry("payment", 5_000, date(2026, 3, 6))], date(2026, 3, 5)
    )
    assert (paid_same_day.dpd, paid_same_day.settled) == (0, True)
    assert (paid_next_day.dpd, paid_next_day.overdue) == (4, 5_000)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"),
     (91, "M4"), (121, "M5"), (151, "M6"), (180, "M6"), (181, "M6+"), (900, "M6+")],
)  # fmt: skip
def test_buckets_follow_industry_usage(dpd, bucket):
    assert bucket_for(dpd) == bucket


def test_an_instalment_due_today_is_not_yet_overdue():
    schedule = [ScheduledInstalment(1, date(2026, 3, 1), principal=5_000)]
    on_the_day = position(schedule, [], date(2026, 3, 1))
    next_day = position(schedule, [], date(2026, 3, 2))
    assert (on_the_day.dpd, on_the_day.overdue, on_the_day.bucket) == (0, 0, "M0")
    assert (next_day.dpd, next_day.overdue, next_day.bucket) == (1, 5_000, "M1")
