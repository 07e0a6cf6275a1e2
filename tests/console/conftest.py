"""A small portfolio with five nights of decision history, built once per test module.

`nights_of_history` imports the accounts below (as of 2026-10-31, Shenzhen, in-house field team),
publishes the default strategy with two arms (champion 50, challenger 50; the arm follows a stable
hash of the account id) and runs the real nightly for each date of NIGHTS in order: no decision is
written by hand. June has a night, July none (a hole the roll-rate page must name), then month-ends
and one mid-October night.

| account | arm | schedule (yuan) | payments | at each night |
|---|---|---|---|---|
| CURE  | champion   | 2,000 due 09-20, 500 due 12-15 | 2,500 on 10-10 (settles) | M1 reminder 09-30, none 10-15 |
| CURE2 | champion   | 1,000 due 09-20, 500 due 12-15 | 1,000 on 10-20           | M1 reminder 09-30, M0 none 10-31 |
| PART  | challenger | 3,000 due 09-20, 500 due 12-15 | 1,000 on 10-05           | M1 reminder 09-30, M2 phone 10-31 |
| ROLL  | champion   | 1,000 due 09-20, 500 due 12-15 | none                     | M1 reminder 09-30, M2 phone 10-31 |
| BIG   | champion   | 40,000 due 09-20, 500 due 12-15 | none                    | M1 reminder 09-30, M2 home_visit 10-31 |
| SLOW  | challenger | 5,000 due 08-21                | 5,000 on 09-25 (settles) | M1 reminder 08-31, settled none 09-30 |
| LATE  | champion   | 5,000 due 08-21                | none                     | M1 reminder 08-31, M2 phone 09-30, M3 10-31 |

Promises to pay (contacts): PART by call on 10-01, ¥1,000 by 10-10 (kept); ROLL by call on 10-01,
¥1,000 by 10-10 (broken); BIG by call on 10-16, ¥40,000 by 10-25 (broken); CURE2 on a visit on
10-11, ¥1,000 by 10-20 (kept: paid on the promised date).
"""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from doorstep.intake.importer import import_portfolio
from doorstep.strategy.domain import DEFAULT_STRATEGY, publish_strategy, run_nightly
from doorstep.web.domain import ensure_role_groups
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 10, 31)
NIGHTS = [date(2026, 6, 30), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 15), AS_OF]
TWO_ARMS = "arms:\n  - id: champion\n    share: 50\n  - id: challenger\n    share: 50\n"


def paid(day: str) -> str:
    return f"2026-{day}T10:00:00+08:00"


def build_history(directory) -> Portfolio:
    p = Portfolio(AS_OF)
    for account, overdue in (("CURE", "2000.00"), ("CURE2", "1000.00"), ("PART", "3000.00"),
                             ("ROLL", "1000.00"), ("BIG", "40000.00")):  # fmt: skip
        p.account(account, overdue=overdue, dpd=41, due_in=45)  # due 09-20 and 12-15
    for account in ("SLOW", "LATE"):
        p.account(account, overdue="5000.00", dpd=71)  # due 08-21
    p.pay("CURE", "2500.00", paid("10-10"))
    p.pay("CURE2", "1000.00", paid("10-20"))
    p.pay("PART", "1000.00", paid("10-05"))
    p.pay("SLOW", "5000.00", paid("09-25"))
    p.contact("PART", 30, "call", "promise_to_pay", "1000.00", "2026-10-10")
    p.contact("ROLL", 30, "call", "promise_to_pay", "1000.00", "2026-10-10")
    p.contact("BIG", 15, "call", "promise_to_pay", "40000.00", "2026-10-25")
    p.contact("CURE2", 20, "visit", "promise_to_pay", "1000.00", "2026-10-20")
    import_portfolio(p.write(directory))
    document = DEFAULT_STRATEGY.read_text()
    assert "arms:\n  - id: champion\n    share: 100\n" in document
    publish_strategy(
        document.replace("arms:\n  - id: champion\n    share: 100\n", TWO_ARMS), by="test"
    )
    for night in NIGHTS:
        run_nightly(night, by="test")
    groups = ensure_role_groups()
    for role in ("strategy_manager", "field_agent", "field_supervisor"):
        user = get_user_model().objects.create_user(role, is_staff=True)
        user.groups.set([groups[role]])
    return p


@pytest.fixture(scope="module")
def nights_of_history(django_db_setup, django_db_blocker, tmp_path_factory):
    """Committed once for the module (the nightly run reads the database through a connection of
    its own), emptied at the end as transactional tests empty it."""
    with django_db_blocker.unblock():
        portfolio = build_history(tmp_path_factory.mktemp("history") / "p")
    yield portfolio
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def staff(db):
    """staff(role) is a test client signed in as that role's user, reading English pages."""

    def client(role: str) -> Client:
        c = Client(HTTP_ACCEPT_LANGUAGE="en")
        c.force_login(get_user_model().objects.get(username=role))
        return c

    return client
