"""The outbox: messages queued on the guard's permit from an approved template, drained through
the channel backends once and only once, and confirmed by the provider's receipts."""

import io
import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from doorstep.compliance import domain as compliance
from doorstep.compliance.engine.checks import Action
from doorstep.contact import channels, domain
from doorstep.contact.enums import MESSAGE_TRANSITIONS, MessageStatus
from doorstep.contact.errors import ContactRejected
from doorstep.contact.models import Contact, OutboundMessage, Permit
from doorstep.intake.importer import import_portfolio
from doorstep.ledger import privacy
from doorstep.ledger.models import Account, Borrower
from tests.strategy.builder import Portfolio

URUMQI = ZoneInfo("Asia/Urumqi")
AS_OF = date(2026, 11, 20)
PHONE = "13800000000"  # the builder's first borrower
BODY = "【{lender}】您的账单已逾期 {dpd} 天，未还 {amount} 元。请尽快还款或联系我们协商。"
PARAMS = {"lender": "门前金融", "dpd": 40, "amount": "5000.00"}


def local(hh, mm=0, day=AS_OF) -> datetime:
    return datetime.combine(day, time(hh, mm), URUMQI).astimezone(UTC)


@pytest.fixture
def account(tmp_path):
    p = Portfolio(AS_OF)
    p.account("X1", overdue="5000.00", dpd=40, region="650102")
    import_portfolio(p.write(tmp_path / "p"))
    Borrower.objects.filter(pk="BX1").update(
        email_encrypted=privacy.configured_cipher().encrypt("zhang.san@example.com")
    )
    return Account.objects.select_related("borrower").get(pk="X1")


def approve(channel="sms", body=BODY, code="overdue_reminder"):
    template = domain.draft_template(code, channel=channel, language="zh", body=body, by="writer")
    compliance.review_template(template.pk, by="compliance.wang", approve=True)
    return template


def permit(account, channel="sms", when=None, template="overdue_reminder") -> Permit:
    action = Action(account.pk, account.borrower_id, channel, "collection", "collector.li",
                    when or local(10), template=template)  # fmt: skip
    result = compliance.authorize(action, now=local(9))
    assert isinstance(result, Permit), result
    return result


def queue(p, **kw):
    kw = {"template_code": "overdue_reminder", "params": PARAMS, "by": "collector.li",
          "at": local(10, 1), **kw}  # fmt: skip
    return domain.queue_message(p.pk, **kw)


class FakeTransport:
    """The SMS provider, the only thing mocked."""

    def __init__(self, status=200, body=b'{"id": "prov-1"}'):
        self.status, self.body, self.calls = status, body, []

    def __call__(self, url, body, headers, timeout):
        self.calls.append((url, json.loads(body), headers, timeout))
        return self.status, self.body


@pytest.mark.django_db
def test_a_message_is_queued_on_a_valid_permit(account):
    template = approve()
    p = permit(account)

    message = queue(p)

    assert (message.status, message.channel, message.language) == ("queued", "sms", "zh")
    assert message.template_id == template.pk
    assert (
        message.text
        == "【门前金融】您的账单已逾期 40 天，未还 5000.00 元。请尽快还款或联系我们协商。"
    )
    assert (message.recipient_field, message.recipient_masked) == ("phone", "138****0000")
    assert Permit.objects.get(pk=p.pk).used_at == local(10, 1)
    assert Contact.objects.count() == 0  # not sent yet: no contact to record


@pytest.mark.django_db
def test_a_queued_message_still_counts_against_the_caps(account):
    approve()
    for k in range(2):  # the day's cap on messages is 2
        queue(permit(account, when=local(10 + k)), at=local(10 + k, 1))
    third = compliance.authorize(
        Action("X1", "BX1", "sms", "collection", "li", local(14), template="overdue_reminder"),
        now=local(11, 2),
    )
    assert (type(third).__name__, third.rule_id) == ("Refusal", "cn.cap.messages_day")


@pytest.mark.django_db
def test_queueing_is_refused_without_an_approved_template(account):
    template = approve()
    p = permit(account)
    other = permit(account, when=local(11))
    with pytest.raises(ContactRejected) as not_permitted:
        queue(p, template_code="pre_due_reminder")
    type(template).objects.filter(pk=template.pk).update(status="retired")
    with pytest.raises(ContactRejected) as retired:
        queue(other, at=local(11, 1))

    assert (not_permitted.value.code, retired.value.code) == (
        "contact.template",
        "contact.template",
    )
    assert retired.value.message == "no approved sms template overdue_reminder in zh"
    assert OutboundMessage.objects.count() == 0
    assert Permit.objects.filter(used_at__isnull=False).count() == 0


