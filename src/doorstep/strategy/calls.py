"""A collector's call, recorded: the guard is asked for the call at this moment, the outcome is
recorded on its permit, the day's call task for the account is done, and the account is
re-evaluated (a promise or a wrong number can change the stage) — one transaction."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from doorstep.compliance.domain import authorize
from doorstep.compliance.engine.checks import Action
from doorstep.compliance.models import Refusal
from doorstep.contact.domain import record_contact
from doorstep.ledger.models import Account
from doorstep.ledger.queries import locked_account
from doorstep.strategy.domain import reevaluate_account
from doorstep.strategy.enums import ActionKind, ActionStatus
from doorstep.strategy.models import Decision, PlannedAction
from doorstep.worklist.domain import ClaimRefused, claim
from doorstep.worklist.models import Claim

CLAIM_KIND = "call"  # the worklist kind of a call task (console.calls shows the claims)


# Why a call task can no longer be claimed, by its status: one sentence each, so that each reads
# naturally in the catalogue.
CLOSED = {
    ActionStatus.DONE: gettext_noop("this call task is done and can no longer be claimed"),
    ActionStatus.CANCELLED: gettext_noop(
        "this call task is cancelled and can no longer be claimed"
    ),
    ActionStatus.REFUSED: gettext_noop(
        "the compliance guard refused this call task; it can no longer be claimed"
    ),
}


def task_closed(status: str) -> ClaimRefused:
    """The refusal of a claim on a call task that is no longer planned (`status`: done,
    cancelled, refused)."""
    template = CLOSED.get(
        status, gettext_noop("this call task is %(status)s and can no longer be claimed")
    )
    return ClaimRefused(template, code="work.closed", params={"status": status})


def claim_call_task(action_id: int, *, by: str, at: datetime) -> Claim:
    """Take a call task from the queue before calling. Side effects: the Claim; an audit entry
    (work.claimed). Raises ClaimRefused: someone else holds it, or the task is no longer planned
    (another collector's call finished it, a change of stage cancelled it) — the queue page was
    older than the task. The account is locked first (docs/adr/0010) and the status read under
    that lock: recording a call and re-evaluating the account close its tasks holding it."""
    with transaction.atomic():
        task = PlannedAction.objects.get(pk=action_id, kind=ActionKind.CALL_TASK)
        locked_account(task.account_id)
        task.refresh_from_db(fields=["status"])
        if task.status != ActionStatus.PLANNED:
            raise task_closed(task.status)
        return claim(CLAIM_KIND, str(task.pk), by=by, at=at)


@dataclass(frozen=True)
class CallRecorded:
    refusal: Refusal | None  # the guard said no: nothing else happened
    decision: Decision | None


def record_call(
    account_id: str,
    *,
    by: str,
    at: datetime,
    outcome: str,
    ptp_amount_cents: int | None = None,
    ptp_date: date | None = None,
) -> CallRecorded:
    """Side effects on a permit: the Contact; the account's planned call tasks up to today done;
    the account re-evaluated. On a refusal: only the guard's Refusal row. Raises ContactRejected
    (bad outcome or promise)."""
    with transaction.atomic():
        # The account is locked before the guard writes its permit (and takes the audit trail's
        # head): a payment locks the account and then the head, and the other order deadlocked
        # with it when a collector recorded a call on an account its borrower was paying.
        account = locked_account(account_id)
        if account is None:
            raise Account.DoesNotExist(f"no account {account_id}")
        verdict = authorize(
            Action(
                account_id=account.pk,
                borrower_id=account.borrower_id,
                channel="call",
                purpose="collection",
                actor=by,
                planned_at=at,
            ),
            now=at,
        )
        if isinstance(verdict, Refusal):
            return CallRecorded(verdict, None)
        record_contact(
            account.pk, channel="call", outcome=outcome, at=at, by=by, permit_id=verdict.pk,
            ptp_amount_cents=ptp_amount_cents, ptp_date=ptp_date,
        )  # fmt: skip
        PlannedAction.objects.filter(
            account=account, kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED
        ).update(status=ActionStatus.DONE)
        return CallRecorded(None, reevaluate_account(account.pk, at=at, by=by))
