"""One-time codes: wrong, expired, too many tries, too many asks; no account enumeration."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.portal import signin
from doorstep.portal.models import SignInCode
from doorstep.portal.views import IDLE_KEY, SESSION_KEY, SLIDE_EVERY
from tests.arrangements.conftest import AS_OF, local
from tests.portal.conftest import PHONES, sign_in


def _code(phone, client="c1", at=None):
    return signin.send_code(phone, client=client, at=at or timezone.now())


def test_a_right_code_signs_in_once(accounts):
    sent = _code(PHONES["A1"])
    assert signin.check_code(PHONES["A1"], sent.demo_code, at=timezone.now()) == ["BA1"]
    with pytest.raises(signin.SignInRefused):  # used
        signin.check_code(PHONES["A1"], sent.demo_code, at=timezone.now())


def test_wrong_and_expired_codes_are_refused_and_five_tries_kill_a_code(accounts):
    sent = _code("+86 138 0000 0000")
    for _ in range(5):
        with pytest.raises(signin.SignInRefused):
            signin.check_code(PHONES["A1"], "000000" if sent.demo_code != "000000" else "111111",
                              at=timezone.now())  # fmt: skip
    with pytest.raises(signin.SignInRefused):  # the right code, too late: the code is dead
        signin.check_code(PHONES["A1"], sent.demo_code, at=timezone.now())
    fresh = _code(PHONES["A1"])
    with pytest.raises(signin.SignInRefused):
        signin.check_code(PHONES["A1"], fresh.demo_code, at=timezone.now() + timedelta(minutes=6))


def test_an_unknown_number_gets_the_same_answer_and_no_code(accounts):
    unknown = _code("13900000000")
    assert unknown.demo_code is None
    row = SignInCode.objects.get(known=False)
    assert row.phone_hash
    assert "13900000000" not in row.phone_hash
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    known_page = client.post("/my/", {"phone": PHONES["A1"]})
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    unknown_page = other.post("/my/", {"phone": "13900000001"})
    assert known_page.status_code == unknown_page.status_code == 302
    assert known_page["Location"] == unknown_page["Location"] == "/my/code/"


def test_asking_too_often_is_limited_for_known_and_unknown_numbers_alike(accounts):
    for phone in (PHONES["A1"], "13900000000"):
        for n in range(5):
            _code(phone, client=f"c{n}")
        with pytest.raises(signin.SignInRefused) as limited:
            _code(phone, client="c9")
        assert limited.value.code == "signin.limited"
    for n in range(30):  # 30 asks an hour from one client, then no more
        _code(f"1370000{n:04d}", client="busy")
    with pytest.raises(signin.SignInRefused):
        _code("13700009999", client="busy")


# --- the idle timeout ----------------------------------------------------------------------

IDLE = timedelta(minutes=30)  # DOORSTEP_PORTAL["session_minutes"]


def _session_writes(client: Client, path: str = "/my/accounts/") -> tuple[int, int]:
    """(status code, statements that wrote the session table) of one request."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    return status, len(writes)


def _deadline(client: Client) -> datetime:
    return datetime.fromisoformat(client.session[IDLE_KEY])


@pytest.fixture
def clock(accounts):
    with time_machine.travel(local(AS_OF), tick=False) as traveller:
        yield traveller


def test_a_request_after_the_idle_deadline_is_signed_out(clock):
    client = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), PHONES["A1"])
    signed_in_at = timezone.now()
    assert _deadline(client) == signed_in_at + IDLE
    clock.shift(SLIDE_EVERY / 2)
    assert client.get("/my/accounts/")["Location"] == "/my/a/A1/"  # too soon to slide
    clock.move_to(signed_in_at + IDLE)
    response = client.get("/my/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/my/"
    assert SESSION_KEY not in client.session
    assert client.get("/my/a/A1/")["Location"] == "/my/"


def test_requests_within_slide_every_leave_the_session_unwritten(clock):
    client = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), PHONES["A1"])
    signed_in_at = timezone.now()
    clock.shift(SLIDE_EVERY - timedelta(seconds=1))
    assert _session_writes(client) == (302, 0)
    assert _session_writes(client, "/my/a/A1/") == (200, 0)
    assert _deadline(client) == signed_in_at + IDLE


def test_a_request_after_slide_every_moves_the_deadline_once(clock):
    client = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), PHONES["A1"])
    clock.shift(SLIDE_EVERY)
    assert _session_writes(client) == (302, 1)
    slid_at = timezone.now()
    assert _deadline(client) == slid_at + IDLE
    clock.shift(SLIDE_EVERY / 2)  # the second request within the minute: no write
    assert _session_writes(client) == (302, 0)
    clock.move_to(slid_at + IDLE - timedelta(seconds=1))  # still signed in, and slides again
    assert _session_writes(client) == (302, 1)
    assert _deadline(client) == slid_at + 2 * IDLE - timedelta(seconds=1)
