"""The phone collectors' queue: the latest nightly run's call tasks, promises falling due today
first, then by priority (risk × amount); an item is claimed before it is worked, and two people
cannot hold the same one."""

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.contact.models import Contact
from doorstep.ledger.enums import ContactOutcome
from doorstep.ledger.models import Account
from doorstep.strategy.calls import CLAIM_KIND, claim_call_task
from doorstep.strategy.enums import ActionKind, ActionStatus
from doorstep.strategy.models import PlannedAction
from doorstep.worklist.domain import ClaimRefused, holders, release

KIND = CLAIM_KIND
# Until a scoring model is active, risk is read from the bucket: the deeper, the riskier.
RISK_BY_DPD = ((30, 3), (60, 5), (90, 7), (None, 9))  # (dpd up to, weight in tenths)


def _risk_weight():
    return Case(
        *(When(dpd__lte=limit, then=Value(weight)) for limit, weight in RISK_BY_DPD if limit),
        default=Value(RISK_BY_DPD[-1][1]),
        output_field=IntegerField(),
    )


def call_queue(today):
    """The call tasks of the latest run on or before `today`, annotated and ordered; the tasks
    unannotated (to count them); the run's date."""
    latest = (
        PlannedAction.objects.filter(kind=ActionKind.CALL_TASK, as_of__lte=today)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    tasks = PlannedAction.objects.filter(
        kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED, as_of=latest
    )
    ordered = _annotated(tasks, today).order_by(
        "-promise_today", F("priority").desc(nulls_last=True), "account_id"
    )
    return ordered, tasks, latest


def _annotated(actions, today):
    """Call tasks with what a queue row shows: the run's DPD and overdue, whether a promise falls
    due today, the priority."""
    promise_today = Contact.objects.filter(
        account_id=OuterRef("account_id"),
        outcome=ContactOutcome.PROMISE_TO_PAY,
        ptp_date=today,
    )
    return (
        # The run's decision for the account, joined (one per account and date) rather than
        # asked once per column and row: the priority reads both figures.
        actions.annotate(
            decision=FilteredRelation(
                "account__decisions", condition=Q(account__decisions__as_of=F("as_of"))
            ),
            dpd=F("decision__dpd"),
            overdue_cents=F("decision__overdue_cents"),
            promise_today=Exists(promise_today),
        ).annotate(priority=F("overdue_cents") * _risk_weight() / 10)
    )


@staff_permission("contact.add_contact")
def queue(request):
    now = timezone.now()
    items, tasks, latest = call_queue(timezone.localdate())
    paginator = Paginator(items, 50)
    # Counted without the annotations' joins (each task's account, and its decision: one per
    # account and day, so no more and no fewer rows); counting `items` joined them all.
    paginator.count = tasks.count()
    page = paginator.get_page(request.GET.get("page"))
    # The page's accounts with their borrowers and regions in one small query once the ordering
    # has picked the page: joined into the queue's query, they were read for every call task.
    actions = list(page)
    accounts = Account.objects.select_related("borrower__region").in_bulk(
        {a.account_id for a in actions}
    )
    for action in actions:
        action.account = accounts[action.account_id]
    held = holders(KIND, [str(a.pk) for a in actions], at=now)
    rows = [(a, held.get(str(a.pk), "")) for a in actions]
    return render(
        request,
        "console/calls.html",
        {"page": page, "rows": rows, "as_of": latest, "me": request.user.get_username()},
    )


@staff_permission("contact.add_contact")
@require_POST
def claim_item(request, action_id: int):
    action = get_object_or_404(PlannedAction, pk=action_id, kind=ActionKind.CALL_TASK)
    by, now, error, closed = request.user.get_username(), timezone.now(), "", False
    if request.POST.get("release"):
        release(KIND, str(action.pk), by=by, at=now)
    else:
        try:
            claim_call_task(action.pk, by=by, at=now)
        except ClaimRefused as exc:
            error, closed = exc.translated(), exc.code == "work.closed"
    holder = holders(KIND, [str(action.pk)], at=now).get(str(action.pk), "")
    if request.headers.get("HX-Request"):
        return render(
            request,
            "console/_call_row.html",
            # 200 even when refused: htmx swaps only successful responses, and the row says why.
            {"a": _row(action), "holder": holder, "me": by, "error": error, "closed": closed},
        )
    if error:
        # Someone else holds the task, or it is closed: the request was sound, the task's state
        # stands in its way (409 either way; the message names the holder or the status).
        return HttpResponse(error, status=409, content_type="text/plain; charset=utf-8")
    if holder == by:
        return redirect("console-account", account_id=action.account_id)
    return redirect("console-calls")


def _row(action: PlannedAction) -> PlannedAction:
    """The row as the queue shows it (same annotations), for the htmx swap after a claim; also
    for a task no longer in the queue (done or cancelled since the page was drawn)."""
    return (
        _annotated(PlannedAction.objects.filter(pk=action.pk), timezone.localdate())
        .select_related("account__borrower__region")
        .get()
    )


urlpatterns = [
    path("calls/", queue, name="console-calls"),
    path("calls/<int:action_id>/claim", claim_item, name="console-call-claim"),
]
