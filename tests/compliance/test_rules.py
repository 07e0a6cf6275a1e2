"""Each rule of both packs, allowed just inside its boundary and refused just outside, in time
zones other than Asia/Shanghai."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from doorstep.compliance.engine.checks import (
    Action,
    Agent,
    Attempt,
    Context,
    Inconvenient,
    ThirdParty,
    VisitFacts,
    evaluate,
)
from doorstep.compliance.engine.pack import PackInvalid, load_pack, load_pack_text

CN, US = load_pack("cn-default"), load_pack("us-regf")
URUMQI, NEW_YORK = "Asia/Urumqi", "America/New_York"
DAY = date(2026, 11, 20)  # a Friday, no holiday


def at(zone: str, hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), ZoneInfo(zone)).astimezone(UTC)


def action(channel="call", zone=URUMQI, when=None, **kw) -> Action:
    return Action(
        account_id="A1", borrower_id="B1", channel=channel, purpose=kw.pop("purpose", "collection"),
        actor="test", planned_at=when or at(zone, 10), template=kw.pop("template", "approved"), **kw,
    )  # fmt: skip


def agent(no: str, *, until: date = date(2027, 12, 31), regions=("650102",), active=True):
    return Agent(no, active, date(2026, 1, 1), until, frozenset(regions))


# A visit ready to be made on DAY in region 650102: approved, notice sent 3 days before, two agents.
READY = VisitFacts(
    region_code="650102", approved=True, declined=False, visit_date=DAY,
    notice_sent_on=DAY - timedelta(days=3), agents=(agent("FA-1"), agent("FA-2")),
)  # fmt: skip


def ctx(zone=URUMQI, **kw) -> Context:
    kw.setdefault("visit", READY)
    return Context(time_zone=zone, template_approved=kw.pop("template_approved", True), **kw)


def rule_of(pack, act, context) -> str | None:
    verdict = evaluate(pack, act, context)
    return None if verdict.allowed else verdict.rule.id


@pytest.mark.parametrize(
    ("pack", "rule", "zone"), [(CN, "cn.hours.contact", URUMQI), (US, "us.hours", NEW_YORK)]
)
@pytest.mark.parametrize("channel", ["sms", "call"])
def test_contact_hours_0800_to_2100_local(pack, rule, zone, channel):
    assert rule_of(pack, action(channel, when=at(zone, 7, 59, 59)), ctx(zone)) == rule
    assert rule_of(pack, action(channel, when=at(zone, 8)), ctx(zone)) is None
    assert rule_of(pack, action(channel, when=at(zone, 20, 59, 59)), ctx(zone)) is None
    assert rule_of(pack, action(channel, when=at(zone, 21)), ctx(zone)) == rule


@pytest.mark.parametrize(("pack", "rule"), [(CN, "cn.hours.visit"), (US, "us.hours.visit")])
def test_visit_hours_0800_to_2000_local(pack, rule):
    assert rule_of(pack, action("visit", when=at(URUMQI, 19, 59, 59)), ctx()) is None
    assert rule_of(pack, action("visit", when=at(URUMQI, 20)), ctx()) == rule
    assert rule_of(pack, action("visit", when=at(URUMQI, 7, 59, 59)), ctx()) == rule


def test_the_window_is_the_borrowers_not_the_servers():
    # 10:30 in Shanghai is 08:30 in Urumqi (allowed) and 21:30 the day before in New York.
    instant = at("Asia/Shanghai", 10, 30)
    assert rule_of(CN, action(when=instant), ctx(URUMQI)) is None
    assert rule_of(US, action(when=instant), ctx(NEW_YORK)) == "us.hours"


def test_quiet_days_in_cn_default_only():
    holiday = at(URUMQI, 10, day=date(2026, 10, 1))
    assert rule_of(CN, action("call", when=holiday), ctx()) == "cn.quiet_day"
    assert rule_of(CN, action("sms", when=holiday), ctx()) is None  # messages are not held
    assert rule_of(CN, action("call", when=at(URUMQI, 10, day=date(2026, 10, 8))), ctx()) is None
    assert (
        rule_of(
            US,
            action("call", zone=NEW_YORK, when=at(NEW_YORK, 10, day=date(2026, 10, 1))),
            ctx(NEW_YORK),
        )
        is None
    )


def calls(zone, *moments, outcome="no_answer", channel="call"):
    return tuple(Attempt(m, channel, outcome) for m in moments)


def test_cn_three_calls_a_day_the_fourth_refused():
    zone = URUMQI
    three = calls(zone, at(zone, 9), at(zone, 11), at(zone, 13))
    assert rule_of(CN, action(when=at(zone, 15)), ctx(attempts=three[:2])) is None
    assert rule_of(CN, action(when=at(zone, 15)), ctx(attempts=three)) == "cn.cap.calls_day"
    # Yesterday's calls do not count against today's three.
    yesterday = tuple(replace(a, at=a.at - timedelta(days=1)) for a in three)
    assert rule_of(CN, action(when=at(zone, 15)), ctx(attempts=yesterday)) is None


@pytest.mark.parametrize(
    ("pack", "rule", "zone"), [(CN, "cn.cap.calls_7d", URUMQI), (US, "us.cap.calls_7d", NEW_YORK)]
)
def test_seven_calls_in_seven_days_the_eighth_refused(pack, rule, zone):
    # One a day on the six days before, and one this morning: 7 in the 7 local days.
    week = calls(zone, *(at(zone, 9, day=DAY - timedelta(days=d)) for d in range(7)))
    six = week[1:]
    assert rule_of(pack, action(when=at(zone, 15)), ctx(zone, attempts=six)) is None
    assert rule_of(pack, action(when=at(zone, 15)), ctx(zone, attempts=week)) == rule
    # The call eight local days ago has left the window.
    shifted = (*six, Attempt(at(zone, 9, day=DAY - timedelta(days=7)), "call", "no_answer"))
    assert rule_of(pack, action(when=at(zone, 15)), ctx(zone, attempts=shifted)) is None


def test_cn_no_further_call_on_a_day_the_borrower_was_reached():
    reached = calls(URUMQI, at(URUMQI, 9), outcome="reached")
    assert rule_of(CN, action(when=at(URUMQI, 15)), ctx(attempts=reached)) == "cn.after_reached"
    yesterday = calls(URUMQI, at(URUMQI, 23, 59, day=DAY - timedelta(days=1)), outcome="reached")
    assert rule_of(CN, action(when=at(URUMQI, 8)), ctx(attempts=yesterday)) is None


def test_us_no_call_within_seven_days_of_a_conversation():
    def talked(days_ago):
        return calls(
            NEW_YORK, at(NEW_YORK, 10, day=DAY - timedelta(days=days_ago)), outcome="promise_to_pay"
        )

    assert (
        rule_of(US, action(zone=NEW_YORK, when=at(NEW_YORK, 10)), ctx(NEW_YORK, attempts=talked(6)))
        == "us.after_conversation"
    )
    assert (
        rule_of(US, action(zone=NEW_YORK, when=at(NEW_YORK, 10)), ctx(NEW_YORK, attempts=talked(7)))
        is None
    )


def test_cn_two_messages_a_day_across_channels():
    two = (Attempt(at(URUMQI, 9), "sms", "delivered"), Attempt(at(URUMQI, 10), "app", "delivered"))
    assert rule_of(CN, action("email", when=at(URUMQI, 12)), ctx(attempts=two[:1])) is None
    assert (
        rule_of(CN, action("email", when=at(URUMQI, 12)), ctx(attempts=two))
        == "cn.cap.messages_day"
    )
    assert (
        rule_of(
            US, action("email", zone=NEW_YORK, when=at(NEW_YORK, 12)), ctx(NEW_YORK, attempts=two)
        )
        is None
    )


@pytest.mark.parametrize(("pack", "prefix"), [(CN, "cn"), (US, "us")])
def test_visit_caps_one_a_day_two_in_thirty_days(pack, prefix):
    today = (Attempt(at(URUMQI, 9), "visit", "reached"),)
    assert (
        rule_of(pack, action("visit", when=at(URUMQI, 15)), ctx(attempts=today))
        == f"{prefix}.cap.visits_day"
    )
    two = (Attempt(at(URUMQI, 9, day=DAY - timedelta(days=29)), "visit", "no_answer"),
           Attempt(at(URUMQI, 9, day=DAY - timedelta(days=3)), "visit", "no_answer"))  # fmt: skip
    assert (
        rule_of(pack, action("visit", when=at(URUMQI, 15)), ctx(attempts=two))
        == f"{prefix}.cap.visits_30d"
    )
    assert rule_of(pack, action("visit", when=at(URUMQI, 15)), ctx(attempts=two[1:])) is None


@pytest.mark.parametrize(("pack", "prefix"), [(CN, "cn"), (US, "us")])
def test_blocks_settled_holds_cease_template(pack, prefix):
    assert rule_of(pack, action(), ctx(settled=True)) == f"{prefix}.settled"
    for kind in ("dispute", "complaint", "deceased", "bankruptcy", "legal_action"):
        assert (
            rule_of(pack, action("sms"), ctx(holds=frozenset({kind}))) == f"{prefix}.hold.suspended"
        )
    for kind in ("visit_declined", "cease_visit"):
        assert (
            rule_of(pack, action("visit"), ctx(holds=frozenset({kind}))) == f"{prefix}.hold.visit"
        )
        assert rule_of(pack, action("call"), ctx(holds=frozenset({kind}))) is None
    assert rule_of(pack, action("sms"), ctx(ceased=frozenset({"sms"}))) == f"{prefix}.cease"
    assert rule_of(pack, action("call"), ctx(ceased=frozenset({"sms"}))) is None
    assert rule_of(pack, action("call"), ctx(ceased=frozenset({"all"}))) == f"{prefix}.cease"
    assert rule_of(pack, action("sms"), ctx(template_approved=False)) == f"{prefix}.template"


@pytest.mark.parametrize(("pack", "prefix"), [(CN, "cn"), (US, "us")])
def test_stated_inconvenient_times(pack, prefix):
    friday_evening = (Inconvenient(4, time(18), time(20)),)
    assert (
        rule_of(pack, action(when=at(URUMQI, 17, 59, 59)), ctx(inconvenient=friday_evening)) is None
    )
    assert (
        rule_of(pack, action(when=at(URUMQI, 18)), ctx(inconvenient=friday_evening))
        == f"{prefix}.inconvenient"
    )
    saturday = at(URUMQI, 18, day=DAY + timedelta(days=1))
    assert rule_of(pack, action(when=saturday), ctx(inconvenient=friday_evening)) is None


@pytest.mark.parametrize(("pack", "prefix"), [(CN, "cn"), (US, "us")])
def test_third_parties_supplied_to_locate_once_a_week_no_objecting_employer(pack, prefix):
    rule = f"{prefix}.third_party"
    ok = ThirdParty(supplied_by_borrower=True, is_employer=False, employer_objected=False)
    call = action("third_party_call", purpose="locate", third_party_id="T1")
    assert rule_of(pack, call, ctx(third_party=ok)) is None
    assert rule_of(pack, replace(call, purpose="collection"), ctx(third_party=ok)) == rule
    assert rule_of(pack, call, ctx(third_party=replace(ok, supplied_by_borrower=False))) == rule
    assert rule_of(pack, call, ctx(third_party=None)) == rule
    assert rule_of(pack, call, ctx(third_party=ThirdParty(True, True, True))) == rule
    assert rule_of(pack, call, ctx(third_party=ThirdParty(True, True, False))) is None
    six_days = (
        Attempt(at(URUMQI, 10, day=DAY - timedelta(days=6)), "third_party_call", "reached", "T1"),
    )
    seven_days = (
        Attempt(at(URUMQI, 10, day=DAY - timedelta(days=7)), "third_party_call", "reached", "T1"),
    )
    other = (Attempt(at(URUMQI, 9), "third_party_call", "reached", "T2"),)
    assert rule_of(pack, call, ctx(third_party=ok, attempts=six_days)) == rule
    assert rule_of(pack, call, ctx(third_party=ok, attempts=seven_days)) is None
    assert rule_of(pack, call, ctx(third_party=ok, attempts=other)) is None


@pytest.mark.parametrize(("pack", "prefix"), [(CN, "cn"), (US, "us")])
def test_a_visit_needs_approval_notice_three_days_before_no_decline_and_two_credentials(
    pack, prefix
):
    visit = action("visit", when=at(URUMQI, 10))
    assert rule_of(pack, visit, ctx()) is None
    refused = {
        "approved": replace(READY, approved=False),
        "declined": replace(READY, declined=True),
        "notice": replace(READY, notice_sent_on=DAY - timedelta(days=2)),
    }
    for rule, facts in refused.items():
        assert rule_of(pack, visit, ctx(visit=facts)) == f"{prefix}.visit.{rule}"
    # The notice must name this date; without one there is nothing to go on.
    assert rule_of(pack, visit, ctx(visit=replace(READY, visit_date=DAY + timedelta(days=1)))) == (
        f"{prefix}.visit.notice"
    )
    assert rule_of(pack, visit, ctx(visit=replace(READY, notice_sent_on=None))) == (
        f"{prefix}.visit.notice"
    )
    # Two visitors, each active, valid on the day (the last day included) and for the region.
    team = f"{prefix}.visit.team"
    last_day = replace(READY, agents=(agent("FA-1", until=DAY), agent("FA-2", until=DAY)))
    assert rule_of(pack, visit, ctx(visit=last_day)) is None
    for second in (
        agent("FA-2", until=DAY - timedelta(days=1)),
        agent("FA-2", regions=("310101",)),
        agent("FA-2", active=False),
        agent("FA-1"),  # the same credential twice is one visitor
    ):
        facts = replace(READY, agents=(agent("FA-1"), second))
        assert rule_of(pack, visit, ctx(visit=facts)) == team
    # Without the workflow's facts, no visit.
    assert rule_of(pack, visit, ctx(visit=None)) == f"{prefix}.visit.approved"


def test_every_rule_says_where_it_comes_from():
    for pack in (CN, US):
        for rule in pack.rules:
            assert rule.source in ("law", "regulation", "national_standard", "internal_policy")
            assert rule.citation
            assert rule.reason.en
            assert rule.reason.zh


def test_a_malformed_pack_is_refused_with_the_place():
    with pytest.raises(PackInvalid) as bad:
        load_pack_text("name: x\nversion: 1\njurisdiction: CN\nretention_years: 5\nrules:\n"
                       "  - {id: a, check: cap, channels: [call], source: law, citation: c,"
                       " reason: {en: e, zh: z}}\n")  # fmt: skip
    assert bad.value.errors == ["rules.0: Value error, check cap needs limit, days"]
