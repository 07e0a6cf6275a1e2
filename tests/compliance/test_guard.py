"""The guard on the database: permits and refusals, one permit per contact, settlement, templates,
the dry check, and no other way to create a contact or a permit."""

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.utils import translation

from doorstep.api.models import ApiToken
from doorstep.compliance import domain
from doorstep.compliance.engine.checks import Action
from doorstep.compliance.models import CeaseRequest, Refusal
from doorstep.contact.domain import draft_template, record_contact
from doorstep.contact.errors import ContactRejected
from doorstep.contact.models import Contact, Permit
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.models import Account
from doorstep.strategy.domain import take_payment
from tests.strategy.builder import Portfolio

URUMQI = ZoneInfo("Asia/Urumqi")
AS_OF = date(2026, 11, 20)


def local(hh, mm=0, ss=0, day=AS_OF) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), URUMQI).astimezone(UTC)


@pytest.fixture
def account(tmp_path):
    p = Portfolio(AS_OF)
    p.account("X1", overdue="5000.00", dpd=40, region="650102")  # Urumqi
    import_portfolio(p.write(tmp_path / "p"))
    return Account.objects.select_related("borrower").get(pk="X1")


def call(account, when, channel="call", **kw) -> Action:
    return Action(account.pk, account.borrower_id, channel, kw.pop("purpose", "collection"),
                  "collector.li", when, **kw)  # fmt: skip


@pytest.mark.django_db
def test_a_permit_is_issued_inside_the_hours_and_a_refusal_recorded_outside(account):
    permit = domain.authorize(call(account, local(20, 59, 59)), now=local(9))
    refusal = domain.authorize(call(account, local(21)), now=local(9))

    assert isinstance(permit, Permit)
    assert (permit.pack, permit.valid_until) == ("cn-default@1", local(21, 29, 59))
    assert isinstance(refusal, Refusal)
    assert (refusal.rule_id, refusal.source) == ("cn.hours.contact", "national_standard")
    assert refusal.reason_zh == "不在联络时段内（借款人当地时间08:00–21:00）"
    assert Refusal.objects.count() == 1


@pytest.mark.django_db
def test_a_contact_needs_its_permit_once(account):
    with pytest.raises(ContactRejected) as none:
        record_contact("X1", channel="call", outcome="no_answer", at=local(10), by="li")
    permit = domain.authorize(call(account, local(10)), now=local(9))
    record_contact(
        "X1", channel="call", outcome="no_answer", at=local(10, 2), by="li", permit_id=permit.pk
    )
    with pytest.raises(ContactRejected) as again:
        record_contact(
            "X1", channel="call", outcome="no_answer", at=local(10, 3), by="li", permit_id=permit.pk
        )
    other = domain.authorize(call(account, local(11)), now=local(9))
    with pytest.raises(ContactRejected) as late:
        record_contact(
            "X1", channel="call", outcome="reached", at=local(11, 31), by="li", permit_id=other.pk
        )

    assert (none.value.code, again.value.code, late.value.code) == (
        "contact.no_permit", "contact.permit_used", "contact.permit_time",
    )  # fmt: skip
    assert Contact.objects.filter(account_id="X1", recorded_by="li").count() == 1
    record_contact(
        "X1", channel="call", outcome="reached", at=local(12), by="li", direction="inbound"
    )
    assert Contact.objects.filter(account_id="X1", direction="inbound").count() == 1


@pytest.mark.django_db
def test_unused_permits_count_against_the_caps(account):
    results = [domain.authorize(call(account, local(9 + k)), now=local(8)) for k in range(4)]
    assert [type(r).__name__ for r in results] == ["Permit", "Permit", "Permit", "Refusal"]
    assert results[3].rule_id == "cn.cap.calls_day"


@pytest.mark.django_db
def test_after_settlement_every_channel_is_refused(account):
    take_payment("X1", amount_cents=500_000, paid_at=local(9), by="cashier", at=local(9, 1))
    for channel in ("sms", "email", "app", "call", "visit", "letter"):
        refused = domain.authorize(
            call(account, local(10), channel=channel, template="t"), now=local(9, 2)
        )
        assert isinstance(refused, Refusal)
        assert refused.rule_id == "cn.settled"


@pytest.mark.django_db
def test_a_cease_request_on_sms_leaves_calls_allowed(account):
    CeaseRequest.objects.create(
        borrower_id=account.borrower_id, channel="sms", since=AS_OF, recorded_by="agent",
        recorded_at=local(8),
    )  # fmt: skip
    assert (
        domain.check(call(account, local(10), channel="sms", template="t"), now=local(9)).rule.id
        == "cn.cease"
    )
    assert domain.check(call(account, local(10)), now=local(9)).allowed


