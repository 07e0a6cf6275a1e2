"""The phone collectors' queue: the latest nightly run's call tasks, promises falling due today
first, then by priority (risk × amount); an item is claimed before it is worked, and two people
cannot hold the same one."""

from datetime import date

from django.core.paginator import Paginator
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
from doorstep.strategy.enums import ActionKind, ActionStatus, RunStatus
from doorstep.strategy.models import Decision, NightlyRun, PlannedAction
from doorstep.worklist.domain import ClaimRefused, holders, release

KIND = CLAIM_KIND


class CallQueue:
    """The open call tasks of the latest completed nightly run on or before `today`, and those
    planned in real time since (an account that a payment or a hold moved into the phone stage),
    in the queue's order, read a page at a time.

    First the few read whole: the tasks whose account has a promise falling due today, then the
    real-time ones (`planned_today`), each by priority; then the night's by the priority stored
    when it was planned, straight off the `call_queue_order` index. The night's date comes from
    its NightlyRun: taking the latest date of any call task let one task planned in real time
    today, before that day's night had run, replace the whole queue. Each part is its own
    indexed query (a condition joining them with OR walked every open task: 0.8 → 3.5 s a page
    at 10M accounts). Slicing gives the rows with what a queue row shows (`_shown`); `count()`
    counts the tasks without reading them, for the paginator."""

    def __init__(self, today):
        self.as_of = _night(today)
        open_tasks = PlannedAction.objects.filter(
            kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED
        )
        # Planned by a re-evaluation after the night's date (a night's own rows carry its run).
        later = open_tasks.filter(run__isnull=True, as_of__lte=today)
        if self.as_of is None:  # no night has completed yet: today's real-time tasks only
            self.nights, self.later = open_tasks.none(), later.filter(as_of=today)
        else:
            self.nights, self.later = (
                open_tasks.filter(as_of=self.as_of),
                later.filter(as_of__gt=self.as_of),
            )
        self.promised = _promises_due(today).values("account_id")
        self.rest = self.nights.exclude(account_id__in=self.promised).order_by(*ORDER)
        self._first = None

    def count(self) -> int:
        return self.nights.count() + self.later.count()

    def _read_first(self) -> list[PlannedAction]:
        promised = [*self.nights.filter(account_id__in=self.promised), *self.later.filter(
            account_id__in=self.promised
        )]  # fmt: skip
        later = list(self.later.exclude(account_id__in=self.promised))
        for action in promised:
            action.promise_today = True
        return sorted(promised, key=_order) + sorted(later, key=_order)

    def __getitem__(self, page: slice) -> list[PlannedAction]:
        if self._first is None:
            self._first = self._read_first()
        start, stop, first = page.start or 0, page.stop, self._first
        rows = first[start:stop]
        if stop > len(first):
            rows += list(self.rest[max(start - len(first), 0) : stop - len(first)])
        return _shown(rows, self.as_of)


ORDER = ("-priority", "account_id")


def _order(action: PlannedAction) -> tuple[int, str]:
    """ORDER, for the tasks read whole."""
    return (-action.priority, action.account_id)


def _night(today) -> date | None:
    """The date of the latest completed nightly run on or before `today`."""
    return (
        NightlyRun.objects.filter(status=RunStatus.DONE, as_of__lte=today)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )


def _promises_due(today):
    """Contacts whose promise to pay falls due `today`: their accounts' tasks go first."""
    return Contact.objects.filter(outcome=ContactOutcome.PROMISE_TO_PAY, ptp_date=today)


def _shown(actions: list[PlannedAction], night: date | None) -> list[PlannedAction]:
    """What a queue row shows of each task besides its priority: the planning decision's days
    past due and amount overdue (one query for the page), whether a promise falls due today, and
    whether it was planned in real time after the night of `night`."""
    figures = {
        (d["account_id"], d["as_of"]): d
        for d in Decision.objects.filter(
            account_id__in={a.account_id for a in actions},
            as_of__in={a.as_of for a in actions},
        ).values("account_id", "as_of", "dpd", "overdue_cents")
    }
    for action in actions:
        decision = figures.get((action.account_id, action.as_of), {})
        action.dpd, action.overdue_cents = decision.get("dpd"), decision.get("overdue_cents")
        action.priority_cents = action.priority // 10  # the weight is in tenths
        action.promise_today = getattr(action, "promise_today", False)
        action.planned_today = action.run_id is None and (night is None or action.as_of > night)
    return actions


@staff_permission("contact.add_contact")
def queue(request):
    now = timezone.now()
    items = CallQueue(timezone.localdate())
    paginator = Paginator(items, 50)
    page = paginator.get_page(request.GET.get("page"))
    latest = items.as_of
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
    """The row as the queue shows it, for the htmx swap after a claim; also for a task no longer
    in the queue (done or cancelled since the page was drawn)."""
    action = PlannedAction.objects.select_related("account__borrower__region").get(pk=action.pk)
    action.promise_today = (
        _promises_due(timezone.localdate()).filter(account_id=action.account_id).exists()
    )
    return _shown([action], _night(timezone.localdate()))[0]


urlpatterns = [
    path("calls/", queue, name="console-calls"),
    path("calls/<int:action_id>/claim", claim_item, name="console-call-claim"),
]
