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
from doorstep.complaints.enums import CaseKind, Finding
from doorstep.complaints.models import Case
from doorstep.contact.models import Contact, OutboundMessage
from doorstep.ledger.enums import ContactChannel, ContactOutcome, EntryKind, HoldKind
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.letters.documents import RecordEvent
from doorstep.roundtrips import fetch_all
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
    """Everything on the account the borrower may see, oldest first, in the current language.

    The ledger entries, messages, contacts, visit steps and holds are read as rows in one round
    trip (`roundtrips.fetch_all`): a busy account has a penalty entry a day, and making a model
    instance of each, one statement after another, was most of the case view's timeline."""
    events: list[tuple[datetime, int, RecordEvent]] = []

    def add(at: datetime, kind: str, title: str, detail: str = "", amount=None):
        local = at.astimezone(zone)
        events.append((local, len(events), RecordEvent(local, kind, str(title), detail, amount)))

    entries, texts, contacts, visit_steps, cases, holds = fetch_all(
        LedgerEntry.objects.filter(account=account)
        .order_by("occurred_at", "id")
        .values_list("kind", "occurred_at", "effective_on", "amount_cents", "reference", "note"),
        # In the model's order: of a permit's messages, the latest one's text stands.
        OutboundMessage.objects.filter(account=account).values_list("permit_id", "text"),
        Contact.objects.filter(account=account)
        .order_by("at")
        .values_list("at", "channel", "outcome", "permit_id", "ptp_date", "ptp_amount_cents"),
        VisitTransition.objects.filter(visit__account=account, event__in=SHOWN_VISIT_EVENTS)
        .order_by("at", "id")
        .values_list("at", "event", "reason", "visit__visit_date"),
        Case.objects.filter(account=account).values_list(
            "kind", "filed_at", "text", "answered_at", "finding", "answer"
        ),
        Hold.objects.filter(account=account)
        .exclude(kind=HoldKind.ARRANGEMENT)
        .order_by("since", "id")
        .values_list("since", "kind", "until"),
    )
    penalties: dict[str, list] = defaultdict(lambda: [None, 0])
    for kind, occurred_at, effective_on, amount_cents, reference, note in entries:
        if kind == EntryKind.PENALTY_INTEREST:
            # Accrued daily; one line per month is what a person can read.
            month = penalties[effective_on.strftime("%Y-%m")]
            month[0] = month[0] or occurred_at
            month[1] += amount_cents
        elif kind == EntryKind.PAYMENT:
            add(occurred_at, "payment", _("Payment received"), reference or "", amount_cents)
        elif kind == EntryKind.WAIVER:
            add(occurred_at, "waiver", _("Charges waived"), note, amount_cents)
        elif kind == EntryKind.LATE_FEE:
            add(occurred_at, "charge", _("Late fee"), "", amount_cents)
    for month, (at, amount) in penalties.items():
        add(at, "charge", _("Penalty interest"), month, amount)

    texts = dict(texts)
    for at, channel_code, outcome_code, permit_id, ptp_date, ptp_amount_cents in contacts:
        channel = ContactChannel(channel_code)
        outcome = ContactOutcome(outcome_code).label
        if channel_code in MESSAGE_CHANNELS:
            add(at, "message", channel.label, texts.get(permit_id, str(outcome)))
        elif channel_code == ContactChannel.LETTER:
            add(at, "letter", channel.label, str(outcome))
        elif channel_code == ContactChannel.VISIT:
            add(at, "visit", _("Home visit made"), str(outcome))
        else:
            add(at, "call", channel.label, str(outcome))
        if outcome_code == ContactOutcome.PROMISE_TO_PAY:
            add(at, "promise", _("Promise to pay"),
                _("to pay by %(date)s") % {"date": ptp_date}, ptp_amount_cents)  # fmt: skip

    for at, event, reason, visit_date in visit_steps:
        detail = f"{visit_date or ''} {_visit_step_reason(event, reason)}".strip()
        add(at, "visit", VisitEvent(event).label, detail)

    for step in Transition.objects.filter(arrangement__account=account).select_related(
        "arrangement"
    ):
        arrangement = step.arrangement
        title = f"{Kind(arrangement.kind).label}: {ArrangementEvent(step.event).label}"
        add(step.at, "arrangement", title, step.reason_words, arrangement.amount_cents)

    for case_kind, filed_at, text, answered_at, finding, answer in cases:
        kind = "complaint" if case_kind == CaseKind.COMPLAINT else "dispute"
        add(filed_at, kind, CaseKind(case_kind).label, text[:200])
        if answered_at:
            add(answered_at, kind, _("Answer: %(finding)s") % {
                "finding": Finding(finding).label if finding else ""}, answer[:200])  # fmt: skip

    for since, kind, until in holds:
        start = datetime.combine(since, datetime.min.time(), zone)
        until = _("until %(date)s") % {"date": until} if until else _("open")
        add(start, "hold", HoldKind(kind).label, str(until))

    return [event for _at, _n, event in sorted(events, key=lambda e: (e[0], e[1]))]


def _visit_step_reason(event: str, reason: str) -> str:
    """A visit step's reason in words: a cancellation's code (CancelReason) by its label, the day
    planner's "could not be fitted on DAY: no_team_capacity" (a routing code) as a sentence.
    Anything else is what a person wrote."""
    if event == VisitEvent.CANCEL and reason in CancelReason.values:
        return str(CancelReason(reason).label)
    if event == VisitEvent.RESCHEDULE and reason.rsplit(": ", 1)[-1] in ROUTING_REASONS:
        return _(
            "It did not fit into that day's visiting round: a new date will be set, with a new notice."
        )
    return reason
