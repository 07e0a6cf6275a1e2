"""Random days of contacts, payments, disputes and cease requests driven through the guard: no
contact on record ever breaks a rule of the active pack, judged afterwards from the record alone
(an auditor that shares none of the guard's database code)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.compliance import domain
from doorstep.compliance.engine.checks import Action, Attempt, Context, evaluate
from doorstep.compliance.models import CeaseRequest
from doorstep.contact.domain import draft_template, record_contact
from doorstep.contact.models import Contact, Permit
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import place_hold
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.strategy.domain import take_payment
from tests.strategy.builder import Portfolio

ZONE = "Asia/Urumqi"
START = date(2026, 11, 9)  # a Monday; the 10 days that follow hold no public holiday
CHANNELS = ["call", "call", "call", "sms", "app", "email", "visit"]
OUTCOME = {"call": ["no_answer", "reached", "refused", "unreachable", "promise_to_pay"],
           "visit": ["reached", "no_answer"], "sms": ["delivered"], "app": ["delivered"],
           "email": ["delivered"]}  # fmt: skip

step = st.tuples(
    st.integers(0, 9),  # day
    st.integers(6 * 60, 22 * 60),  # minute of the local day
    st.sampled_from(["contact"] * 6 + ["payment", "payment", "dispute", "cease"]),
    st.sampled_from(CHANNELS),
    st.integers(0, 4),
)
RUNS = iter(range(10**6))


@pytest.fixture
def templates():
    for channel in ("sms", "app", "email"):
        t = draft_template(
            "remind",
            channel=channel,
            language="zh",
            body="您的账单已逾期，请尽快还款。",
            by="writer",
        )
        domain.review_template(t.pk, by="compliance", approve=True)


def auditor_verdicts(account: Account):
    """Every outbound contact judged from the final record as of its own time."""
    pack = domain.active_pack()
    tz = ZoneInfo(ZONE)
    contacts = list(Contact.objects.filter(account=account, direction="outbound").order_by("at"))
    payments = list(
        LedgerEntry.objects.filter(account=account, kind="payment").values_list(
            "occurred_at", "amount_cents"
        )
    )
    judged = []
    for n, c in enumerate(contacts):
        day = c.at.astimezone(tz).date()
        open_on = Q(since__lte=day) & (Q(until__isnull=True) | Q(until__gte=day))
        context = Context(
            time_zone=ZONE,
            settled=sum(a for at, a in payments if at < c.at) >= account.scheduled_cents,
            holds=frozenset(Hold.objects.filter(open_on, account=account).values_list("kind", flat=True)),
            ceased=frozenset(CeaseRequest.objects.filter(open_on, borrower_id=account.borrower_id).values_list("channel", flat=True)),
            attempts=tuple(Attempt(p.at, p.channel, p.outcome) for p in contacts[:n]),
            template_approved=True,
        )  # fmt: skip
        action = Action(
            account.pk, account.borrower_id, c.channel, "collection", "auditor", c.at, "remind"
        )
        judged.append((c.channel, c.at, evaluate(pack, action, context)))
    return judged


@pytest.mark.django_db
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=5, max_size=40))
def test_no_recorded_contact_breaks_a_rule(tmp_path, templates, steps):
    run = next(RUNS)
    p = Portfolio(START, prefix=f"S{run}-")
    account_id = p.account(f"S{run}", overdue="3000.00", dpd=40, region="650102")
    import_portfolio(p.write(tmp_path / f"s{run}"))
    account = Account.objects.get(pk=account_id)
    tz = ZoneInfo(ZONE)
    for day, minute, kind, channel, pick in sorted(steps, key=lambda s: (s[0], s[1])):
        when = datetime.combine(START + timedelta(days=day), time(0), tz) + timedelta(
            minutes=minute
        )
        when = when.astimezone(UTC)
        if kind == "contact":
            result = domain.authorize(
                Action(
                    account_id,
                    account.borrower_id,
                    channel,
                    "collection",
                    "collector",
                    when,
                    "remind",
                ),
                now=when,
            )
            if isinstance(result, Permit):
                outcomes = OUTCOME[channel]
                record_contact(account_id, channel=channel, outcome=outcomes[pick % len(outcomes)],
                               at=when, by="collector", permit_id=result.pk,
                               **({"ptp_amount_cents": 10_000, "ptp_date": START + timedelta(days=day + 3)}
                                  if outcomes[pick % len(outcomes)] == "promise_to_pay" else {}))  # fmt: skip
        elif kind == "payment":
            account.refresh_from_db()
            left = account.balance_cents
            if left > 0:
                amount = left if pick <= 1 else max(1, left // pick)
                take_payment(account_id, amount_cents=amount, paid_at=when, by="cashier", at=when)
        elif kind == "dispute":
            next_day = (when.astimezone(tz) + timedelta(days=1)).date()
            if not Hold.objects.filter(
                account_id=account_id, kind="dispute", since=next_day
            ).exists():
                place_hold(
                    account_id,
                    kind="dispute",
                    since=next_day,
                    until=next_day + timedelta(days=pick),
                    by="agent",
                )
        else:
            CeaseRequest.objects.create(
                borrower_id=account.borrower_id, channel=["all", "sms", "call", "visit", "email"][pick],
                since=(when.astimezone(tz) + timedelta(days=1)).date(), recorded_by="agent", recorded_at=when,
            )  # fmt: skip
    account.refresh_from_db()
    broken = [(ch, at, v.rule.id) for ch, at, v in auditor_verdicts(account) if not v.allowed]
    assert broken == []
