"""POST /api/messages and /api/messages/receipts, and `doorstep contact send`."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from doorstep.api.models import ApiToken
from doorstep.contact.models import Contact, OutboundMessage
from tests.contact.test_outbox import account, approve, local, permit  # noqa: F401 (fixture)


def token_for(username: str, *perms: str) -> str:
    user = User.objects.create_user(username, password="irrelevant-pw-1")
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return ApiToken.issue(user, username)[1]


def post(url, body, token):
    return Client(enforce_csrf_checks=True).post(
        url, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def at_ten(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: local(10, 1))


@pytest.mark.django_db
def test_queue_send_and_receipt_through_the_api_and_the_command(account, at_ten, capsys):  # noqa: F811
    approve()
    p = permit(account)
    collector = token_for("collector.li", "contact.add_contact")
    provider = token_for("sms-provider", "contact.change_outboundmessage")
    params = {"lender": "门前金融", "dpd": 40, "amount": "5000.00"}

    forbidden = post("/api/messages", {"permit_id": p.pk, "template": "overdue_reminder",
                                       "params": params}, provider)  # fmt: skip
    missing = post("/api/messages", {"permit_id": p.pk, "template": "overdue_reminder",
                                     "params": {"lender": "x"}}, collector)  # fmt: skip
    queued = post("/api/messages", {"permit_id": p.pk, "template": "overdue_reminder",
                                    "params": params}, collector)  # fmt: skip
    call_command("contact", "send", "--limit", "10")
    receipt = {
        "provider_id": f"outbox-{p.pk}",
        "delivered": True,
        "at": "2026-11-20T12:05:00+08:00",
    }
    not_allowed = post("/api/messages/receipts", receipt, collector)
    confirmed = post("/api/messages/receipts", receipt, provider)
    unknown = post("/api/messages/receipts", {**receipt, "provider_id": "nope"}, provider)

    assert (forbidden.status_code, missing.status_code, queued.status_code) == (403, 422, 201)
    assert missing.json()["code"] == "contact.placeholder"
    assert (queued.json()["status"], queued.json()["to"]) == ("queued", "138****0000")
    assert capsys.readouterr().out.strip().endswith("sent 1, failed 0, errors 0")
    assert (not_allowed.status_code, confirmed.status_code, unknown.status_code) == (403, 200, 404)
    assert confirmed.json()["status"] == "delivered"
    assert OutboundMessage.objects.get().status == "delivered"
    assert Contact.objects.get().outcome == "delivered"
