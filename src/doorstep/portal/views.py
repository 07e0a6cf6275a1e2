"""The borrower portal (DOMAIN §7): thin views over the domain apps. Every page that names an
account, arrangement, case or payment looks it up through `_account`, which only finds the
signed-in borrower's own: another borrower's id is a 404, exactly like an id that does not exist."""

import csv
from datetime import date, datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from doorstep.arrangements import domain as arrangements
from doorstep.arrangements.engine import schedule
from doorstep.arrangements.enums import OPEN_STATES, Base, EvidenceKind, Kind, State
from doorstep.arrangements.errors import ArrangementError
from doorstep.arrangements.models import Arrangement, Evidence
from doorstep.complaints.domain import file_case
from doorstep.complaints.enums import CaseKind, Category
from doorstep.complaints.errors import CaseError
from doorstep.complaints.models import Case
from doorstep.ledger.domain import local_date
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.models import Account
from doorstep.ledger.queries import account_position, read_books
from doorstep.letters.render import render_pdf
from doorstep.money import cents, yuan
from doorstep.payments.domain import PaymentError, apply_callback, start_payment
from doorstep.payments.enums import Purpose
from doorstep.payments.gateways import GatewayError, gateway
from doorstep.payments.models import PaymentIntent
from doorstep.portal import record, signin
from doorstep.portal.reasons import plain_reasons
from doorstep.strategy.domain import active_version, compiled, reevaluated
from doorstep.strategy.queries import explain_account
from doorstep.visits.domain import respond_token
from doorstep.visits.enums import OPEN_STATES as OPEN_VISIT_STATES
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit

SESSION_KEY = "portal_borrowers"
# The idle deadline, an ISO moment. It slides at most once a SLIDE_EVERY: sliding on every page
# view wrote the session row on every request. So a session ends up to SLIDE_EVERY before
# `session_minutes` after the last request, never after.
IDLE_KEY = "portal_idle_until"
SLIDE_EVERY = timedelta(minutes=1)


def _client(request) -> str:
    return signin.client_hash(request.META.get("REMOTE_ADDR", ""))


def _idle() -> timedelta:
    return timedelta(minutes=settings.DOORSTEP_PORTAL["session_minutes"])


def _slide_expiry(session, now: datetime) -> None:
    """Idle deadline `session_minutes` from `now`. The session's own expiry (the row, the cookie)
    is the same moment, so pages that read the session without this check (web's visitor check)
    see it end too."""
    deadline = now + _idle()
    session[IDLE_KEY] = deadline.isoformat()
    session.set_expiry(deadline)


def _idle_deadline(session) -> datetime | None:
    try:
        return datetime.fromisoformat(session[IDLE_KEY])
    except (KeyError, TypeError, ValueError):
        return None


def borrower_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        ids = request.session.get(SESSION_KEY)
        if not ids:
            return redirect("portal-signin")
        now = timezone.now()
        deadline = _idle_deadline(request.session)
        if deadline is None or now >= deadline:
            request.session.flush()
            return redirect("portal-signin")
        if deadline - now <= _idle() - SLIDE_EVERY:  # slid SLIDE_EVERY ago or longer
            _slide_expiry(request.session, now)
        request.borrower_ids = ids
        return view(request, *args, **kwargs)

    return wrapped


def _account(request, account_id: str) -> Account:
    """The signed-in borrower's account, or 404 (whoever else's it is). Times on the page are
    shown in the borrower's region's zone from here on."""
    account = get_object_or_404(
        Account.objects.select_related("borrower__region"),
        pk=account_id,
        borrower_id__in=request.borrower_ids,
    )
    timezone.activate(ZoneInfo(account.borrower.region.time_zone))
    return account


def _by(account: Account) -> str:
    return f"borrower:{account.borrower_id}"


# --- sign-in ------------------------------------------------------------------------------


def sign_in(request):
    if request.session.get(SESSION_KEY):
        return redirect("portal-accounts")
    error = ""
    if request.method == "POST":
        phone = request.POST.get("phone", "")
        try:
            sent = signin.send_code(phone, client=_client(request), at=timezone.now())
        except signin.SignInRefused as exc:
            error = exc.translated()
        else:
            request.session["portal_phone"] = signin.normalise_phone(phone)
            request.session["portal_demo_code"] = sent.demo_code
            return redirect("portal-code")
    return render(request, "portal/signin.html", {"error": error})


