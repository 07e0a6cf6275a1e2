"""The uplift report: per arm and risk band, the accounts that entered the home-visit stage, their
cure and recovery within N days, with 95% intervals. A small portfolio with real nightly runs in
the past and payments whose dates the test sets."""

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from doorstep.intake.importer import import_portfolio
from doorstep.scoring.engine.metrics import ratio_interval, wilson
from doorstep.strategy.domain import DEFAULT_STRATEGY, publish_strategy, run_nightly
from doorstep.strategy.queries import arm_bucket
from doorstep.strategy.uplift import uplift_report
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)  # outcomes read to here: windows of decisions up to 10-21 have closed
D1, D2, D3 = date(2026, 10, 1), date(2026, 10, 20), date(2026, 11, 1)
TWO_ARMS = "arms:\n  - id: champion\n    share: 50\n  - id: challenger\n    share: 50\n"


def paid_at(day: date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


def arm(account: str) -> str:
    return "champion" if arm_bucket(account) < 50 else "challenger"


# account -> (payments as (days after D1, yuan)); every one owes ¥5,000 due 100 days before D1
# (home visit from D1), V5 also ¥500 due later.
PAYMENTS = {
    "V1": [(10, "5000.00")],  # paid it all: cured, ¥5,000 recovered
    "V2": [(5, "2000.00")],  # part: not cured, ¥2,000
    "V3": [(40, "5000.00")],  # after the 30 days: neither
    "V4": [],  # nothing
    "V5": [(3, "5500.00")],  # settles (more than was overdue): cured, ¥5,000 counted
    "V6": [(12, "1000.00"), (25, "4000.00")],  # two payments covering it: cured, ¥5,000
}


@pytest.fixture
def visited(tmp_path, db):
    p = Portfolio(AS_OF)
    before_d1 = (AS_OF - D1).days + 100
    for account, payments in PAYMENTS.items():
        p.account(account, overdue="5000.00", dpd=before_d1, due_in=40 if account == "V5" else None)
        for days, amount in payments:
            p.pay(account, amount, paid_at(D1 + timedelta(days=days)))
    # V7 enters the stage on D2 (90 days behind then), V8 on D3 (its window is still open)
    p.account("V7", overdue="4000.00", dpd=(AS_OF - D2).days + 90)
    p.pay("V7", "1000.00", paid_at(D2 + timedelta(days=29)))
    p.account("V8", overdue="4000.00", dpd=(AS_OF - D3).days + 95)
    p.account("PHONE", overdue="1000.00", dpd=(AS_OF - D1).days + 100)  # too little for a visit
    import_portfolio(p.write(tmp_path / "p"))
    document = DEFAULT_STRATEGY.read_text()
    publish_strategy(
        document.replace("arms:\n  - id: champion\n    share: 100\n", TWO_ARMS), by="test"
    )
    for night in (D1, D2, D3):
        run_nightly(night, by="test")


# (overdue at decision, recovered within the window, cured) per account in the cohort
OUTCOMES = {
    "V1": (500_000, 500_000, 1),
    "V2": (500_000, 200_000, 0),
    "V3": (500_000, 0, 0),
    "V4": (500_000, 0, 0),
    "V5": (500_000, 500_000, 1),
    "V6": (500_000, 500_000, 1),
    "V7": (400_000, 100_000, 0),
}


def expected(accounts: list[str]) -> dict:
    x = [OUTCOMES[a][0] / 100 for a in accounts]
    y = [OUTCOMES[a][1] / 100 for a in accounts]
    cured = sum(OUTCOMES[a][2] for a in accounts)
    interval = ratio_interval(
        len(accounts), sum(x), sum(y), sum(v * v for v in x), sum(v * v for v in y),
        sum(a * b for a, b in zip(x, y, strict=True)),
    )  # fmt: skip
    return {
        "accounts": len(accounts),
        "cured": cured,
        "overdue_cents": sum(OUTCOMES[a][0] for a in accounts),
        "recovered_cents": sum(OUTCOMES[a][1] for a in accounts),
        "cure_ci": tuple(round(v, 4) for v in wilson(cured, len(accounts))),
        "recovery_ci": None if interval is None else tuple(round(v, 4) for v in interval),
    }


@pytest.mark.django_db(transaction=True)
def test_cure_and_recovery_per_arm_within_the_window(visited):
    report = uplift_report(since=D1, as_of=AS_OF, days=30)

    assert report.until == date(2026, 10, 21)
    assert report.pending == 1  # V8, entered on D3
    by_arm: dict[str, list[str]] = {}
    for account in OUTCOMES:
        by_arm.setdefault(arm(account), []).append(account)
    assert {(g.arm, g.band) for g in report.groups} == {(a, "none") for a in by_arm}
    for group in report.groups:
        want = expected(by_arm[group.arm])
        got = {k: getattr(group, k) for k in want}
        assert got == want, group.arm
        assert group.cure_rate == round(want["cured"] / want["accounts"], 4)
        assert group.recovery_rate == round(want["recovered_cents"] / want["overdue_cents"], 4)


@pytest.mark.django_db(transaction=True)
def test_a_later_start_takes_each_account_from_its_first_decision_in_the_window(visited):
    report = uplift_report(since=D2, as_of=AS_OF, days=30)

    # On D2, V1 and V5 had settled; V2 (¥3,000 left), V3, V4, V6 (¥4,000 left) were still in
    # the stage and V7 entered it. Their figures and windows are D2's: V3's payment on 11-10 and
    # V6's on 10-26 now fall inside; V7's ¥1,000 on 11-18 too.
    groups = {g.arm: g for g in report.groups}
    cohort = {"V2": (300_000, 0, 0), "V3": (500_000, 500_000, 1), "V4": (500_000, 0, 0),
              "V6": (400_000, 400_000, 1), "V7": (400_000, 100_000, 0)}  # fmt: skip
    for name, group in groups.items():
        mine = [cohort[a] for a in cohort if arm(a) == name]
        assert (group.accounts, group.cured, group.overdue_cents, group.recovered_cents) == (
            len(mine), sum(c for _, _, c in mine), sum(x for x, _, _ in mine),
            sum(y for _, y, _ in mine),
        )  # fmt: skip
    assert sum(g.accounts for g in report.groups) == 5


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_a_table_and_json_on_the_last_line(visited, capsys):
    call_command("score", "uplift-report", "--since", "2026-10-01", "--as-of", "2026-11-20",
                 "--json")  # fmt: skip

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "Accounts entering the home-visit stage (or proposed a visit) 2026-10-01 … 2026-10-21; "
        "outcomes within 30 days, read to 2026-11-20"
    )
    assert lines[2].split()[:4] == ["arm", "band", "accounts", "cured"]
    assert "1 more entered after 2026-10-21: not yet counted" in lines
    figures = json.loads(lines[-1])
    assert figures["days"] == 30
    assert figures["pending"] == 1
    assert figures["cure_ci"] == "Wilson 95%"
    assert sum(g["accounts"] for g in figures["groups"]) == len(OUTCOMES)
    assert sum(g["recovered_cents"] for g in figures["groups"]) == 1_800_000


