"""Pages of the home-visit workflow: the field agent's day (phone-sized, plain forms that work on
a slow connection), the supervisor's review of proposals, and the two pages a borrower reaches
from a notice: the answer page and the credential check. Thin: parse, call visits.domain, render."""

from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.ledger.domain import local_date
from doorstep.money import cents
from doorstep.strategy.domain import reevaluated
from doorstep.visits import domain
from doorstep.visits import letters as visit_letters
from doorstep.visits.enums import OPEN_STATES, Outcome, VisitState
from doorstep.visits.errors import VisitError
from doorstep.visits.models import FieldAgent, Visit

AGENT_STATES = (VisitState.ASSIGNED, VisitState.IN_PROGRESS, VisitState.COMPLETED,
                VisitState.FOLLOW_UP, VisitState.CLOSED)  # fmt: skip


def _agent(request) -> FieldAgent:
    agent = FieldAgent.objects.filter(user=request.user, active=True).first()
    if agent is None:
        raise Http404("this login is not a field agent")
    return agent


def _todays_visit(agent: FieldAgent, visit_id: str) -> Visit:
    """An agent sees only the visits of their own team, only on the visit's day."""
    visit = get_object_or_404(
        Visit.objects.select_related("account__borrower__region", "team"),
        pk=visit_id, team__members=agent, state__in=AGENT_STATES,
    )  # fmt: skip
    if visit.visit_date != local_date(visit.account, timezone.now()):
        raise Http404("not today's visit")
    return visit


@lru_cache(maxsize=256)
def _qr_svg(text: str) -> str:
    """The QR code of `text` as inline SVG. A pure function of the text (an agent's verify link),
    drawn once per process: drawing it was about 3 ms of every request for the agent's day."""
    return segno.make(text, error="m").svg_inline(scale=4, dark="#12355b")


@login_required
def agent_day(request):
    agent = _agent(request)
    # Regions keep their own zones: the server's date may be a day ahead of a region's or behind.
    around = timezone.localdate()
    visits = [
        v
        for v in Visit.objects.select_related("account__borrower__region", "team")
        .filter(team__members=agent, state__in=AGENT_STATES)
        .filter(visit_date__range=(around - timedelta(days=1), around + timedelta(days=1)))
        .order_by("route_order", "eta")
        if v.visit_date == local_date(v.account, timezone.now())
    ]
    verify = domain.public_url(f"/verify/?no={agent.credential_no}")
    return render(request, "web/field/day.html", {
        "agent": agent, "visits": visits, "qr": _qr_svg(verify), "verify_url": verify,
    })  # fmt: skip


@login_required
def agent_visit(request, visit_id: str):
    agent = _agent(request)
    visit = _todays_visit(agent, visit_id)
    account = visit.account
    return render(request, "web/field/visit.html", {
        "agent": agent, "visit": visit, "account": account, "borrower": account.borrower,
        "outcomes": Outcome.choices, "error": request.GET.get("error", ""),
        "evidence": visit.evidence.all(),
    })  # fmt: skip


