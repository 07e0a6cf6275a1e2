"""Placements in the console: supervisors place legal-stage accounts with an agency under a valid
contract and recall them; an agency's staff see only the accounts placed with their agency, while
placed, and work them as the agency (the guard lets no one else contact a placed account)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.placements.domain import PlacementRefused, end_placement, place_account
from doorstep.placements.models import Agency, Member, Placement
from doorstep.strategy.enums import ActionKind, ActionStatus
from doorstep.strategy.models import PlannedAction


def member_of(user) -> Member | None:
    return Member.objects.select_related("agency", "user").filter(user=user).first()


@staff_permission("placements.place_account")
def proposals(request):
    """Accounts the strategy wants placed, and the placements open now."""
    planned = (
        PlannedAction.objects.filter(kind=ActionKind.PLACEMENT, status=ActionStatus.PLANNED)
        .exclude(account__placements__until__isnull=True)
        .select_related("account__borrower__region")
        .order_by("-as_of", "account_id")[:200]
    )
    open_now = (
        Placement.objects.filter(until__isnull=True)
        .select_related("account__borrower__region", "agency")
        .order_by("-since")[:200]
    )
    return render(
        request,
        "console/placements.html",
        {"planned": planned, "open_now": open_now, "agencies": Agency.objects.filter(active=True)},
    )


@staff_permission("placements.place_account")
@require_POST
def decide(request, account_id: str):
    by, now = request.user.get_username(), timezone.now()
    try:
        if request.POST.get("action") == "recall":
            end_placement(account_id, by=by, at=now, reason=request.POST.get("reason", "recalled"))
        else:
            place_account(account_id, agency=request.POST.get("agency", ""), by=by, at=now)
            PlannedAction.objects.filter(
                account_id=account_id, kind=ActionKind.PLACEMENT, status=ActionStatus.PLANNED
            ).update(status=ActionStatus.DONE)
    except PlacementRefused as exc:
        messages.error(request, exc.translated())
    return redirect("console-placements")


@login_required
def agency_accounts(request):
    """An agency's own work: the accounts placed with it now."""
    member = member_of(request.user)
    if member is None:
        raise PermissionDenied("this login does not work for an agency")
    placed = (
        Placement.objects.filter(agency=member.agency, until__isnull=True)
        .exclude(account__status="settled")
        .select_related("account__borrower__region")
        .order_by("since", "account_id")
    )
    return render(request, "console/agency.html", {"member": member, "placed": placed})


urlpatterns = [
    path("placements/", proposals, name="console-placements"),
    path("placements/<str:account_id>/", decide, name="console-placement-decide"),
    path("agency/", agency_accounts, name="console-agency"),
]
