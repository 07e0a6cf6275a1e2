"""The field supervisor's board: planned visits by day and team, with load against capacity."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from doorstep.visits.models import Visit
from doorstep.web.domain import ensure_demo_logins
from tests.visits.conftest import field  # noqa: F401
from tests.visits.test_workflow import noticed


def test_the_board_shows_each_teams_day_in_route_order(field):  # noqa: F811
    first, second = noticed(field, "V1"), noticed(field, "V2")
    day = timezone.localdate() + timedelta(days=2)
    Visit.objects.filter(pk__in=[first.pk, second.pk]).update(visit_date=day)
    Visit.objects.filter(pk=second.pk).update(route_order=2)
    ensure_demo_logins(lambda role: f"pw-{role}")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.get(username="field_supervisor"))
    page = client.get("/console/visits/board/").content.decode()
    assert day.isoformat() in page
    assert "T1" in page
    assert "2 / 8" in page
    assert page.index("借款人0") < page.index("借款人1")