@login_required
def agent_case_file(request, visit_id: str):
    """The team's case file (PDF) for today's visit: only to its agents, only that day."""
    agent = _agent(request)
    visit = _todays_visit(agent, visit_id)
    pdf = visit_letters.case_file_pdf(visit, at=timezone.now())
    return HttpResponse(pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="CF-{visit.pk}.pdf"'})  # fmt: skip


def _back(visit_id: str, error: str = ""):
    url = f"/field/visits/{visit_id}/"
    # Encoded: a message may hold "&", "#" or "+" (a refusal's figures, its translation).
    return redirect(f"{url}?{urlencode({'error': error})}" if error else url)


def _coordinate(value: str) -> Decimal | None:
    try:
        return Decimal(value).quantize(Decimal("0.000001")) if value else None
    except InvalidOperation:
        return None


@login_required
@require_POST
def agent_check_in(request, visit_id: str):
    agent = _agent(request)
    visit = _todays_visit(agent, visit_id)
    try:
        domain.check_in(visit.pk, agent=agent, at=timezone.now(),
                        lat=_coordinate(request.POST.get("lat", "")),
                        lon=_coordinate(request.POST.get("lon", "")))  # fmt: skip
    except VisitError as e:
        return _back(visit.pk, e.translated())
    return _back(visit.pk)


@login_required
@require_POST
def agent_outcome(request, visit_id: str):
    agent = _agent(request)
    visit = _todays_visit(agent, visit_id)
    post = request.POST
    outcome = post.get("outcome", "")
    try:
        amount = cents(post["ptp_amount"]) if outcome == "promise_to_pay" else None
        promised = date.fromisoformat(post["ptp_date"]) if outcome == "promise_to_pay" else None
    except (KeyError, ValueError, InvalidOperation):
        return _back(visit.pk, _("a promise needs an amount (yuan) and a date"))
    try:
        domain.record_outcome(
            visit.pk, agent=agent, at=timezone.now(), outcome=outcome,
            identity_checked=post.get("identity_checked") == "on",
            address_confirmed={"yes": True, "no": False}.get(post.get("address_confirmed", "")),
            financial_notes=post.get("financial_notes", ""), notes=post.get("notes", ""),
            ptp_amount_cents=amount, ptp_date=promised,
        )  # fmt: skip
    except VisitError as e:
        return _back(visit.pk, e.translated())
    return _back(visit.pk)


@login_required
@require_POST
def agent_evidence(request, visit_id: str):
    agent = _agent(request)
    visit = _todays_visit(agent, visit_id)
    upload = request.FILES.get("file")
    if upload is None:
        return _back(visit.pk, _("choose a file"))
    if upload.size > settings.DOORSTEP_VISITS["evidence_max_bytes"]:
        return _back(visit.pk, _("the file is too large"))
    try:
        domain.add_evidence(visit.pk, agent=agent, name=upload.name, content=upload.read(),
                            at=timezone.now(), note=request.POST.get("note", ""))  # fmt: skip
    except VisitError as e:
        return _back(visit.pk, e.translated())
    return _back(visit.pk)


# --- supervisor ---------------------------------------------------------------------------------


@staff_permission("visits.review_visit")
def review(request):
    if request.method == "POST":
        ids = request.POST.getlist("visit")
        try:
            if request.POST.get("action") == "approve":
                domain.approve_visits(ids, by=request.user.username, at=timezone.now(),
                                      note=request.POST.get("note", ""))  # fmt: skip
            else:
                for visit_id in ids:
                    domain.reject_visit(visit_id, by=request.user.username, at=timezone.now(),
                                        reason=request.POST.get("note", ""))  # fmt: skip
        except VisitError as e:
            return render(
                request, "web/field/review.html", {**_proposals(), "error": e.translated()}
            )
        return redirect("visit-review")
    return render(request, "web/field/review.html", _proposals())


def _proposals() -> dict:
    return {
        "visits": Visit.objects.select_related("account__borrower__region")
        .filter(state=VisitState.PROPOSED)
        .order_by("-priority", "-overdue_cents")[:200]
    }


# --- the borrower, from a notice -----------------------------------------------------------------


def answer(request, token: str):
    try:
        visit = domain.visit_for_token(token)
    except (VisitError, Visit.DoesNotExist):
        raise Http404("this link is not valid or has expired") from None
    error, field = "", ""
    if request.method == "POST":
        choice = request.POST.get("answer", "")
        try:
            new_date = _new_date(request.POST.get("new_date", ""))
            slot = request.POST.get("slot", "")
            window = {"am": (time(9), time(12)), "pm": (time(14), time(17)),
                      "eve": (time(17), time(20))}.get(slot)  # fmt: skip
            by, now = f"borrower:{visit.account.borrower_id}", timezone.now()
            # A decline holds visits: the account's stage changes now, not at tonight's run.
            reevaluated(
                lambda: domain.answer_notice(
                    visit.pk, answer=choice, by=by, at=now, via="portal",
                    new_date=new_date, window=window,
                ),
                visit.account_id, by=by, at=now,
            )  # fmt: skip
            return redirect("visit-answer", token=token)
        except VisitError as e:
            error, field = e.translated(), e.field
    visit.refresh_from_db()
    earliest, latest = domain.reschedule_range(visit, timezone.now())
    return render(request, "web/public/answer.html", {
        "visit": visit, "token": token, "error": error, "field": field,
        "earliest": earliest, "latest": latest,
        "members": visit.team.members.all() if visit.team_id else (),
        "can_answer": visit.state in (VisitState.NOTICE_SENT, VisitState.CONFIRMED,
                                      VisitState.ASSIGNED),
    })  # fmt: skip


def _new_date(value: str) -> date | None:
    """The day the borrower asks for; a refusal naming the field when it is no calendar day."""
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise VisitError(
            gettext_noop("the new date is not a valid date: choose a day (year-month-day)"),
            code="visit.reschedule_date", field="new_date",
        ) from None  # fmt: skip


def notice_letter(request, token: str):
    try:
        visit = domain.visit_for_token(token)
    except (VisitError, Visit.DoesNotExist):
        raise Http404("this link is not valid or has expired") from None
    if not visit.notice_pdf:
        raise Http404("no letter")
    return FileResponse(visit.notice_pdf.open("rb"), content_type="application/pdf",
                        filename=f"{visit.notice_reference}.pdf")  # fmt: skip


def verify(request):
    number = (request.POST.get("no") or request.GET.get("no") or "").strip()
    token = request.POST.get("v") or request.GET.get("v") or ""
    visit = None
    if token:
        try:
            visit = domain.visit_for_token(token)
        except (VisitError, Visit.DoesNotExist):
            visit = None
    if visit is None and request.session.get("portal_borrowers"):
        # A borrower signed in to the portal: is this visitor on their visit today?
        visit = (
            Visit.objects.filter(account__borrower_id__in=request.session["portal_borrowers"],
                                 state__in=OPEN_STATES, team__isnull=False)
            .select_related("account__borrower__region", "team")
            .order_by("visit_date")
            .first()
        )  # fmt: skip
    result = None
    if number:
        result = domain.verify_credential(number, client=_client(request), at=timezone.now(),
                                          visit=visit)  # fmt: skip
        if result.found and visit is None and request.session.get("portal_borrowers"):
            result = replace(result, visit_today=False)  # signed in, and no visit of theirs
    return render(request, "web/public/verify.html",
                  {"number": number, "result": result, "token": token},
                  status=429 if result is not None and result.limited else 200)  # fmt: skip


def credential_photo(request, credential_no: str):
    agent = get_object_or_404(FieldAgent, credential_no=credential_no)
    if not agent.photo:
        return HttpResponse(status=404)
    return FileResponse(agent.photo.open("rb"))


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "")