def enter_code(request):
    phone = request.session.get("portal_phone")
    if not phone:
        return redirect("portal-signin")
    error = ""
    if request.method == "POST":
        try:
            ids = signin.check_code(phone, request.POST.get("code", "").strip(), at=timezone.now())
        except signin.SignInRefused as exc:
            error = exc.translated()
        else:
            request.session.cycle_key()  # a new session id once signed in
            request.session[SESSION_KEY] = ids
            _slide_expiry(request.session, timezone.now())
            request.session.pop("portal_demo_code", None)
            return redirect("portal-accounts")
    return render(
        request,
        "portal/code.html",
        {
            "error": error,
            "masked": phone[:3] + "****" + phone[-4:],
            "demo_code": request.session.get("portal_demo_code"),
        },
    )


@require_POST
def sign_out(request):
    request.session.flush()
    return redirect("portal-signin")


# --- accounts -----------------------------------------------------------------------------


@borrower_required
def accounts(request):
    found = list(
        Account.objects.filter(borrower_id__in=request.borrower_ids)
        .select_related("borrower__region")
        .order_by("status", "id")
    )
    if len(found) == 1:
        return redirect("portal-account", account_id=found[0].pk)
    now = timezone.now()
    rows = [(a, account_position(a, local_date(a, now))) for a in found]
    return render(request, "portal/accounts.html", {"rows": rows})


def _chinese(request) -> bool:
    return request.LANGUAGE_CODE.startswith("zh")


@borrower_required
def account(request, account_id: str):
    account = _account(request, account_id)
    now = timezone.now()
    today = local_date(account, now)
    # The schedule and entries once, for the figures and for the live explanation.
    books = read_books(account, today)
    position = account_position(account, today, books=books)
    explanation = None
    if account.status == AccountStatus.ACTIVE:
        explanation = explain_account(
            account.pk, today, compiled(active_version()), at=now, account=account, books=books
        )
    zh = _chinese(request)
    stage = stage_words = next_words = ""
    if explanation is not None:
        decision = explanation.decision
        stage = decision.stage
        stage_words = decision.reasons_zh if zh else decision.reasons_en
        change = explanation.next_change
        if change is not None:
            next_words = change.zh if zh else change.en
    visit = (
        Visit.objects.filter(account=account, state__in=OPEN_VISIT_STATES)
        .exclude(state__in=[VisitState.PROPOSED, VisitState.APPROVED])
        .select_related("team")
        .first()
    )
    context = {
        "account": account,
        "position": position,
        "today": today,
        "stage": stage,
        "stage_label": record.stage_label(stage, zh) if stage else "",
        "stage_words": stage_words,
        "next_words": next_words,
        "score_words": plain_reasons(explanation.score if explanation else None),
        "visit": visit,
        "visit_token": respond_token(visit.pk) if visit else "",
        "arrangement": Arrangement.objects.filter(account=account, state__in=OPEN_STATES).first(),
        "arrangements": Arrangement.objects.filter(account=account)[:5],
        "cases": Case.objects.filter(account=account)[:5],
        "minimum_cents": schedule.minimum_cents(position.overdue, arrangements.limits()),
    }
    return render(request, "portal/account.html", context)


# --- paying -------------------------------------------------------------------------------


@borrower_required
def pay(request, account_id: str):
    account = _account(request, account_id)
    now = timezone.now()
    position = account_position(account, local_date(account, now))
    options = _pay_options(account, position)
    error = ""
    if request.method == "POST":
        purpose = request.POST.get("purpose", "")
        try:
            if purpose == Purpose.PARTIAL:
                amount = cents(request.POST.get("amount", ""))
            else:
                amount = {p: a for p, _label, a in options}.get(purpose, 0)
            intent = start_payment(
                account.pk, amount_cents=amount, purpose=purpose, by=_by(account), at=now
            )
        except PaymentError as exc:
            error = exc.translated()
        except (ValueError, ArithmeticError):
            error = _("enter an amount in yuan, e.g. 500 or 120.50")
        else:
            return redirect(gateway().start(intent, return_url=""))
    return render(
        request,
        "portal/pay.html",
        {
            "account": account,
            "position": position,
            "options": options,
            "error": error,
            "sandbox": gateway().sandbox,
        },
    )


