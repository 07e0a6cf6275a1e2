"""A region with two field agents formed into a team, approved notice templates, and overdue
accounts in Shanghai's time zone (region 440305, in-house coverage)."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from doorstep.compliance.domain import review_template
from doorstep.contact.domain import draft_default_templates
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.models import Borrower
from doorstep.visits.domain import form_team
from doorstep.visits.models import FieldAgent
from tests.strategy.builder import Portfolio

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 11, 20)
NOTICE_DAY = date(2026, 11, 12)  # a Thursday; the visit is due 4 days later, on Monday
VISIT_DAY = date(2026, 11, 16)


def local(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), SHANGHAI).astimezone(UTC)


def make_agent(no: str, name: str, *, region="440305", until=date(2027, 12, 31)) -> FieldAgent:
    agent = FieldAgent.objects.create(
        credential_no=no, name=name, organisation="Doorstep 外访部",
        valid_from=date(2026, 1, 1), valid_until=until,
    )  # fmt: skip
    agent.regions.add(region)
    return agent


@pytest.fixture
def field(tmp_path, db):
    """Accounts V1..V3 (¥5,000 overdue, 100 days), coordinates in Shenzhen Nanshan; team T1."""
    p = Portfolio(AS_OF)
    for n in (1, 2, 3):
        p.account(f"V{n}", overdue="5000.00", dpd=100, region="440305")
    import_portfolio(p.write(tmp_path / "p"))
    for n, b in enumerate(Borrower.objects.order_by("pk")):
        b.lat, b.lon = 22.53 + n * 0.01, 113.93 + n * 0.01
        b.save(update_fields=["lat", "lon"])
    for template in draft_default_templates(by="author"):
        review_template(template.pk, by="compliance", approve=True)
    a, b = make_agent("FA-0001", "王强"), make_agent("FA-0002", "李娜")
    team = form_team("T1", region_code="440305", members=[a, b], base=(22.54, 113.94), by="sup",
                     at=local(NOTICE_DAY, 8))  # fmt: skip
    return {"team": team, "agents": (a, b)}
