"""Arrangement kinds and the request-to-completion workflow as data (DOMAIN §6)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.arrangements.engine import schedule


class Kind(models.TextChoices):
    EXTENSION = schedule.EXTENSION, _("Extension (grace period)")
    INSTALMENT = schedule.INSTALMENT, _("Instalment plan")
    MINIMUM = schedule.MINIMUM, _("Minimum payment")
    PARTIAL = schedule.PARTIAL, _("Partial payment")
    WAIVER = schedule.WAIVER, _("Fee and penalty waiver (hardship)")


class State(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    COUNTERED = "countered", _("Other terms offered")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class Event(models.TextChoices):
    REQUEST = "request", _("Request")
    APPROVE = "approve", _("Approve")
    COUNTER = "counter", _("Offer other terms")
    REFUSE = "refuse", _("Refuse")
    ACCEPT = "accept", _("Accept the offer")
    WITHDRAW = "withdraw", _("Withdraw")
    COMPLETE = "complete", _("Complete")
    BREAK = "break", _("Break")
    CANCEL = "cancel", _("Cancel")


# The reason the system writes when the account is paid off (close_on_settlement).
SETTLED_REASON = "account settled"

# (event, from state) -> to state. Anything not here is refused.
TRANSITIONS = {
    (Event.APPROVE, State.REQUESTED): State.ACTIVE,
    (Event.COUNTER, State.REQUESTED): State.COUNTERED,
    (Event.REFUSE, State.REQUESTED): State.REFUSED,
    (Event.WITHDRAW, State.REQUESTED): State.WITHDRAWN,
    (Event.ACCEPT, State.COUNTERED): State.ACTIVE,
    (Event.WITHDRAW, State.COUNTERED): State.WITHDRAWN,
    (Event.COMPLETE, State.ACTIVE): State.COMPLETED,
    (Event.BREAK, State.ACTIVE): State.BROKEN,
    # The account settled, or was suspended or closed by other means while the request waited.
    (Event.CANCEL, State.REQUESTED): State.CANCELLED,
    (Event.CANCEL, State.COUNTERED): State.CANCELLED,
    (Event.CANCEL, State.ACTIVE): State.CANCELLED,
}
PENDING_STATES = (State.REQUESTED, State.COUNTERED)
OPEN_STATES = (*PENDING_STATES, State.ACTIVE)


class EvidenceKind(models.TextChoices):
    PAYSLIP = "payslip", _("Payslip or proof of income")
    MEDICAL = "medical", _("Medical invoice or record")
    UNEMPLOYMENT = "unemployment", _("Proof of unemployment")
    OTHER = "other", _("Other document")


class Base(models.TextChoices):
    """What an instalment plan restructures."""

    OVERDUE = "overdue", _("What is overdue")
    OUTSTANDING = "outstanding", _("The whole balance")