def _pay_options(account: Account, position) -> list[tuple[str, str, int]]:
    options = []
    if position.overdue and position.overdue < position.outstanding:
        options.append((Purpose.OVERDUE, _("What is overdue"), position.overdue))
    minimum = schedule.minimum_cents(position.overdue, arrangements.limits())
    if 0 < minimum < position.overdue:
        options.append((Purpose.MINIMUM, _("The minimum"), minimum))
    active = Arrangement.objects.filter(account=account, state=State.ACTIVE).first()
    if active is not None:
        found = arrangements.standing(active, position.as_of)
        owed = sum(line.amount_cents for line in active.lines.all()) - found.paid_cents
        nxt = next((line for line in active.lines.all() if line.amount_cents and owed > 0), None)
        if nxt is not None:
            options.append(
                (
                    Purpose.ARRANGEMENT,
                    _("The arrangement's next payment"),
                    min(owed, nxt.amount_cents),
                )
            )
    if position.outstanding > 0:
        options.append((Purpose.FULL, _("Everything (pay off the account)"), account.balance_cents))
    return options


def _intent(request, intent_id: str) -> PaymentIntent:
    return get_object_or_404(
        PaymentIntent.objects.select_related("account"),
        pk=intent_id,
        account__borrower_id__in=request.borrower_ids,
    )


@borrower_required
def sandbox_checkout(request, intent_id: str):
    """SANDBOX — NO MONEY MOVES: stands in for the payment service's own page."""
    intent = _intent(request, intent_id)
    provider = gateway()
    if not provider.sandbox:
        raise Http404
    if request.method == "POST":
        body = provider.callback_body(
            intent.pk, succeeded=request.POST.get("result") == "paid", at=timezone.now()
        )
        apply_callback(body, provider.sign(body), at=timezone.now())
        return redirect("portal-payment", intent_id=intent.pk)
    return render(request, "portal/sandbox.html", {"intent": intent})


@csrf_exempt
@require_POST
def gateway_callback(request):
    """The payment service's server-to-server notice (signed)."""
    try:
        apply_callback(request.body, request.headers.get("X-Signature", ""), at=timezone.now())
    except GatewayError:
        return HttpResponseBadRequest("bad signature")
    except PaymentError as exc:
        return HttpResponseBadRequest(exc.message)
    return HttpResponse("ok")


@borrower_required
def payment(request, intent_id: str):
    intent = _intent(request, intent_id)
    intent.account.refresh_from_db()
    return render(request, "portal/payment.html", {"intent": intent, "account": intent.account})


# --- arrangements -------------------------------------------------------------------------


@borrower_required
def plan_request(request, account_id: str):
    account = _account(request, account_id)
    now = timezone.now()
    found = arrangements.figures(account, now)
    limits = arrangements.limits()
    error, field = "", ""
    if request.method == "POST":
        post = request.POST
        documents = [
            arrangements.Document(post.get("document_kind", "other"), f.name, f.read())
            for f in request.FILES.getlist("documents")[:5]
        ]
        try:
            first_due = date.fromisoformat(post.get("first_due") or found.today.isoformat())
            amount = cents(post["amount"]) if post.get("amount") else None
            arrangement = reevaluated(
                lambda: arrangements.request_arrangement(
                    account.pk,
                    kind=post.get("kind", ""),
                    by=_by(account),
                    at=now,
                    from_portal=True,
                    first_due=first_due,
                    months=int(post.get("months") or 1),
                    base=post.get("base", ""),
                    amount_cents=amount,
                    hardship=post.get("hardship", ""),
                    documents=documents,
                ),
                account.pk,
                by=_by(account),
                at=now,
            )
        except ArrangementError as exc:
            error, field = exc.translated(), exc.field
        except (ValueError, ArithmeticError):
            error = _("check the dates and amounts")
        else:
            return redirect("portal-plan", account_id=account.pk, arrangement_id=arrangement.pk)
    return render(
        request,
        "portal/plan_request.html",
        {
            "account": account,
            "found": found,
            "limits": limits,
            "kinds": Kind.choices,
            "bases": Base.choices,
            "document_kinds": EvidenceKind.choices,
            "minimum_cents": schedule.minimum_cents(found.overdue_cents, limits),
            "months": range(limits.min_months, limits.max_months + 1),
            "error": error,
            "field": field,
            "post": request.POST,
        },
    )


