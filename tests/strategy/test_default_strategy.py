"""The default strategy reproduces DOMAIN §4 at each boundary, driven as a user drives it:
`doorstep import` → `doorstep nightly` → `doorstep decisions`."""

import csv
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)
HOLDS = ("dispute", "complaint", "deceased", "bankruptcy", "legal_action")
VISIT_HOLDS = ("visit_declined", "cease_visit")


def build() -> tuple[Portfolio, dict]:
    """The portfolio and, per account, (stage, triggers, blocked_by) expected as of AS_OF."""
    p = Portfolio(AS_OF)
    expect = {}

    def case(account_id, stage, triggers="", blocked="", **kwargs):
        p.account(account_id, **kwargs)
        expect[account_id] = (stage, triggers, blocked)
        return account_id

    # Days past due: 89 is phone, 90 is a home visit (¥3,000 or more); 179 vs 180 for legal.
    case("DPD89", "phone", "phone.dpd_31", overdue="5000.00", dpd=89)
    case("DPD90", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="5000.00", dpd=90)
    case("DPD179", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="5000.00", dpd=179)
    case("DPD180", "legal", "phone.dpd_31,home_visit.dpd_90,legal.dpd_180", overdue="5000.00",
         dpd=180)  # fmt: skip
    # Amount: ¥2,999.99 is not enough for a visit, ¥3,000.00 is.
    case("AMT2999.99", "phone", "phone.dpd_31", overdue="2999.99", dpd=95)
    case("AMT3000.00", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="3000.00", dpd=95)
    # The seeds' small debt is never visited, however late.
    case("SMALL", "phone", "phone.dpd_31", overdue="2000.00", dpd=200)
    # Reminder from day 1 to day 30, phone from 31.
    case("DPD1", "reminder", "reminder.dpd_1_30", overdue="800.00", dpd=1)
    case("DPD30", "reminder", "reminder.dpd_1_30", overdue="800.00", dpd=30)
    case("DPD31", "phone", "phone.dpd_31", overdue="800.00", dpd=31)
    # Pre-due: due within 3 days (today included), nothing overdue, no automatic debit.
    case("DUE0", "pre_due", "pre_due.due_soon", due_in=0)
    case("DUE3", "pre_due", "pre_due.due_soon", due_in=3)
    case("DUE4", "none", due_in=4)
    case("DUE3DEBIT", "none", due_in=3, auto_debit=True)
    # Large debt: ¥30,000 from day 31 (after the phone stage).
    case("LARGE", "home_visit", "phone.dpd_31,home_visit.large_debt", overdue="30000.00", dpd=31)
    case("LARGE-1", "phone", "phone.dpd_31", overdue="29999.99", dpd=31)
    case("LARGE30", "reminder", "reminder.dpd_1_30", overdue="30000.00", dpd=30)
    # A region with no field team or agency: the visit is blocked by that gate.
    case("NOCOVER", "phone", "phone.dpd_31,home_visit.dpd_90", "home_visit.coverage",
         overdue="5000.00", dpd=95, region="654002")  # fmt: skip
    case("AGENCY", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="5000.00", dpd=95,
         region="650102")  # fmt: skip
    # Suspending holds stop everything; visit holds only take the visit off the table.
    for kind in HOLDS:
        p.hold(case(f"HOLD-{kind}", "suspended", "phone.dpd_31,home_visit.dpd_90,suspended.hold",
                    overdue="5000.00", dpd=95), kind)  # fmt: skip
    for kind in VISIT_HOLDS:
        p.hold(case(f"HOLD-{kind}", "phone", "phone.dpd_31,home_visit.dpd_90",
                    "home_visit.no_visit_hold", overdue="5000.00", dpd=95), kind)  # fmt: skip
    # A hold that has ended no longer counts.
    p.hold(case("HOLD-ENDED", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="5000.00",
                dpd=95), "dispute", since_days_ago=40, until=AS_OF - timedelta(days=1))  # fmt: skip
    # Settled: out of collections, a dispute or not.
    case("SETTLED", "none")
    p.hold("SETTLED", "dispute")
    # A payment on the as-of day counts (23:59 local); one just after midnight does not.
    case("PAIDTODAY", "phone", "phone.dpd_31", overdue="5000.00", dpd=95)
    p.pay("PAIDTODAY", "2000.01", f"{AS_OF.isoformat()}T23:59:00+08:00")
    case("PAIDTOMORROW", "home_visit", "phone.dpd_31,home_visit.dpd_90", overdue="5000.00", dpd=95)
    p.pay("PAIDTOMORROW", "2000.01", f"{(AS_OF + timedelta(days=1)).isoformat()}T00:01:00+08:00")
    # Lost contact: no conversation in 30 days and the last call found the number unreachable.
    case("LOST", "home_visit", "phone.dpd_31,home_visit.lost_contact", overdue="5000.00", dpd=40)
    p.contact("LOST", 45, "call", "reached")
    p.contact("LOST", 3, "call", "unreachable")
    case("REACHED", "phone", "phone.dpd_31", overdue="5000.00", dpd=40)
    p.contact("REACHED", 29, "call", "reached")
    p.contact("REACHED", 3, "call", "unreachable")
    case("DELIVERED", "home_visit", "phone.dpd_31,home_visit.lost_contact", overdue="5000.00",
         dpd=40)  # fmt: skip
    p.contact("DELIVERED", 2, "sms", "delivered")  # a delivered message is not a conversation
    p.contact("DELIVERED", 3, "call", "wrong_number")
    # Three refusals in 30 days from day 61; two are not enough, nor is day 60.
    for account_id, dpd, refusals, stage, triggers in (
        ("REFUSED3", 61, 3, "home_visit", "phone.dpd_31,home_visit.refusals"),
        ("REFUSED2", 61, 2, "phone", "phone.dpd_31"),
        ("REFUSED3-60", 60, 3, "phone", "phone.dpd_31"),
    ):
        case(account_id, stage, triggers, overdue="5000.00", dpd=dpd)
        for n in range(refusals):
            p.contact(account_id, 1 + n * 9, "call", "refused")
    # Visit caps: two visits in 30 days block a third.
    case("VISITED2", "phone", "phone.dpd_31,home_visit.dpd_90", "home_visit.caps",
         overdue="5000.00", dpd=95)  # fmt: skip
    p.contact("VISITED2", 20, "visit", "no_answer")
    p.contact("VISITED2", 5, "visit", "reached")
    return p, expect


@pytest.mark.django_db(transaction=True)
def test_default_strategy_boundaries_through_the_command_line(tmp_path):
    portfolio, expect = build()
    call_command("import", str(portfolio.write(tmp_path / "portfolio")))
    call_command("nightly", "--as-of", AS_OF.isoformat())
    out = tmp_path / "decisions.csv"
    call_command("decisions", "--as-of", AS_OF.isoformat(), "--format", "csv", "--out", str(out))

    with out.open(encoding="utf-8") as f:
        got = {
            row["account_id"]: (row["stage"], row["triggers"], row["blocked_by"])
            for row in csv.DictReader(f)
        }
    wrong = {a: (got.get(a), want) for a, want in expect.items() if got.get(a) != want}
    assert wrong == {}
    assert set(got) == set(expect)
