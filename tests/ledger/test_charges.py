"""Late fees and penalty interest: posted set-based, by product policy, once."""

from datetime import date

import pytest
from django.test import override_settings

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import assess_charges, check_ledger
from doorstep.ledger.models import Account, LedgerEntry
from doorstep.ledger.queries import account_position, portfolio_positions

pytestmark = pytest.mark.django_db

POLICY = {
    "micro_loan": {"late_fee_cents": 0, "late_fee_grace_days": 3, "penalty_bps_per_day": 5},
    "instalment": {"late_fee_cents": 3000, "late_fee_grace_days": 3, "penalty_bps_per_day": 5},
    "credit_card": {"late_fee_cents": 5000, "late_fee_grace_days": 3, "penalty_bps_per_day": 10},
}


@override_settings(DOORSTEP_CHARGES=POLICY)
def test_charges_follow_the_product_policy(portfolio_dir):
    import_portfolio(portfolio_dir)

    posted = assess_charges(date(2026, 5, 14))

    # A0001 (instalment): instalment 4 fell due 2026-05-10 and got ¥500 of ¥1,060 on 06-01 only,
    # so on 05-14 it is 4 days late, past the 3 grace days: one late fee of ¥30, and a day's
    # penalty on its ¥1,000 principal at 5 bp = 50 cents.
    a1 = LedgerEntry.objects.filter(account_id="A0001").exclude(kind="payment")
    assert sorted(a1.values_list("kind", "amount_cents", "instalment__seq")) == [
        ("late_fee", 3000, 4),
        ("penalty_interest", 50, 4),
    ]
    # A0003 (credit card, 6 × ¥1,055 from January, ¥1,055 paid): instalments 2–5 are late; each
    # gets ¥50 and a day's penalty at 10 bp on ¥1,000 = 100 cents.
    a3 = LedgerEntry.objects.filter(account_id="A0003").exclude(kind="payment")
    assert sorted(a3.values_list("kind", "amount_cents", "instalment__seq")) == [
        ("late_fee", 5000, 2), ("late_fee", 5000, 3), ("late_fee", 5000, 4), ("late_fee", 5000, 5),
        ("penalty_interest", 100, 2), ("penalty_interest", 100, 3), ("penalty_interest", 100, 4),
        ("penalty_interest", 100, 5),
    ]  # fmt: skip
    # A0002 (micro-loan, paid on time) and A0004 (paid its first, second due 05-15) owe nothing late.
    assert not LedgerEntry.objects.filter(account_id__in=["A0002", "A0004"]).exclude(kind="payment")
    assert (posted.late_fees, posted.penalty_entries, posted.penalty_cents) == (5, 5, 450)
    assert Account.objects.get(pk="A0003").charged_cents == 4 * 5000 + 4 * 100
    assert check_ledger() == (4, [])


@override_settings(DOORSTEP_CHARGES=POLICY)
def test_assessing_the_same_day_twice_posts_nothing_new(portfolio_dir):
    import_portfolio(portfolio_dir)
    assess_charges(date(2026, 5, 14))
    count = LedgerEntry.objects.count()

    again = assess_charges(date(2026, 5, 14))

    assert (again.late_fees, again.penalty_entries) == (0, 0)
    assert LedgerEntry.objects.count() == count


@override_settings(DOORSTEP_CHARGES=POLICY)
def test_charges_are_paid_first_and_both_paths_still_agree(portfolio_dir):
    import_portfolio(portfolio_dir)
    for day in (date(2026, 5, 14), date(2026, 5, 15), date(2026, 5, 16)):
        assess_charges(day)
    account = Account.objects.get(pk="A0001")
    as_of = date(2026, 6, 2)

    realtime = account_position(account, as_of)
    row = next(r for r in portfolio_positions(as_of) if r.account_id == "A0001")

    # 06-01's ¥500 paid instalment 4's late fee and 3 days of penalty first, then its interest,
    # then part of its principal.
    state = realtime.instalments[3]
    assert state.paid == {
        "late_fee": 3000,
        "penalty_interest": 150,
        "interest": 6000,
        "principal": 40850,
    }
    assert (row.dpd, row.overdue, row.outstanding) == (
        realtime.dpd,
        realtime.overdue,
        realtime.outstanding,
    )
    assert realtime.dpd == 23


def test_settled_accounts_accrue_nothing(portfolio_dir):
    import_portfolio(portfolio_dir)

    assess_charges(date(2026, 11, 23))

    assert not LedgerEntry.objects.filter(account_id="A0002").exclude(kind="payment").exists()
