"""Placing accounts with agencies and ending placements. Re-evaluating the account and the
guard's refusals follow from the placement row: the guard lets only the agency contact a placed
account (compliance check `placed`)."""

from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.errors import UserError
from doorstep.ledger.domain import local_date
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.queries import locked_account
from doorstep.placements.models import Agency, Contract, Member, Placement


class PlacementRefused(UserError):
    """An English template and its figures, a stable code (doorstep.errors.UserError)."""


def agency_actor(member: Member) -> str:
    return f"agency:{member.agency_id}:{member.user.get_username()}"


def open_placement(account_id: str, on: date) -> Placement | None:
    return (
        Placement.objects.filter(account_id=account_id, since__lte=on, until__isnull=True)
        .select_related("agency")
        .first()
    )


def place_account(account_id: str, *, agency: str, by: str, at: datetime) -> Placement:
    """Hand an account to an agency whose contract covers the borrower's region today. Side
    effects: the Placement; an audit entry (placement.placed). Raises PlacementRefused."""
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None or account.status == AccountStatus.SETTLED:
            raise PlacementRefused(
                gettext_noop("the account is not open"), code="placement.account"
            )
        today = local_date(account, at)
        if open_placement(account.pk, today) is not None:
            raise PlacementRefused(
                gettext_noop("the account is already placed"), code="placement.placed"
            )
        found = Agency.objects.filter(pk=agency, active=True).first()
        if found is None:
            raise PlacementRefused(
                gettext_noop("no active agency %(agency)s"),
                code="placement.agency", params={"agency": agency},
            )  # fmt: skip
        contract = Contract.objects.filter(
            agency=found,
            regions=account.borrower.region,
            valid_from__lte=today,
            valid_until__gte=today,
        ).first()
        if contract is None:
            raise PlacementRefused(
                gettext_noop("%(agency)s has no valid contract for %(region)s"),
                code="placement.contract",
                params={"agency": found.name, "region": account.borrower.region.name},
            )
        placement = Placement.objects.create(
            account=account, agency=found, contract=contract, since=today, placed_by=by,
            placed_at=at,
        )  # fmt: skip
        record(
            "placement.placed",
            actor=by,
            obj=account,
            at=at,
            data={"agency": found.pk, "contract": contract.reference, "since": today},
        )
        return placement


def end_placement(account_id: str, *, by: str, at: datetime, reason: str) -> Placement | None:
    """Recall or close the account's open placement: it ends today. Returns it (None: none)."""
    with transaction.atomic():
        locked_account(account_id)
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("account__borrower__region")
            .filter(account_id=account_id, until__isnull=True)
            .first()
        )
        if placement is None:
            return None
        placement.until = max(local_date(placement.account, at), placement.since)
        placement.ended_by, placement.end_reason = by, reason[:200]
        placement.save(update_fields=["until", "ended_by", "end_reason"])
        record(
            "placement.ended",
            actor=by,
            obj=placement.account,
            at=at,
            data={"agency": placement.agency_id, "until": placement.until, "reason": reason},
        )
        return placement


SETTLED = "account settled"


def end_settled_placements(*, by: str, at: datetime) -> int:
    """The nightly sweep: every open placement of an account that is settled ends, so the agency
    stops working a paid account even when the payment reached the ledger without a re-decision
    (an import). The real-time path ends it at the payment itself. Returns how many ended."""
    ended = 0
    for account_id in Placement.objects.filter(
        until__isnull=True, account__status=AccountStatus.SETTLED
    ).values_list("account_id", flat=True):
        ended += end_placement(account_id, by=by, at=at, reason=SETTLED) is not None
    return ended