@pytest.mark.django_db
def test_queueing_is_refused_on_a_used_or_a_call_permit_and_names_a_missing_placeholder(account):
    approve()
    used = permit(account, when=local(10))
    queue(used)
    with pytest.raises(ContactRejected) as again:
        queue(used, at=local(10, 2))
    call = permit(account, channel="call", when=local(11), template=None)
    with pytest.raises(ContactRejected) as wrong:
        queue(call, at=local(11, 1))
    fresh = permit(account, when=local(12))
    with pytest.raises(ContactRejected) as missing:
        queue(fresh, params={"lender": "门前金融"}, at=local(12, 1))

    assert (again.value.code, wrong.value.code, missing.value.code) == (
        "contact.permit_used", "contact.permit", "contact.placeholder",
    )  # fmt: skip
    assert missing.value.message == "no value for the placeholder(s) amount, dpd"
    assert OutboundMessage.objects.count() == 1
    assert Permit.objects.get(pk=fresh.pk).used_at is None


@pytest.mark.django_db
def test_the_outbox_backend_sends_and_records_the_contact_as_sent(account):
    approve()
    p = permit(account)
    queue(p)

    counts = domain.send_queued(now=local(10, 2))

    message = OutboundMessage.objects.get()
    contact = Contact.objects.get()
    assert counts == {"sent": 1, "failed": 0, "error": 0}
    assert (message.status, message.attempts, message.provider_id) == ("sent", 1, f"outbox-{p.pk}")
    assert (contact.permit_id, contact.channel, contact.outcome, contact.source) == (
        p.pk, "sms", "sent", "outbox",
    )  # fmt: skip
    assert domain.send_queued(now=local(10, 3)) == {"sent": 0, "failed": 0, "error": 0}


@pytest.mark.django_db
def test_the_console_backend_prints_the_message(account, settings):
    approve()
    queue(permit(account))
    out = io.StringIO()
    domain.send_queued(backends={"sms": channels.ConsoleBackend(out)}, now=local(10, 2))
    assert "【门前金融】您的账单已逾期 40 天" in out.getvalue()
    assert OutboundMessage.objects.get().status == "sent"


@pytest.mark.django_db
def test_backends_are_chosen_by_settings(settings):
    settings.DOORSTEP_SMS_BACKEND = "doorstep.contact.channels.ConsoleBackend"
    assert type(channels.backend_for("sms")) is channels.ConsoleBackend
    assert type(channels.backend_for("app")) is channels.OutboxBackend


@pytest.mark.django_db
def test_the_http_sms_backend_posts_json_with_the_permit_as_idempotency_key(account, settings):
    settings.DOORSTEP_SMS_URL = "https://sms.example/send"
    settings.DOORSTEP_SMS_TOKEN = "tok"
    approve()
    p = permit(account)
    queue(p)
    transport = FakeTransport()

    domain.send_queued(backends={"sms": channels.HttpSmsBackend(transport)}, now=local(10, 2))

    ((url, body, headers, timeout),) = transport.calls
    assert (url, body["to"], body["reference"], timeout) == (
        "https://sms.example/send",
        PHONE,
        p.pk,
        10.0,
    )
    assert (headers["Authorization"], headers["Idempotency-Key"]) == ("Bearer tok", p.pk)
    assert OutboundMessage.objects.get().provider_id == "prov-1"


@pytest.mark.django_db
def test_a_provider_refusal_fails_the_message_and_records_no_contact(account, settings):
    settings.DOORSTEP_SMS_URL = "https://sms.example/send"
    approve()
    queue(permit(account))
    transport = FakeTransport(503, b"busy")

    counts = domain.send_queued(
        backends={"sms": channels.HttpSmsBackend(transport)}, now=local(10, 2)
    )

    message = OutboundMessage.objects.get()
    assert counts == {"sent": 0, "failed": 1, "error": 0}
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "HTTP 503: busy")
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_a_message_past_its_permit_window_is_not_sent(account):
    approve()
    queue(permit(account))
    transport = FakeTransport()
    counts = domain.send_queued(backends={"sms": channels.HttpSmsBackend(transport)}, now=local(11))
    assert (counts["failed"], transport.calls, Contact.objects.count()) == (1, [], 0)


