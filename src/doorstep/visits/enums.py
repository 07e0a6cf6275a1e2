"""States, events and the transition table of a home visit (DOMAIN §5). Imports nothing local.

The table is the one place that lists every allowed move; `domain.transition` refuses any other.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    NOTICE_SENT = "notice_sent", _("Notice sent")
    CONFIRMED = "confirmed", _("Confirmed by the borrower")
    RESCHEDULED = "rescheduled", _("Rescheduled (a new notice is due)")
    DECLINED = "declined", _("Declined by the borrower")
    ASSIGNED = "assigned", _("Assigned to a team")
    IN_PROGRESS = "in_progress", _("In progress (checked in)")
    COMPLETED = "completed", _("Completed")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class VisitEvent(models.TextChoices):
    PROPOSE = "propose", _("Propose")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    SEND_NOTICE = "send_notice", _("Send the notice")
    CONFIRM = "confirm", _("Borrower confirms")
    RESCHEDULE = "reschedule", _("Reschedule")
    DECLINE = "decline", _("Borrower declines")
    ASSIGN = "assign", _("Assign to a team")
    CHECK_IN = "check_in", _("Check in")
    COMPLETE = "complete", _("Record the outcome and check out")
    FOLLOW_UP = "follow_up", _("Track the promise")
    CLOSE = "close", _("Close")
    CANCEL = "cancel", _("Cancel")


S, E = VisitState, VisitEvent

# Before check-in a visit may still be called off (cancelled); after it, it is recorded to the end.
BEFORE_CHECK_IN = (S.PROPOSED, S.APPROVED, S.NOTICE_SENT, S.CONFIRMED, S.RESCHEDULED, S.ASSIGNED)
OPEN_STATES = (*BEFORE_CHECK_IN, S.IN_PROGRESS)

# (event, from state) -> to state.
TRANSITIONS: dict[tuple[str, str], str] = {
    (E.APPROVE, S.PROPOSED): S.APPROVED,
    (E.REJECT, S.PROPOSED): S.REJECTED,
    (E.SEND_NOTICE, S.APPROVED): S.NOTICE_SENT,
    (E.SEND_NOTICE, S.RESCHEDULED): S.NOTICE_SENT,
    (E.CONFIRM, S.NOTICE_SENT): S.CONFIRMED,
    (E.RESCHEDULE, S.NOTICE_SENT): S.RESCHEDULED,
    (E.RESCHEDULE, S.CONFIRMED): S.RESCHEDULED,
    # A day's plan that cannot fit an assigned visit carries it: a new date needs a new notice.
    (E.RESCHEDULE, S.ASSIGNED): S.RESCHEDULED,
    (E.DECLINE, S.NOTICE_SENT): S.DECLINED,
    (E.DECLINE, S.CONFIRMED): S.DECLINED,
    (E.DECLINE, S.RESCHEDULED): S.DECLINED,
    (E.DECLINE, S.ASSIGNED): S.DECLINED,
    (E.ASSIGN, S.NOTICE_SENT): S.ASSIGNED,
    (E.ASSIGN, S.CONFIRMED): S.ASSIGNED,
    (E.CHECK_IN, S.ASSIGNED): S.IN_PROGRESS,
    (E.COMPLETE, S.IN_PROGRESS): S.COMPLETED,
    (E.FOLLOW_UP, S.COMPLETED): S.FOLLOW_UP,
    (E.CLOSE, S.COMPLETED): S.CLOSED,
    (E.CLOSE, S.FOLLOW_UP): S.CLOSED,
    **{(E.CANCEL, state): S.CANCELLED for state in BEFORE_CHECK_IN},
}


class CancelReason(models.TextChoices):
    SETTLED = "settled", _("The account was paid off or its overdue amount cleared")
    HOLD = (
        "hold",
        _("A hold was placed (dispute, complaint, bereavement, bankruptcy, legal action)"),
    )
    STAGE_CHANGED = "stage_changed", _("The account no longer qualifies for a visit")
    WITHDRAWN = "withdrawn", _("Withdrawn by a supervisor")


class Outcome(models.TextChoices):
    PAID = "paid", _("Paid")
    PROMISE_TO_PAY = "promise_to_pay", _("Promise to pay")
    PLAN_REQUESTED = "plan_requested", _("Repayment plan requested")
    NOT_HOME = "not_home", _("Not at home")
    MOVED = "moved", _("Moved away")
    REFUSED = "refused", _("Refused to talk")
    OTHER = "other", _("Other")


# What a visit outcome counts as among contact outcomes (lost contact and refusals derive from
# these): a borrower met in person was reached; one who moved cannot be reached at that address.
CONTACT_OUTCOME = {
    Outcome.PAID: "reached",
    Outcome.PROMISE_TO_PAY: "promise_to_pay",
    Outcome.PLAN_REQUESTED: "reached",
    Outcome.NOT_HOME: "no_answer",
    Outcome.MOVED: "unreachable",
    Outcome.REFUSED: "refused",
    Outcome.OTHER: "reached",
}
FOLLOWED_UP = (Outcome.PROMISE_TO_PAY, Outcome.PLAN_REQUESTED)


class AgentKind(models.TextChoices):
    IN_HOUSE = "in_house", _("In-house")
    AGENCY = "agency", _("Contracted agency")


class Answer(models.TextChoices):
    CONFIRM = "confirm", _("Confirm")
    RESCHEDULE = "reschedule", _("Reschedule")
    DECLINE = "decline", _("Decline")


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")