def test_wilson_and_the_ratio_interval_on_known_figures():
    low, high = wilson(0, 10)
    assert low == 0.0
    assert round(high, 4) == 0.2775  # the textbook 0 of 10
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    assert wilson(0, 0) is None
    # Recovery 1,000 of 1,000 and 0 of 1,000: R = 0.5, residuals ±500, s² = 500000, SE = 0.5
    low, high = ratio_interval(2, 2000, 1000, 2_000_000, 1_000_000, 1_000_000)
    assert (round(low, 4), round(high, 4)) == (0.0, 1.0)
    low, high = ratio_interval(100, 100_000, 50_000, 1e8, 5e7 * 1.0, 5e7)
    assert round(low, 4) == round(0.5 - 1.959964 * (0.25 * 1e6 * 100 / 99 / 100) ** 0.5 / 1000, 4)
    assert ratio_interval(1, 10, 5, 100, 25, 50) is None


@pytest.mark.django_db(transaction=True)
def test_bands_split_an_arm_and_its_total_adds_them_up(visited):
    from doorstep.strategy.models import Decision

    assert {a for a in OUTCOMES if arm(a) == "challenger"} == {"V2", "V3", "V4", "V5", "V6", "V7"}
    # As a model would have banded them on D1 (the nightly writes the band; here it is set).
    Decision.objects.filter(as_of=D1, account_id__in=["V2", "V3"]).update(risk_band="high")
    Decision.objects.filter(as_of=D1, account_id__in=["V4", "V5", "V6"]).update(risk_band="low")

    report = uplift_report(since=D1, as_of=AS_OF, days=30)

    challenger = {g.band: g for g in report.groups if g.arm == "challenger"}
    assert set(challenger) == {"high", "low", "none", "all"}  # V7 entered on D2 without a band
    assert (challenger["high"].accounts, challenger["high"].cured) == (2, 0)
    assert (challenger["low"].accounts, challenger["low"].cured) == (3, 2)
    assert challenger["low"].recovered_cents == 1_000_000
    total = challenger["all"]
    assert (total.accounts, total.cured, total.overdue_cents, total.recovered_cents) == (
        6, 2, 2_900_000, 1_300_000,
    )  # fmt: skip
    assert total.cure_ci == tuple(round(v, 4) for v in wilson(2, 6))
