"""A field agent walks through a visit on a phone: today's route, the case file, check-in, the
outcome with a promise, evidence, check-out."""

from datetime import UTC, datetime, time, timedelta

import pytest

from doorstep.ledger.models import Borrower, Region
from doorstep.visits import domain
from doorstep.visits.enums import VisitEvent, VisitState
from doorstep.visits.models import Evidence, Visit
from tests.visits.conftest import make_agent

pytestmark = pytest.mark.usefixtures("today_is_a_working_day")

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now: the visit hours (08:00–20:00 local) must
    hold whenever the suite runs, so the borrower's region is put there."""
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    return f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"


@pytest.fixture
def todays_visit(tmp_path, transactional_db, staff_login):

    from doorstep.compliance.domain import review_template
    from doorstep.contact.domain import draft_default_templates
    from doorstep.intake.importer import import_portfolio
    from doorstep.visits.domain import form_team
    from tests.strategy.builder import Portfolio

    now = datetime.now(UTC)
    zone = midday_zone(now)
    p = Portfolio(now.date())
    p.account("W1", overdue="6000.00", dpd=95, region="440305")
    import_portfolio(p.write(tmp_path / "p"))
    Region.objects.filter(code="440305").update(time_zone=zone)
    Borrower.objects.filter(pk="BW1").update(lat=22.53, lon=113.93)
    for template in draft_default_templates(by="author"):
        review_template(template.pk, by="compliance", approve=True)
    login = staff_login("field_agent", username="agent.wang")
    a, b = make_agent("FA-0001", "王强"), make_agent("FA-0002", "李娜")
    from django.contrib.auth import get_user_model

    a.user = get_user_model().objects.get(username="agent.wang")
    a.save()
    team = form_team("T1", region_code="440305", members=[a, b], base=(22.54, 113.94), by="sup",
                     at=now - timedelta(days=5))  # fmt: skip
    [visit] = domain.propose_visits(
        [domain.Proposal("W1", None, {"rules": ["home_visit.dpd_90"], "en": "95 days overdue",
                                      "zh": "已逾期95天"}, 95, 600000)],
        as_of=now.date(), by="nightly", at=now - timedelta(days=5),
    )  # fmt: skip
    domain.approve_visits([visit.pk], by="sup", at=now - timedelta(days=5))
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(zone)).date()
    domain.send_notice(visit.pk, visit_date=today, window=(time(8), time(20)), team=team,
                       order=1, eta=time(12), by="sup", at=now - timedelta(days=4))  # fmt: skip
    domain.transition(visit.pk, VisitEvent.ASSIGN, by="dispatch", at=now - timedelta(minutes=5))
    return visit.pk, login


def test_an_agent_walks_through_a_visit_on_a_phone(phone, site, log_in, todays_visit):
    visit_id, login = todays_visit
    log_in(phone, login, to="/field/")
    assert phone.get_by_text("王强 · FA-0001").is_visible()
    assert phone.locator(".qr svg").is_visible()
    phone.locator(f'[data-visit="{visit_id}"]').click()
    phone.wait_for_url(f"{site}/field/visits/{visit_id}/")
    assert phone.locator("#state").inner_text() == "已安排上门人员"  # the phone asks for zh-CN
    assert "¥6,000.00" in phone.locator("section.card").first.inner_text()

    phone.locator("#check-in button").click()
    phone.wait_for_selector("#outcome")
    assert Visit.objects.get(pk=visit_id).state == VisitState.IN_PROGRESS

    phone.locator("#evidence input[type=file]").set_input_files(
        {"name": "door.png", "mimeType": "image/png", "buffer": PNG}
    )
    phone.locator("#evidence input[name=note]").fill("门牌号")
    phone.locator("#evidence button").click()
    phone.wait_for_selector("#outcome")
    assert Evidence.objects.filter(visit_id=visit_id).count() == 1

    phone.locator("input[name=identity_checked]").check()
    phone.locator("#financial_notes").fill("失业两个月，下月入职")
    phone.locator("#outcome_select").select_option("promise_to_pay")
    phone.locator("#ptp_amount").fill("1500.00")
    promised = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    phone.locator("#ptp_date").fill(promised)
    phone.locator("#outcome button").click()
    phone.wait_for_selector("#result")

    visit = Visit.objects.get(pk=visit_id)
    assert (visit.state, visit.outcome, visit.ptp_amount_cents, visit.identity_checked) == (
        VisitState.FOLLOW_UP, "promise_to_pay", 150000, True,
    )  # fmt: skip
    assert visit.checked_out_at is not None
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