@pytest.mark.django_db
def test_email_goes_through_djangos_email_backend(account):
    approve(channel="email")
    p = permit(account, channel="email")
    message = queue(p)

    domain.send_queued(backends={"email": channels.DjangoEmailBackend()}, now=local(10, 2))

    assert message.recipient_masked == "z***@example.com"
    (sent,) = mail.outbox
    assert (sent.to, sent.extra_headers["X-Doorstep-Reference"]) == (
        ["zhang.san@example.com"],
        p.pk,
    )
    assert sent.body == message.text
    assert OutboundMessage.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_crash_after_the_provider_call_never_sends_twice(account, settings, monkeypatch):
    settings.DOORSTEP_SMS_URL = "https://sms.example/send"
    approve()
    queue(permit(account))
    transport = FakeTransport()
    backend = channels.HttpSmsBackend(transport)

    def crash(*args, **kw):
        raise RuntimeError("the database went away after the provider accepted")

    monkeypatch.setattr(domain, "_mark_result", crash)
    first = domain.send_queued(backends={"sms": backend}, now=local(10, 2))
    monkeypatch.undo()
    second = domain.send_queued(backends={"sms": backend}, now=local(10, 3))

    message = OutboundMessage.objects.get()
    assert (first["error"], second) == (1, {"sent": 0, "failed": 0, "error": 0})
    assert len(transport.calls) == 1
    assert (message.status, message.attempts) == ("sending", 1)


@pytest.mark.django_db
def test_receipts_update_the_message_and_the_contact(account, settings):
    settings.DOORSTEP_SMS_URL = "https://sms.example/send"
    approve()
    queue(permit(account, when=local(10)))
    queue(permit(account, when=local(11)), at=local(11, 1))
    bodies = iter([b'{"id": "prov-1"}', b'{"id": "prov-2"}'])

    def transport(url, body, headers, timeout):
        return 200, next(bodies)

    backend = channels.HttpSmsBackend(transport)
    domain.send_queued(backends={"sms": backend}, now=local(10, 2))  # 11:00's is not due yet
    assert OutboundMessage.objects.filter(status="queued").count() == 1
    domain.send_queued(backends={"sms": backend}, now=local(11, 2))
    domain.record_receipt("prov-1", delivered=True, at=local(10, 5))
    domain.record_receipt("prov-1", delivered=True, at=local(10, 6))  # repeated: no change
    domain.record_receipt("prov-2", delivered=False, at=local(10, 7))
    with pytest.raises(ContactRejected) as unknown:
        domain.record_receipt("prov-9", delivered=True, at=local(10, 8))

    assert dict(OutboundMessage.objects.values_list("provider_id", "status")) == {
        "prov-1": "delivered", "prov-2": "undelivered",
    }  # fmt: skip
    assert sorted(Contact.objects.values_list("outcome", flat=True)) == ["delivered", "undelivered"]
    assert unknown.value.code == "message.unknown"


@pytest.mark.django_db(transaction=True)
def test_the_clear_phone_number_never_lands_in_the_database(account):
    approve()
    queue(permit(account))
    domain.send_queued(now=local(10, 2))
    domain.record_receipt(
        OutboundMessage.objects.get().provider_id, delivered=True, at=local(10, 5)
    )

    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the schema)
            found += [table for row in cursor.fetchall() if PHONE in " ".join(map(str, row))]
    assert OutboundMessage.objects.count() == 1
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize("old", MessageStatus.values)
def test_every_status_move_follows_the_table(account, old):
    approve()
    queue(permit(account))
    for new in MessageStatus.values:
        OutboundMessage.objects.update(status=old)
        message = OutboundMessage.objects.get()
        if new in MESSAGE_TRANSITIONS[old]:
            domain._move(message, new, actor="test", at=local(10, 2))
            assert OutboundMessage.objects.get().status == new
        else:
            with pytest.raises(ContactRejected) as refused:
                domain._move(message, new, actor="test", at=local(10, 2))
            assert refused.value.code == "message.transition"
            assert OutboundMessage.objects.get().status == old