@borrower_required
def plan(request, account_id: str, arrangement_id: str):
    account = _account(request, account_id)
    arrangement = get_object_or_404(Arrangement, pk=arrangement_id, account=account)
    if request.method == "POST":
        now = timezone.now()
        choice = request.POST.get("answer")
        try:
            if choice == "accept":
                reevaluated(
                    lambda: arrangements.accept_offer(arrangement.pk, by=_by(account), at=now),
                    account.pk,
                    by=_by(account),
                    at=now,
                )
            elif choice == "withdraw":
                arrangements.withdraw(arrangement.pk, by=_by(account), at=now)
            else:
                return HttpResponseBadRequest("unknown answer")
        except ArrangementError as exc:
            messages.error(request, exc.translated())
        return redirect("portal-plan", account_id=account.pk, arrangement_id=arrangement.pk)
    lines = list(arrangement.lines.all())
    preview = []
    if arrangement.state in (State.REQUESTED, State.COUNTERED):
        # What the borrower asked for (or is offered), before any line exists.
        preview = schedule.schedule(arrangements.terms_of(arrangement))
    return render(
        request,
        "portal/plan.html",
        {
            "account": account,
            "arrangement": arrangement,
            "lines": lines or preview,
            "standing": (
                arrangements.standing(arrangement, local_date(account, timezone.now()))
                if arrangement.state == State.ACTIVE
                else None
            ),
            "history": arrangement.transitions.all(),
            "evidence": arrangement.evidence.all(),
        },
    )


# --- complaints and disputes --------------------------------------------------------------


@borrower_required
def cases(request, account_id: str):
    account = _account(request, account_id)
    error, field = "", ""
    if request.method == "POST":
        post = request.POST
        now = timezone.now()
        files = [(f.name, f.read()) for f in request.FILES.getlist("attachments")[:5]]
        try:
            case = reevaluated(
                lambda: file_case(
                    account.pk,
                    kind=post.get("kind", ""),
                    category=post.get("category", ""),
                    text=post.get("text", ""),
                    by=_by(account),
                    at=now,
                    from_portal=True,
                    attachments=files,
                ),
                account.pk,
                by=_by(account),
                at=now,
            )
        except CaseError as exc:
            error, field = exc.translated(), exc.field
        else:
            return redirect("portal-case", account_id=account.pk, case_id=case.pk)
    return render(
        request,
        "portal/cases.html",
        {
            "account": account,
            "cases": Case.objects.filter(account=account),
            "kinds": CaseKind.choices,
            "categories": Category.choices,
            "answer_days": settings.DOORSTEP_COMPLAINTS["answer_days"],
            "error": error,
            "field": field,
            "post": request.POST,
        },
    )


@borrower_required
def case(request, account_id: str, case_id: str):
    account = _account(request, account_id)
    found = get_object_or_404(Case, pk=case_id, account=account)
    return render(
        request,
        "portal/case.html",
        {"account": account, "case": found, "today": local_date(account, timezone.now())},
    )


# --- the record and the certificate -------------------------------------------------------


@borrower_required
def record_pdf(request, account_id: str):
    account = _account(request, account_id)
    document = record.borrower_record(account, zh=_chinese(request), at=timezone.now())
    return HttpResponse(
        render_pdf(document),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.reference}.pdf"'},
    )


@borrower_required
def record_csv(request, account_id: str):
    account = _account(request, account_id)
    document = record.borrower_record(account, zh=_chinese(request), at=timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document.reference}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with the mark
    writer = csv.writer(response)
    writer.writerow(["at", "kind", "title", "detail", "amount_yuan"])
    for event in document.events:
        writer.writerow(
            [
                event.at.isoformat(timespec="minutes"),
                event.kind,
                event.title,
                event.detail,
                yuan(event.amount_cents) if event.amount_cents is not None else "",
            ]
        )
    return response


@borrower_required
def certificate(request, account_id: str):
    account = _account(request, account_id)
    if account.status != AccountStatus.SETTLED:
        raise Http404("the account is not settled")
    document = record.settlement_certificate(account, zh=_chinese(request), at=timezone.now())
    return HttpResponse(
        render_pdf(document),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.reference}.pdf"'},
    )


def certificate_check(request, reference: str):
    """Public: is a settlement certificate genuine? Anyone holding one (a new lender, say) may
    ask; the page confirms only what the certificate itself states."""
    found = record.certificate_facts(reference, request.GET.get("f", ""))
    return render(
        request, "portal/certificate_check.html", {"found": found, "reference": reference}
    )


@borrower_required
def evidence_file(request, account_id: str, arrangement_id: str, evidence_id: int):
    account = _account(request, account_id)
    item = get_object_or_404(
        Evidence, pk=evidence_id, arrangement_id=arrangement_id, arrangement__account=account
    )
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.name)
