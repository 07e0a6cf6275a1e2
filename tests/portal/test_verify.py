"""A borrower signed in to the portal is told whether the visitor at the door is on their visit
today; anyone else only sees the credential."""

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.ledger.domain import local_date
from doorstep.visits.models import Visit
from tests.portal.conftest import sign_in
from tests.visits.test_workflow import assigned


@pytest.fixture
def todays(field):
    visit = assigned(field)
    Visit.objects.filter(pk=visit.pk).update(visit_date=local_date(visit.account, timezone.now()))
    return visit


def _answer(client):
    page = client.get("/verify/?no=FA-0001").content.decode()
    start = page.index('id="visit-today"') if 'id="visit-today"' in page else -1
    return page[start : start + 120] if start >= 0 else ""


def test_the_signed_in_borrower_learns_the_visitor_is_theirs_today(todays):
    mine = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "13800000000")  # V1's number
    assert "Yes, this person is scheduled to visit you today." in _answer(mine)
    other = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "13800000001")  # V2's
    assert "No: this person is not scheduled" in _answer(other)
    assert _answer(Client(HTTP_ACCEPT_LANGUAGE="en")) == ""  # anyone: the credential only
