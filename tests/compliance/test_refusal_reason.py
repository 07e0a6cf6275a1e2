"""A recorded refusal's reason in the reader's language (Refusal.reason), as the compliance
officer's review of refusals shows it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from doorstep.compliance import domain
from doorstep.compliance.models import Refusal
from doorstep.web.domain import ensure_demo_logins
from tests.compliance.test_guard import account, call, local  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    ("language", "zh", "en", "shown"),
    [
        ("zh-hans", "中文理由", "English reason", "中文理由"),
        ("en", "中文理由", "English reason", "English reason"),
        ("en-gb", "中文理由", "English reason", "English reason"),
        ("zh-hans", "", "English reason", "English reason"),
        ("en", "中文理由", "", "中文理由"),
    ],
)
def test_the_reason_follows_the_active_language_and_falls_back_to_the_other(
    language, zh, en, shown
):
    with translation.override(language):
        assert Refusal(reason_zh=zh, reason_en=en).reason == shown


@pytest.mark.django_db
def test_the_review_of_refusals_shows_the_reason_in_the_page_language(account):  # noqa: F811
    refused = domain.authorize(call(account, local(21)), now=local(9))
    assert isinstance(refused, Refusal)
    ensure_demo_logins(lambda role: f"pw-{role}")
    officer = get_user_model().objects.get(username="compliance_officer")
    pages = {}
    for language in ("zh-hans", "en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(officer)
        pages[language] = client.get("/console/refusals/").content.decode()
    zh, en = escape(refused.reason_zh), escape(refused.reason_en)
    assert (zh in pages["zh-hans"], en in pages["zh-hans"]) == (True, False)
    assert (zh in pages["en"], en in pages["en"]) == (False, True)
