"""Staff-side and notice-page refusals read in the page's language (VisitError, ClaimRefused,
ContactRejected, PlacementRefused through doorstep.errors.UserError), while `message` stays
English for the API, the commands and the logs, whatever language is active."""

from datetime import time, timedelta

import pytest
from django.utils import timezone, translation
from django.utils.html import escape

from doorstep.visits import domain
from doorstep.visits.errors import InvalidTransition
from tests.visits.conftest import NOTICE_DAY, SHANGHAI, VISIT_DAY, local

ENGLISH = {"headers": {"Accept-Language": "en"}}


def error_of(response) -> str:
    """The alert a page shows (one per page), unescaped."""
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('role="alert">') + len('role="alert">')
    return page[start : page.index("</div>", start)]


@pytest.fixture
def notice(field):
    """V1's visit, its notice sent; the borrower's answer page."""
    [visit] = domain.propose_visits(
        [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"], "en": "e", "zh": "z"},
                         100, 500000)],
        as_of=NOTICE_DAY, by="nightly", at=local(NOTICE_DAY, 2),
    )  # fmt: skip
    domain.approve_visits([visit.pk], by="sup", at=local(NOTICE_DAY, 9))
    domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(9), time(11)),
                       team=field["team"], order=1, eta=time(10), by="sup",
                       at=local(NOTICE_DAY, 10))  # fmt: skip
    return visit, f"/v/{domain.respond_token(visit.pk)}/"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["2026-13-45", "2026-02-30", "10000-01-01", "next tuesday"])
def test_a_date_that_is_no_calendar_day_is_refused_naming_the_field(client, notice, typed):
    visit, url = notice
    form = {"answer": "reschedule", "new_date": typed, "slot": "am"}

    chinese = error_of(client.post(url, form))
    english = error_of(client.post(url, form, **ENGLISH))

    assert chinese == "另选的日期无效：请选择一个有效的日期（年-月-日）"
    assert english == "the new date is not a valid date: choose a day (year-month-day)"
    visit.refresh_from_db()
    assert (visit.state, visit.visit_date) == ("notice_sent", VISIT_DAY)


@pytest.mark.django_db
def test_a_new_date_too_soon_is_refused_in_the_pages_language(client, notice):
    visit, url = notice
    form = {"answer": "reschedule", "new_date": timezone.localdate().isoformat(), "slot": "pm"}

    chinese = error_of(client.post(url, form))
    english = error_of(client.post(url, form, **ENGLISH))

    assert chinese == "新的日期须至少在今天的 3 天之后"
    assert english == "a new date must be at least 3 days from today"
    visit.refresh_from_db()
    assert visit.state == "notice_sent"


@pytest.mark.django_db
def test_a_new_date_too_far_ahead_is_refused_naming_the_range_and_the_field(client, notice):
    visit, url = notice
    form = {"answer": "reschedule", "new_date": "2099-01-01", "slot": "pm"}
    earliest = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=3)
    latest = earliest + timedelta(days=30)

    chinese = client.post(url, form)
    english = client.post(url, form, **ENGLISH)

    assert error_of(chinese) == f"新的日期不能晚于 {latest}：请在 {earliest} 至 {latest} 之间选择"
    assert error_of(english) == (
        f"a new date can be no later than {latest}: choose a day from {earliest} to {latest}"
    )
    # The date field offers only the range, and says that it is the one in error.
    field = (
        f'<input type="date" name="new_date" id="new_date" min="{earliest}" max="{latest}" '
        'required aria-invalid="true" aria-describedby="answer-error">'
    )
    assert field in chinese.content.decode()
    assert f"日期（{earliest} 至 {latest}）" in chinese.content.decode()
    assert f"Date (from {earliest} to {latest})" in english.content.decode()
    visit.refresh_from_db()
    assert (visit.state, visit.visit_date) == ("notice_sent", VISIT_DAY)


@pytest.mark.django_db
def test_a_step_the_state_does_not_allow_names_both_in_the_pages_language(client, notice):
    visit, url = notice
    domain.answer_notice(visit.pk, answer="decline", by="borrower", at=local(NOTICE_DAY, 11),
                         via="portal")  # fmt: skip

    chinese = error_of(client.post(url, {"answer": "confirm"}))
    english = error_of(client.post(url, {"answer": "confirm"}, **ENGLISH))
    with translation.override("zh-hans"), pytest.raises(InvalidTransition) as refused:
        domain.answer_notice(visit.pk, answer="confirm", by="borrower", at=local(NOTICE_DAY, 12),
                             via="portal")  # fmt: skip

    assert chinese == "当前状态（借款人已拒绝）已是终态，不能再执行此操作（借款人确认）"
    assert english == (
        "this step (Borrower confirms) is not possible for a visit in state Declined by the "
        "borrower, which is final"
    )
    assert refused.value.message == english
    assert refused.value.code == "visit.transition"


@pytest.mark.django_db
def test_a_field_agents_refused_step_reads_in_the_pages_language(client, field):
    from datetime import datetime, timedelta

    from django.contrib.auth.models import User

    from doorstep.visits.enums import VisitEvent
    from tests.visits.conftest import SHANGHAI

    today = timezone.now().astimezone(SHANGHAI).date()
    noticed = datetime.combine(today - timedelta(days=4), time(10), SHANGHAI)
    [visit] = domain.propose_visits(
        [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"], "en": "e", "zh": "z"},
                         100, 500000)],
        as_of=today - timedelta(days=5), by="nightly", at=noticed - timedelta(days=1),
    )  # fmt: skip
    domain.approve_visits([visit.pk], by="sup", at=noticed - timedelta(hours=1))
    domain.send_notice(visit.pk, visit_date=today, window=(time(8), time(20)),
                       team=field["team"], order=1, eta=time(12), by="sup", at=noticed)  # fmt: skip
    domain.transition(visit.pk, VisitEvent.ASSIGN, by="dispatch", at=timezone.now())
    agent = field["agents"][0]
    agent.user = User.objects.create_user("agent.wang")
    agent.save()
    client.force_login(agent.user)
    url = f"/field/visits/{visit.pk}/outcome"

    chinese = error_of(client.post(url, {"outcome": "bogus"}, follow=True))
    english = error_of(client.post(url, {"outcome": "bogus"}, follow=True, **ENGLISH))

    assert chinese == escape("无法识别的结果 'bogus'")
    assert english == escape("unknown outcome 'bogus'")
