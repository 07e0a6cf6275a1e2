"""The field supervisor's scheduling board: the next days' visits per team, in route order, with
each team's load against its capacity, and the approved visits the planner carried over (with why)."""

from datetime import timedelta
from itertools import groupby

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from doorstep.access import staff_permission
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit

PLANNED = (
    VisitState.NOTICE_SENT,
    VisitState.CONFIRMED,
    VisitState.RESCHEDULED,
    VisitState.ASSIGNED,
    VisitState.IN_PROGRESS,
)


@staff_permission("visits.view_visit")
def board(request):
    today = timezone.localdate()
    days = int(request.GET.get("days", "7") or 7)
    visits = (
        Visit.objects.filter(
            state__in=PLANNED, visit_date__range=(today, today + timedelta(days=min(days, 31)))
        )
        .select_related("team__region", "account__borrower")
        .order_by("visit_date", "team__code", "route_order")
    )
    plan = []
    for day, on_day in groupby(visits, key=lambda v: v.visit_date):
        teams = []
        for team, rows in groupby(on_day, key=lambda v: v.team):
            rows = list(rows)
            teams.append({"team": team, "visits": rows, "load": len(rows)})
        plan.append({"day": day, "teams": teams})
    carried = (
        Visit.objects.filter(state=VisitState.APPROVED)
        .exclude(carried_reason="")
        .select_related("account__borrower__region")
        .order_by("created_at")[:200]
    )
    waiting = Visit.objects.filter(state=VisitState.PROPOSED).count()
    return render(
        request,
        "console/board.html",
        {"plan": plan, "carried": carried, "waiting": waiting, "today": today},
    )


urlpatterns = [path("visits/board/", board, name="console-board")]
