"""The arrangements tests' accounts A1 and A2 (region 440305), and two agencies: AG1 under a
contract for 440305, AG2 under one for another region."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from doorstep.placements.models import Agency, Contract, Member
from tests.arrangements.conftest import accounts  # noqa: F401


@pytest.fixture
def agencies(accounts):  # noqa: F811
    # The tests place at the real present: the contracts run from before the fixtures' dates to
    # well after today, whenever today is.
    until = timezone.now().date() + timedelta(days=1000)
    one = Agency.objects.create(code="AG1", name="一号资产")
    two = Agency.objects.create(code="AG2", name="二号资产")
    c1 = Contract.objects.create(agency=one, reference="C-1", valid_from=date(2026, 1, 1),
                                 valid_until=until)  # fmt: skip
    c1.regions.set(["440305"])
    c2 = Contract.objects.create(agency=two, reference="C-2", valid_from=date(2026, 1, 1),
                                 valid_until=until)  # fmt: skip
    c2.regions.set(["650102"])
    users = get_user_model().objects
    Member.objects.create(user=users.create_user("ag1-wang"), agency=one)
    Member.objects.create(user=users.create_user("ag2-li"), agency=two)
    return one, two
