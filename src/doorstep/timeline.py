"""An account's timeline: every payment, charge, message, call, visit step, promise, arrangement
step, complaint and hold, oldest first, in the current language. The borrower's record (portal)
and the staff's case view (console) both show it."""

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.arrangements.enums import Event as ArrangementEvent
from doorstep.arrangements.enums import Kind
from doorstep.arrangements.models import Transition
from doorstep.complaints.models import Case
from doorstep.contact.models import Contact, OutboundMessage
from doorstep.ledger.enums import ContactChannel, ContactOutcome, EntryKind, HoldKind
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.letters.documents import RecordEvent
from doorstep.visits.engine.routing import REASONS as ROUTING_REASONS
from doorstep.visits.enums import CancelReason, VisitEvent
from doorstep.visits.models import VisitTransition

# Visit steps the borrower took part in or was told of; proposals and reviews are internal.
SHOWN_VISIT_EVENTS = (
    VisitEvent.SEND_NOTICE,
    VisitEvent.CONFIRM,
    VisitEvent.RESCHEDULE,
    VisitEvent.DECLINE,
    VisitEvent.CHECK_IN,
    VisitEvent.COMPLETE,
    VisitEvent.CANCEL,
)
KIND_LABELS = {
    "payment": gettext_lazy("Payment"),
    "charge": gettext_lazy("Charge"),
    "waiver": gettext_lazy("Waiver"),
    "message": gettext_lazy("Message"),
    "call": gettext_lazy("Call"),
    "visit": gettext_lazy("Visit"),
    "letter": gettext_lazy("Letter"),
    "promise": gettext_lazy("Promise"),
    "arrangement": gettext_lazy("Arrangement"),
    "complaint": gettext_lazy("Complaint"),
    "dispute": gettext_lazy("Dispute"),
    "hold": gettext_lazy("Hold"),
}
MESSAGE_CHANNELS = (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.APP)


def record_events(account: Account, zone: ZoneInfo) -> list[RecordEvent]:
    """Everything on the account the borrower may see, oldest first, in the current language."""
    events: list[tuple[datetime, int, RecordEvent]] = []

    def add(at: datetime, kind: str, title: str, detail: str = "", amount=None):
        local = at.astimezone(zone)
        events.append((local, len(events), RecordEvent(local, kind, str(title), detail, amount)))

    entries = LedgerEntry.objects.filter(account=account).order_by("occurred_at", "id")
    penalties: dict[str, list] = defaultdict(lambda: [None, 0])
    for entry in entries:
        if entry.kind == EntryKind.PENALTY_INTEREST:
            # Accrued daily; one line per month is what a person can read.
            month = penalties[entry.effective_on.strftime("%Y-%m")]
            month[0] = month[0] or entry.occurred_at
            month[1] += entry.amount_cents
        elif entry.kind == EntryKind.PAYMENT:
            add(entry.occurred_at, "payment", _("Payment received"), entry.reference or "",
                entry.amount_cents)  # fmt: skip
        elif entry.kind == EntryKind.WAIVER:
            add(entry.occurred_at, "waiver", _("Charges waived"), entry.note, entry.amount_cents)
        elif entry.kind == EntryKind.LATE_FEE:
            add(entry.occurred_at, "charge", _("Late fee"), "", entry.amount_cents)
    for month, (at, amount) in penalties.items():
        add(at, "charge", _("Penalty interest"), month, amount)

    texts = dict(OutboundMessage.objects.filter(account=account).values_list("permit_id", "text"))
    for contact in Contact.objects.filter(account=account).order_by("at"):
        channel = ContactChannel(contact.channel)
        outcome = ContactOutcome(contact.outcome).label
        if contact.channel in MESSAGE_CHANNELS:
            add(contact.at, "message", channel.label, texts.get(contact.permit_id, str(outcome)))
        elif contact.channel == ContactChannel.LETTER:
            add(contact.at, "letter", channel.label, str(outcome))
        elif contact.channel == ContactChannel.VISIT:
            add(contact.at, "visit", _("Home visit made"), str(outcome))
        else:
            add(contact.at, "call", channel.label, str(outcome))
        if contact.outcome == ContactOutcome.PROMISE_TO_PAY:
            add(contact.at, "promise", _("Promise to pay"),
                _("to pay by %(date)s") % {"date": contact.ptp_date}, contact.ptp_amount_cents)  # fmt: skip

    for step in VisitTransition.objects.filter(
        visit__account=account, event__in=SHOWN_VISIT_EVENTS
    ).select_related("visit"):
        detail = f"{step.visit.visit_date or ''} {_visit_step_reason(step)}".strip()
        add(step.at, "visit", VisitEvent(step.event).label, detail)

    for step in Transition.objects.filter(arrangement__account=account).select_related(
        "arrangement"
    ):
        arrangement = step.arrangement
        title = f"{Kind(arrangement.kind).label}: {ArrangementEvent(step.event).label}"
        add(step.at, "arrangement", title, step.reason_words, arrangement.amount_cents)

    for case in Case.objects.filter(account=account):
        kind = "complaint" if case.kind == "complaint" else "dispute"
        add(case.filed_at, kind, case.get_kind_display(), case.text[:200])
        if case.answered_at:
            add(case.answered_at, kind, _("Answer: %(finding)s") % {
                "finding": case.get_finding_display()}, case.answer[:200])  # fmt: skip

    for hold in Hold.objects.filter(account=account).exclude(kind=HoldKind.ARRANGEMENT):
        start = datetime.combine(hold.since, datetime.min.time(), zone)
        until = _("until %(date)s") % {"date": hold.until} if hold.until else _("open")
        add(start, "hold", HoldKind(hold.kind).label, str(until))

    return [event for _at, _n, event in sorted(events, key=lambda e: (e[0], e[1]))]


def _visit_step_reason(step: VisitTransition) -> str:
    """A visit step's reason in words: a cancellation's code (CancelReason) by its label, the day
    planner's "could not be fitted on DAY: no_team_capacity" (a routing code) as a sentence.
    Anything else is what a person wrote."""
    if step.event == VisitEvent.CANCEL and step.reason in CancelReason.values:
        return str(CancelReason(step.reason).label)
    if step.event == VisitEvent.RESCHEDULE and step.reason.rsplit(": ", 1)[-1] in ROUTING_REASONS:
        return _(
            "It did not fit into that day's visiting round: a new date will be set, with a new notice."
        )
    return step.reason
