"""Staff queues for what borrowers ask (DOMAIN §6, §7): arrangement requests and complaints or
disputes, oldest deadline first. Simple pages until the console issue lands; each posts to one
domain function (re-evaluating the account where the stage may change)."""

from datetime import date
from urllib.parse import urlencode

from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.arrangements import domain as arrangements
from doorstep.arrangements.enums import PENDING_STATES, Base, Kind
from doorstep.arrangements.errors import ArrangementError
from doorstep.arrangements.models import Arrangement, Evidence
from doorstep.complaints.domain import answer_case
from doorstep.complaints.enums import CaseState, Finding
from doorstep.complaints.errors import CaseError
from doorstep.complaints.models import Case
from doorstep.money import cents
from doorstep.strategy.domain import decide_arrangement, reevaluated
from doorstep.worklist.domain import ClaimRefused, claim, holders, release


def _reach(user) -> dict:
    return arrangements.authority(
        list(user.groups.values_list("name", flat=True)), superuser=user.is_superuser
    )


@staff_permission("arrangements.view_arrangement")
def arrangement_queue(request):
    waiting = (
        Arrangement.objects.filter(state__in=PENDING_STATES)
        .select_related("account__borrower__region")
        .order_by("respond_by", "requested_at")
    )
    held = holders("arrangement", [a.pk for a in waiting], at=timezone.now())
    return render(
        request,
        "web/queues/arrangements.html",
        {
            "rows": [(a, held.get(a.pk, "")) for a in waiting],
            "today": timezone.localdate(),
            "reach": _reach(request.user),
        },
    )


@staff_permission("arrangements.view_arrangement")
def arrangement_detail(request, arrangement_id: str):
    arrangement = get_object_or_404(
        Arrangement.objects.select_related("account__borrower__region"), pk=arrangement_id
    )
    account = arrangement.account
    return render(
        request,
        "web/queues/arrangement.html",
        {
            "a": arrangement,
            "found": arrangements.figures(account, timezone.now()),
            "within": arrangements.within(
                _reach(request.user), arrangement.kind, arrangement.amount_cents
            ),
            "kinds": Kind.choices,
            "bases": Base.choices,
            "error": request.GET.get("error", ""),
        },
    )


@staff_permission("arrangements.decide_arrangement")
@require_POST
def arrangement_decide(request, arrangement_id: str):
    arrangement = get_object_or_404(Arrangement, pk=arrangement_id)
    post, now, by = request.POST, timezone.now(), request.user.get_username()
    reach = _reach(request.user)
    action = post.get("action")
    if action in ("claim", "release"):
        return _claim_or_release("arrangement", arrangement.pk, action, by=by, at=now,
                                 back=("queue-arrangement", arrangement.pk))  # fmt: skip
    holder = holders("arrangement", [arrangement.pk], at=now).get(arrangement.pk)
    if holder and holder != by:
        return _with_error("queue-arrangement", _working_on_it(holder), arrangement.pk)
    try:
        if action == "approve":
            operation = lambda: arrangements.approve(  # noqa: E731
                arrangement.pk, by=by, reach=reach, at=now, note=post.get("note", "")
            )
        elif action == "refuse":
            operation = lambda: arrangements.refuse(  # noqa: E731
                arrangement.pk, by=by, at=now, reason=post.get("note", "")
            )
        elif action == "counter":
            operation = lambda: arrangements.counter(  # noqa: E731
                arrangement.pk, by=by, reach=reach, at=now, note=post.get("note", ""),
                kind=post.get("kind", ""), first_due=date.fromisoformat(post.get("first_due")),
                months=int(post.get("months") or 1), base=post.get("base", ""),
                amount_cents=cents(post["amount"]) if post.get("amount") else None,
            )  # fmt: skip
        else:
            return redirect("queue-arrangement", arrangement_id=arrangement.pk)
        decide_arrangement(operation, arrangement.pk, arrangement.account_id, by=by, at=now)
    except ArrangementError as exc:
        return _with_error("queue-arrangement", exc.translated(), arrangement.pk)
    except (ValueError, ArithmeticError, TypeError):
        return _with_error("queue-arrangement", _("check the date and amount"), arrangement.pk)
    return redirect("queue-arrangements")


def _claim_or_release(kind: str, item: str, action: str, *, by: str, at, back):
    if action == "release":
        release(kind, item, by=by, at=at)
    else:
        try:
            claim(kind, item, by=by, at=at)
        except ClaimRefused as exc:
            return _with_error(back[0], exc.translated(), *back[1:])
    return redirect(back[0], *back[1:])


def _working_on_it(holder: str) -> str:
    """What worklist.domain.ClaimRefused says, for an item someone else holds."""
    return _("%(holder)s is working on it") % {"holder": holder}


def _with_error(name: str, message: str, *args):
    return redirect(f"{reverse(name, args=args)}?{urlencode({'error': message})}")


@staff_permission("arrangements.view_arrangement")
def arrangement_evidence(request, arrangement_id: str, evidence_id: int):
    item = get_object_or_404(Evidence, pk=evidence_id, arrangement_id=arrangement_id)
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.name)


@staff_permission("complaints.view_case")
def case_queue(request):
    open_cases = (
        Case.objects.filter(state=CaseState.OPEN)
        .select_related("account__borrower__region")
        .order_by("due_on", "filed_at")
    )
    held = holders("case", [c.pk for c in open_cases], at=timezone.now())
    return render(
        request,
        "web/queues/cases.html",
        {
            "rows": [(c, held.get(c.pk, "")) for c in open_cases],
            "today": timezone.localdate(),
            "findings": Finding.choices,
            "error": request.GET.get("error", ""),
            "may_answer": request.user.has_perm("complaints.answer_case"),
        },
    )


@staff_permission("complaints.answer_case")
@require_POST
def case_answer(request, case_id: str):
    case = get_object_or_404(Case.objects.select_related("account__borrower__region"), pk=case_id)
    now, by = timezone.now(), request.user.get_username()
    action = request.POST.get("action", "")
    if action in ("claim", "release"):
        return _claim_or_release("case", case.pk, action, by=by, at=now, back=("queue-cases",))
    holder = holders("case", [case.pk], at=now).get(case.pk)
    if holder and holder != by:
        return _with_error("queue-cases", _working_on_it(holder))
    try:
        reevaluated(
            lambda: answer_case(
                case.pk, by=by, at=now, finding=request.POST.get("finding", ""),
                answer=request.POST.get("answer", ""),
            ),
            case.account_id, by=by, at=now,
        )  # fmt: skip
    except CaseError as exc:
        return _with_error("queue-cases", exc.translated())
    return redirect("queue-cases")
