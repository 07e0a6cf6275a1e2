"""What the guard reads: one action's context from the database."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from doorstep.compliance.engine.checks import Action, Attempt, Context, Inconvenient, ThirdParty
from doorstep.compliance.models import CeaseRequest, InconvenientTime
from doorstep.contact.models import Contact, Permit, Template, TemplateStatus, ThirdPartyContact
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.models import Account, Hold

# Caps look back at most this far (the longest window in the shipped packs is 30 days).
LOOKBACK = timedelta(days=32)


def context_for(action: Action, account: Account, *, now=None) -> Context:
    now = now or timezone.now()
    region = account.borrower.region
    zone = region.time_zone
    day = action.planned_at.astimezone(ZoneInfo(zone)).date()
    open_on_day = Q(since__lte=day) & (Q(until__isnull=True) | Q(until__gte=day))
    holds = frozenset(
        Hold.objects.filter(open_on_day, account=account).values_list("kind", flat=True)
    )
    ceased = frozenset(
        CeaseRequest.objects.filter(open_on_day, borrower_id=account.borrower_id).values_list(
            "channel", flat=True
        )
    )
    slots = tuple(
        Inconvenient(weekday, start, end)
        for weekday, start, end in InconvenientTime.objects.filter(
            borrower_id=account.borrower_id
        ).values_list("weekday", "start", "end")
    )
    since = action.planned_at - LOOKBACK
    attempts = [
        Attempt(at, channel, outcome, third_party_id)
        for at, channel, outcome, third_party_id in Contact.objects.filter(
            account__borrower_id=account.borrower_id,
            at__gte=since,
            at__lte=action.planned_at,
            direction="outbound",
        ).values_list("at", "channel", "outcome", "third_party_id")
    ]
    # A permit not yet used counts as an attempt until it expires: asking twice is not a loophole.
    attempts += [
        Attempt(planned_at, channel, None, third_party_id)
        for planned_at, channel, third_party_id in Permit.objects.filter(
            borrower_id=account.borrower_id,
            used_at__isnull=True,
            valid_until__gte=now,
            planned_at__gte=since,
            planned_at__lte=action.planned_at,
        ).values_list("planned_at", "channel", "third_party_id")
    ]
    template_ok = (
        bool(action.template)
        and Template.objects.filter(
            code=action.template,
            channel=action.channel,
            language=account.borrower.language,
            status=TemplateStatus.APPROVED,
        ).exists()
    )
    third_party = None
    if action.third_party_id:
        found = ThirdPartyContact.objects.filter(
            pk=action.third_party_id, borrower_id=account.borrower_id
        ).first()
        if found is not None:
            third_party = ThirdParty(
                supplied_by_borrower=found.supplied_by == "borrower",
                is_employer=found.relation == "employer",
                employer_objected=found.employer_objected,
            )
    return Context(
        time_zone=zone,
        settled=account.status == AccountStatus.SETTLED or account.balance_cents <= 0,
        holds=holds,
        ceased=ceased,
        inconvenient=slots,
        attempts=tuple(attempts),
        template_approved=template_ok,
        third_party=third_party,
    )
