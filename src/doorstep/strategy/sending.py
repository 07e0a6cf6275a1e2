"""The day's planned messages, sent: each asks the guard again at the moment it goes (a payment,
dispute or cease request since the nightly run changes the answer), is rendered from its approved
template with today's figures, and goes into the outbox, which the channel backends drain.

The nightly run of day D plans what goes out on D+1 (DOORSTEP_SEND_TIMES); `send_planned_messages`
runs on D+1 from that time. Call tasks are not sent: they are a collector's work list.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction

from doorstep.arrangements.domain import next_line, terms_of
from doorstep.arrangements.engine.schedule import schedule
from doorstep.arrangements.enums import State
from doorstep.arrangements.models import Arrangement
from doorstep.audit.domain import record
from doorstep.compliance.domain import authorize, check
from doorstep.compliance.engine.checks import Action
from doorstep.compliance.models import Refusal
from doorstep.contact.domain import drain_outbox, queue_message
from doorstep.contact.errors import ContactRejected
from doorstep.ledger.domain import local_date
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.queries import account_position, locked_account
from doorstep.money import yuan
from doorstep.strategy.enums import DECISION_NOTICES, ActionKind, ActionStatus, Stage
from doorstep.strategy.models import Decision, PlannedAction

# Refusals that depend only on the time: the message is not refused, it waits.
WAIT_CHECKS = ("hours", "quiet_day")


@dataclass(frozen=True)
class SendResult:
    queued: int
    refused: dict[str, int]
    skipped: dict[str, int]  # reason -> count (nothing owed, waiting for the hour, ...)
    outbox: dict[str, int]


def template_params(template: str, account_id: str, position) -> dict[str, object]:
    """What a message's placeholders say, from the account's figures today."""
    next_due = next(
        (i for i in position.instalments if i.due_date >= position.as_of and i.unpaid > 0), None
    )
    amount = position.overdue
    if template == "pre_due_reminder" and next_due is not None:
        amount = next_due.unpaid
    params = {
        "lender": settings.DOORSTEP_VISITS["lender_name"],
        "amount": yuan(amount),
        "dpd": position.dpd,
        "due_date": (next_due.due_date if next_due else position.as_of).isoformat(),
        "portal": f"{settings.DOORSTEP_PUBLIC_URL}/my/",
    }
    if template == "arrangement_reminder":
        params |= arrangement_params(account_id, position.as_of)
    elif template in DECISION_NOTICES:
        params |= decision_params(account_id)
    return params


def arrangement_params(account_id: str, today: date) -> dict[str, object]:
    line = next_line(account_id, today)
    if line is None:
        return {}
    return {"amount": yuan(line[1]), "due_date": line[0].isoformat()}


# An arrangement's decision, told to the borrower: the state it moved to -> the template.
DECISION_TEMPLATES = dict(
    zip((State.ACTIVE, State.COUNTERED, State.REFUSED), DECISION_NOTICES, strict=True)
)


def decision_params(account_id: str) -> dict[str, object]:
    """The first payment of the account's latest decided arrangement (what an approval or an
    offer names); nothing for a refusal, whose reason the portal shows."""
    arrangement = (
        Arrangement.objects.filter(account_id=account_id, decided_at__isnull=False)
        .order_by("-decided_at")
        .first()
    )
    if arrangement is None or arrangement.state not in (State.ACTIVE, State.COUNTERED):
        return {}
    first = schedule(terms_of(arrangement))[0]
    return {"amount": yuan(first.amount_cents), "due_date": first.due_date.isoformat()}


def tell_decision(arrangement_id: str, *, by: str, at: datetime) -> str:
    """Tell the borrower that staff decided their request (approved, other terms offered, refused),
    by SMS through the guard, at once. Outside the hours the pack allows (or on a quiet day) the
    message is planned instead, for the next day's send run; a refusal of the guard or a missing
    approved template leaves the portal, which shows the decision, as the only word. Call inside
    the deciding transaction. Returns queued | planned | refused:<rule> | <rejection code>."""
    with transaction.atomic():
        arrangement = Arrangement.objects.select_related("account__borrower__region").get(
            pk=arrangement_id
        )
        template = DECISION_TEMPLATES.get(arrangement.state)
        if template is None:
            return "no_decision"
        account = arrangement.account
        answer, given = _ask_guard(account, "sms", "notice", template, by=by, at=at)
        if answer == "wait":
            latest = Decision.objects.filter(account=account).order_by("-as_of").first()
            PlannedAction.objects.get_or_create(
                account=account,
                as_of=local_date(account, at),
                kind=ActionKind.MESSAGE,
                channel="sms",
                template=template,
                defaults={"stage": latest.stage if latest else Stage.ARRANGEMENT},
            )
            return "planned"
        if answer == "refused":
            return f"refused:{given}"
        position = account_position(account, local_date(account, at))
        params = template_params(template, account.pk, position)
        try:
            with transaction.atomic():
                queue_message(given, template_code=template, params=params, by=by, at=at)
        except ContactRejected as exc:
            return exc.code
        return "queued"


def send_planned_messages(day: date, *, by: str, now: datetime, drain: bool = True) -> SendResult:
    """Send the messages the nightly run of the day before planned for `day`. Side effects per
    action, in one transaction each: the guard's Permit or Refusal; the queued OutboundMessage;
    the action marked done, refused (with the rule) or cancelled (with why). Then the outbox
    drained when `drain`. An audit entry (messages.sent) with the counts."""
    planned = (
        PlannedAction.objects.filter(
            kind=ActionKind.MESSAGE, status=ActionStatus.PLANNED, as_of=day - timedelta(days=1)
        )
        .select_related("account__borrower__region")
        .order_by("id")
    )
    queued, refused, skipped = 0, {}, {}
    for action in planned.iterator(chunk_size=1000):
        outcome = _send_one(action.pk, by=by, now=now)
        if outcome == "queued":
            queued += 1
        elif outcome.startswith("refused:"):
            rule = outcome.split(":", 1)[1]
            refused[rule] = refused.get(rule, 0) + 1
        else:
            skipped[outcome] = skipped.get(outcome, 0) + 1
    outbox = {}
    if drain:
        drained = drain_outbox(limit=max(queued, 1) * 2, now=now)
        outbox = {k: v for k, v in drained.items() if v or not k.startswith("stuck_")}
    record(
        "messages.sent",
        actor=by,
        at=now,
        data={"day": day, "queued": queued, "refused": refused, "skipped": skipped, **outbox},
    )
    return SendResult(queued, refused, skipped, outbox)


def _send_one(action_id: int, *, by: str, now: datetime) -> str:
    with transaction.atomic():
        # The account before the task (docs/adr/0010): a payment holds the account and the
        # audit head, then cancels the account's tasks on a change of stage.
        locked_account(
            PlannedAction.objects.filter(pk=action_id).values_list("account_id", flat=True).get()
        )
        action = (
            PlannedAction.objects.select_for_update(of=("self",))
            .select_related("account__borrower__region")
            .get(pk=action_id)
        )
        if action.status != ActionStatus.PLANNED:
            return "no_longer_planned"
        account = action.account
        position = account_position(account, local_date(account, now))
        nothing_due = (
            account.status == AccountStatus.SETTLED
            or position.outstanding <= 0
            or (action.template == "overdue_reminder" and position.overdue <= 0)
        )
        if nothing_due:
            _close(action, ActionStatus.CANCELLED, reason="nothing due by the time of sending")
            return "nothing_due"
        purpose = "notice" if action.template in DECISION_NOTICES else "reminder"
        answer, given = _ask_guard(account, action.channel, purpose, action.template, by=by, at=now)
        # Not the hour (or a quiet day) in the borrower's zone: the action waits for a later
        # run the same day, and nothing is recorded against the borrower.
        if answer == "wait":
            return f"waiting:{given}"
        if answer == "refused":
            _close(action, ActionStatus.REFUSED, rule=given)
            return f"refused:{given}"
        try:
            with transaction.atomic():
                queue_message(
                    given,
                    template_code=action.template,
                    params=template_params(action.template, account.pk, position),
                    by=by,
                    at=now,
                )
        except ContactRejected as exc:
            _close(action, ActionStatus.CANCELLED, reason=exc.message[:200])
            return exc.code
        _close(action, ActionStatus.DONE)
        return "queued"


def _ask_guard(account, channel: str, purpose: str, template: str, *, by: str, at: datetime):
    """The guard's answer for a message going now: ("wait", rule id) when only the hour or a quiet
    day stands in the way (nothing recorded: it goes later), ("refused", rule id) with the refusal
    recorded, or ("permit", permit id)."""
    asked = Action(
        account_id=account.pk,
        borrower_id=account.borrower_id,
        channel=channel,
        purpose=purpose,
        actor=by,
        planned_at=at,
        template=template,
    )
    dry = check(asked, now=at)
    if not dry.allowed and dry.rule.check in WAIT_CHECKS:
        return "wait", dry.rule.id
    verdict = authorize(asked, now=at)
    if isinstance(verdict, Refusal):
        return "refused", verdict.rule_id
    return "permit", verdict.pk


def _close(action: PlannedAction, status: str, *, reason: str = "", rule: str = "") -> None:
    action.status = status
    action.cancelled_reason = reason
    action.refused_rule = rule
    action.save(update_fields=["status", "cancelled_reason", "refused_rule"])
