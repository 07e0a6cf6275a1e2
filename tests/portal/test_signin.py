"""One-time codes: wrong, expired, too many tries, too many asks; no account enumeration."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.portal import signin
from doorstep.portal.models import SignInCode
from tests.portal.conftest import PHONES


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