@pytest.mark.django_db
def test_checking_several_channels_at_once_reads_the_context_once_and_answers_as_check(
    account, django_assert_num_queries
):
    CeaseRequest.objects.create(
        borrower_id=account.borrower_id, channel="sms", since=AS_OF, recorded_by="agent",
        recorded_at=local(8),
    )  # fmt: skip
    domain.authorize(call(account, local(9)), now=local(8))
    actions = [call(account, local(10), channel=c, purpose=p) for c, p in
               (("call", "collection"), ("sms", "reminder"), ("app", "reminder"))]  # fmt: skip
    one_by_one = [domain.check(a, now=local(9)) for a in actions]

    with django_assert_num_queries(7):  # the account, then six reads of its context
        together = domain.check_all(actions, now=local(9))

    assert together == one_by_one
    assert [(v.allowed, v.rule.id if v.rule else "") for v in together] == [
        (True, ""), (False, "cn.cease"), (False, "cn.template"),
    ]  # fmt: skip
    assert domain.check_all([], now=local(9)) == []


@pytest.mark.django_db
def test_templates_with_forbidden_wording_cannot_be_approved_and_unapproved_ones_are_refused(
    account,
):
    bad = draft_template(
        "overdue_reminder",
        channel="sms",
        language="zh",
        body="再不还款就通知你单位，让你坐牢",
        by="writer",
    )
    with translation.override("zh-hans"), pytest.raises(domain.TemplateRejected) as refused:
        domain.review_template(bad.pk, by="compliance.wang", approve=True)
    assert str(refused.value) == (
        "the template contains forbidden wording: 坐牢 (threats), 通知你单位 (exposure)"
    )
    assert (refused.value.code, refused.value.field) == ("template.rejected", "body")
    with translation.override("zh-hans"):
        assert refused.value.translated() == "模板含有禁用措辞：坐牢 (威胁), 通知你单位 (曝光)"
    good = draft_template(
        "overdue_reminder",
        channel="sms",
        language="zh",
        body="您的账单已逾期，请尽快还款或联系我们协商。",
        by="writer",
    )
    with pytest.raises(domain.TemplateRejected) as own:
        domain.review_template(good.pk, by="writer", approve=True)  # not the author
    with translation.override("zh-hans"):
        assert own.value.translated() == "模板须由作者以外的人审批"
    sms = call(account, local(10), channel="sms", template="overdue_reminder")
    assert domain.check(sms, now=local(9)).rule.id == "cn.template"
    domain.review_template(good.pk, by="compliance.wang", approve=True)
    assert domain.check(sms, now=local(9)).allowed
    with pytest.raises(domain.TemplateRejected) as again:
        domain.review_template(good.pk, by="compliance.li", approve=False)
    assert again.value.message == "only a draft can be reviewed (status: Approved by compliance)"
    with translation.override("zh-hans"):
        assert again.value.translated() == "只有草稿才能审核（当前状态：合规已审批）"


@pytest.mark.django_db
@pytest.mark.parametrize(("when", "allowed", "rule"), [
    ("2026-11-20T20:59:59+06:00", True, None),
    ("2026-11-20T21:00:00+06:00", False, "cn.hours.contact"),
])  # fmt: skip
def test_the_dry_check_prints_one_json_line(account, capsys, when, allowed, rule):
    call_command("contact", "check", "--account", "X1", "--channel", "call", "--at", when, "--json")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    answer = json.loads(last)
    assert (answer["allowed"], answer["rule"]) == (allowed, rule)
    assert Refusal.objects.count() == 0
    assert Permit.objects.count() == 0


@pytest.mark.django_db
def test_the_permit_api_gives_a_permit_or_the_refusing_rule(account, client):
    user = User.objects.create_user("collector")
    user.user_permissions.add(Permission.objects.get(codename="add_contact"))
    headers = {"Authorization": f"Bearer {ApiToken.issue(user, name='t')[1]}"}
    now = datetime.now(UTC)
    ok_time = datetime.combine(now.astimezone(URUMQI).date() + timedelta(days=1), time(10), URUMQI)
    late = ok_time.replace(hour=22)

    granted = client.post("/api/accounts/X1/permits", {"channel": "call", "planned_at": ok_time.isoformat()},
                          content_type="application/json", headers=headers)  # fmt: skip
    refused = client.post("/api/accounts/X1/permits?lang=en", {"channel": "call", "planned_at": late.isoformat()},
                          content_type="application/json", headers=headers)  # fmt: skip

    assert granted.status_code == 201
    assert Permit.objects.get().pk == granted.json()["permit_id"]
    assert refused.status_code == 403
    assert refused.json()["rule_id"] == "cn.hours.contact"
    assert (
        refused.json()["reason"]
        == "outside contact hours (08:00–21:00 in the borrower's time zone)"
    )


SRC = Path(__file__).resolve().parents[2] / "src" / "doorstep"


def test_only_the_contact_domain_creates_contacts_and_only_the_guard_issues_permits():
    makers = {
        "Contact": re.compile(r"\bContact\.objects\.(create|bulk_create|get_or_create|update_or_create)\b|(?<!class )\bContact\("),
        "Permit": re.compile(r"\bPermit\.objects\.(create|bulk_create|get_or_create|update_or_create)\b|(?<!class )\bPermit\("),
    }  # fmt: skip
    allowed = {"Contact": {"contact/domain.py"}, "Permit": {"compliance/domain.py"}}
    found = {"Contact": set(), "Permit": set()}
    for path in SRC.rglob("*.py"):
        relative = str(path.relative_to(SRC))
        if "/migrations/" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in makers.items():
            if pattern.search(text):
                found[name].add(relative)
    assert found == allowed
