"""Two borrowers (BA1 with account A1, BA2 with A2) and a signed-in portal client for each."""

import re

import pytest
from django.test import Client

from tests.arrangements.conftest import accounts, on_the_as_of_day  # noqa: F401

PHONES = {"A1": "13800000000", "A2": "13800000001"}  # the builder's numbers, in account order


def sign_in(client: Client, phone: str) -> Client:
    client.post("/my/", {"phone": phone})
    page = client.get("/my/code/").content.decode()
    code = re.search(r"your code is (\d{6})", page).group(1)
    response = client.post("/my/code/", {"code": code})
    assert response.status_code == 302, page
    return client


@pytest.fixture
def borrower(on_the_as_of_day, accounts):  # noqa: F811
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return sign_in(client, PHONES["A1"])


@pytest.fixture
def other(on_the_as_of_day, accounts):  # noqa: F811
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return sign_in(client, PHONES["A2"])


from tests.visits.conftest import field  # noqa: E402, F401  (the visit tests' team and accounts)
