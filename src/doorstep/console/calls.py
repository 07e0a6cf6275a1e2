"""The phone collectors' queue: the open call tasks, promises falling due today first, then by
priority (risk × amount); an item is claimed before it is worked, and two people
cannot hold the same one."""

from datetime import date

from django.core.paginator import Paginator
from django.db import connection
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
    """The open call tasks, in the queue's order, read a page at a time: the tasks whose account
    has a promise falling due today first (counted, then sliced: at a million accounts about
    5,000 promises fall due on a day, and reading them whole was most of a page view), then the
    rest by the priority stored when each was planned, straight off the `call_queue_order` index.

    Every open task, not one date's: a nightly run closes the task it replaces (the account's
    earlier open one, `strategy.domain.SUPERSEDED_CALL_TASKS`), so a task planned once (cadence on_entry
    or on_dpd) stays until it is worked or the stage changes, and one planned by a re-evaluation
    today joins the night's. Taking the tasks of the latest date dropped both: one task planned in
    real time before that day's night had run replaced the whole queue. Reading every task joined
    to its decision to order them cost a scan of the accounts and a lookup per task on every page
    view (11 ms at 20,000 accounts, seconds at millions). Slicing gives the rows with what a
    queue row shows (`_shown`); `count()` counts the tasks without reading them, for the
    paginator. `as_of` is the latest completed night's date, for the page's heading."""

    def __init__(self, today):
        self.today = today
        self.as_of = (
            NightlyRun.objects.filter(status=RunStatus.DONE, as_of__lte=today)
            .order_by("-as_of")
            .values_list("as_of", flat=True)
            .first()
        )
        self.promised = (
            PlannedAction.objects.filter(
                kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED, as_of__lte=today
            )
            .filter(account_id__in=_promises_due(today).values("account_id"))
            .order_by("-priority", "account_id")
        )
        self._promised_count = None

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(_open_call_tasks("COUNT(*)"), [self.today])
            return cursor.fetchone()[0]

    def _rest(self, offset: int, limit: int) -> list[PlannedAction]:
        """The tasks without a promise due today, in the queue's order, from `offset`."""
        promised, promised_params = (
            _promises_due(self.today).values("account_id").query.sql_with_params()
        )
        # The promises as `_promises_due` defines them, in the SQL Django writes for them.
        sql = _open_call_tasks("*") + (
            f" AND NOT account_id IN ({promised})"
            " ORDER BY priority DESC, account_id LIMIT %s OFFSET %s"
        )
        params = [self.today, *promised_params, limit, offset]
        return list(PlannedAction.objects.raw(sql, params))

    def __getitem__(self, page: slice) -> list[PlannedAction]:
        if self._promised_count is None:
            self._promised_count = self.promised.count()
        start, stop, first = page.start or 0, page.stop, self._promised_count
        rows = list(self.promised[start:stop]) if start < first else []
        for action in rows:
            action.promise_today = True
        if stop > first:
            rows += self._rest(max(start - first, 0), stop - max(start, first))
        return _shown(rows, self.today)


def _open_call_tasks(select: str) -> str:
    """SELECT `select` over the open call tasks planned on or before a date (the one parameter),
    on the `call_queue_order` index. SQLite is told to use it: left to itself it chose the index
    of every planned action (messages too) or the as_of index and sorted, 0.6 s for the first page
    at a million accounts (110k open call tasks) and 0.46 s for the count, with or without
    ANALYZE."""
    hint = " INDEXED BY call_queue_order" if connection.vendor == "sqlite" else ""
    return (
        f"SELECT {select} FROM strategy_plannedaction{hint} "  # noqa: S608 (constants only)
        f"WHERE kind = '{ActionKind.CALL_TASK}' AND status = '{ActionStatus.PLANNED}' "
        "AND as_of <= %s"
    )


def _promises_due(today):
    """Contacts whose promise to pay falls due `today`: their accounts' tasks go first."""
    return Contact.objects.filter(outcome=ContactOutcome.PROMISE_TO_PAY, ptp_date=today)


def _shown(actions: list[PlannedAction], today: date) -> list[PlannedAction]:
    """What a queue row shows of each task besides its priority: the planning decision's days
    past due and amount overdue (one query for the page), whether a promise falls due today, and
    whether a re-evaluation planned it today (after the night: it has no run)."""
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
        action.planned_today = action.run_id is None and action.as_of == today
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
    today = timezone.localdate()
    action = PlannedAction.objects.select_related("account__borrower__region").get(pk=action.pk)
    action.promise_today = _promises_due(today).filter(account_id=action.account_id).exists()
    return _shown([action], today)[0]


urlpatterns = [
    path("calls/", queue, name="console-calls"),
    path("calls/<int:action_id>/claim", claim_item, name="console-call-claim"),
]
