"""The arrangement arithmetic, without a database: exact schedules, the terms offered, and when
an arrangement is kept, broken or completed."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.arrangements.engine.schedule import (
    BROKEN,
    COMPLETED,
    EXTENSION,
    INSTALMENT,
    KEPT,
    MINIMUM,
    PARTIAL,
    WAIVER,
    Limits,
    Line,
    Terms,
    TermsInvalid,
    check_terms,
    ends_on,
    minimum_cents,
    schedule,
    standing,
)

LIMITS = Limits()
TODAY = date(2026, 11, 23)


@given(
    amount=st.integers(3, 10**10),
    months=st.integers(3, 24),
    first=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_a_plan_sums_to_the_amount_to_the_cent_with_the_remainder_last(amount, months, first):
    lines = schedule(Terms(INSTALMENT, amount, first, months))
    assert len(lines) == months
    assert sum(line.amount_cents for line in lines) == amount
    assert [line.seq for line in lines] == list(range(1, months + 1))
    assert {line.amount_cents for line in lines[:-1]} == {amount // months}
    assert lines[-1].amount_cents == amount // months + amount % months
    dates = [line.due_date for line in lines]
    assert dates[0] == first
    assert all(a < b for a, b in itertools.pairwise(dates))
    # Each payment is in the next calendar month, on the first date's day or the month's end.
    for n, day in enumerate(dates):
        assert (day.year * 12 + day.month) - (first.year * 12 + first.month) == n
        assert day.day == first.day or (day.day < first.day and (day + timedelta(days=1)).day == 1)


def test_month_ends_clamp_and_come_back():
    lines = schedule(Terms(INSTALMENT, 300, date(2027, 1, 31), 3))
    assert [line.due_date for line in lines] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    assert [line.amount_cents for line in lines] == [100, 100, 100]


def test_single_payment_kinds_and_waiver():
    assert schedule(Terms(EXTENSION, 12_345, date(2026, 12, 1))) == [
        Line(1, date(2026, 12, 1), 12_345)
    ]
    assert schedule(Terms(WAIVER, 500, TODAY)) == []


def test_minimum_is_the_larger_of_share_and_floor_and_never_more_than_overdue():
    assert minimum_cents(2_000_000, LIMITS) == 200_000
    assert minimum_cents(50_001, LIMITS) == 10_000
    assert minimum_cents(5_000, LIMITS) == 5_000
    assert minimum_cents(1_000_001, LIMITS) == 100_001  # rounded up to the cent


def _check(terms, overdue=100_000, outstanding=500_000, waivable=3_000):
    check_terms(
        terms,
        today=TODAY,
        overdue_cents=overdue,
        outstanding_cents=outstanding,
        waivable_cents=waivable,
        limits=LIMITS,
    )


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (Terms("holiday", 100_000, TODAY), "kind"),
        (Terms(EXTENSION, 0, TODAY), "amount"),
        (Terms(EXTENSION, 100_000, TODAY - timedelta(days=1)), "first_due"),
        (Terms(EXTENSION, 100_000, TODAY + timedelta(days=31)), "first_due"),
        (Terms(EXTENSION, 90_000, TODAY + timedelta(days=30)), "amount"),
        (Terms(INSTALMENT, 100_000, TODAY, 2), "months"),
        (Terms(INSTALMENT, 100_000, TODAY, 25), "months"),
        (Terms(INSTALMENT, 123_456, TODAY, 6), "amount"),
        (Terms(INSTALMENT, 100_000, TODAY + timedelta(days=31), 6), "first_due"),
        (Terms(MINIMUM, 20_000, TODAY), "amount"),
        (Terms(PARTIAL, 9_999, TODAY), "amount"),
        (Terms(PARTIAL, 100_000, TODAY), "amount"),
        (Terms(WAIVER, 3_001, TODAY), "amount"),
    ],
)
def test_terms_not_offered_are_refused_naming_the_field(terms, field):
    with pytest.raises(TermsInvalid) as refused:
        _check(terms)
    assert refused.value.field == field


@pytest.mark.parametrize(
    "terms",
    [
        Terms(EXTENSION, 100_000, TODAY + timedelta(days=30)),
        Terms(INSTALMENT, 100_000, TODAY + timedelta(days=30), 3),
        Terms(INSTALMENT, 500_000, TODAY, 24),
        Terms(MINIMUM, 10_000, TODAY + timedelta(days=7)),
        Terms(PARTIAL, 50_000, TODAY + timedelta(days=7)),
        Terms(WAIVER, 3_000, TODAY),
    ],
)
def test_terms_offered_pass(terms):
    _check(terms)


def test_nothing_overdue_allows_only_a_plan_of_the_balance():
    with pytest.raises(TermsInvalid):
        _check(Terms(EXTENSION, 1, TODAY), overdue=0)
    _check(Terms(INSTALMENT, 500_000, TODAY, 6), overdue=0)


PLAN = schedule(Terms(INSTALMENT, 30_000, date(2026, 12, 1), 3))  # 1 Dec, 1 Jan, 1 Feb


def _standing(paid, as_of):
    return standing(PLAN, paid, as_of=as_of, ends=date(2027, 2, 1), grace_days=3)


def test_kept_while_each_payment_is_made_within_grace():
    assert _standing([], date(2026, 12, 4)).state == KEPT  # 3 days' grace
    assert _standing([(date(2026, 12, 4), 10_000)], date(2026, 12, 20)).state == KEPT


def test_a_missed_payment_breaks_it_the_day_after_grace():
    broken = _standing([], date(2026, 12, 5))
    assert (broken.state, broken.missed_seq, broken.due_cents, broken.paid_cents) == (
        BROKEN,
        1,
        10_000,
        0,
    )
    # Short on the second payment: payments cover the lines in order.
    short = _standing([(date(2026, 12, 1), 10_000), (date(2027, 1, 2), 9_999)], date(2027, 1, 5))
    assert (short.state, short.missed_seq) == (BROKEN, 2)


def test_paying_ahead_keeps_it_and_completes_after_the_last_day():
    early = [(date(2026, 11, 30), 30_000)]
    assert _standing(early, date(2027, 2, 1)).state == KEPT
    assert _standing(early, date(2027, 2, 2)).state == COMPLETED
    # Payments after as_of do not count yet.
    assert _standing([(date(2026, 12, 10), 30_000)], date(2026, 12, 5)).state == BROKEN


def test_minimum_payment_holds_escalation_after_its_date():
    terms = Terms(MINIMUM, 10_000, date(2026, 12, 1))
    assert ends_on(terms, schedule(terms), LIMITS) == date(2026, 12, 31)
    plan = Terms(INSTALMENT, 30_000, date(2026, 12, 1), 3)
    assert ends_on(plan, schedule(plan), LIMITS) == date(2027, 2, 1)
