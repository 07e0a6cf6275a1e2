"""Overdue accounts in Shenzhen (Asia/Shanghai): A1 ¥5,000 overdue 40 days with ¥500 due in 10
days; A2 ¥3,000,000 overdue 100 days (a balance beyond a collector's authority)."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from doorstep.arrangements.domain import authority
from doorstep.intake.importer import import_portfolio
from tests.strategy.builder import Portfolio

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 11, 20)


def local(day: date, hh: int = 10) -> datetime:
    return datetime.combine(day, time(hh), SHANGHAI).astimezone(UTC)


COLLECTOR = authority(["phone_collector"])
SUPERVISOR = authority(["collections_supervisor"])


@pytest.fixture
def on_the_as_of_day():
    """The clock at 10:00 in Shenzhen on AS_OF, still ticking: for pages that show the account as
    of now (the portal, the queues), whose figures would otherwise drift as the real date passes
    the accounts' due dates."""
    with time_machine.travel(local(AS_OF), tick=True):
        yield


@pytest.fixture
def accounts(tmp_path, db):
    p = Portfolio(AS_OF)
    p.account("A1", overdue="5000.00", dpd=40, due_in=10)
    p.account("A2", overdue="3000000.00", dpd=100)
    import_portfolio(p.write(tmp_path / "p"))
    return p
