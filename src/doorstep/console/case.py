"""The case view: one account as a collector or supervisor works it. The borrower's identifiers
are masked until revealed (logged); every open of the page is logged as a staff read of the full
record. The actions allowed now are asked of the guard (a dry check, nothing recorded): a
disallowed one is shown disabled with the rule that forbids it."""

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.audit.domain import record
from doorstep.audit.models import AuditEntry
from doorstep.compliance.domain import check_all
from doorstep.compliance.engine.checks import Action
from doorstep.console.placements import member_of
from doorstep.contact.errors import ContactRejected
from doorstep.ledger.domain import local_date
from doorstep.ledger.enums import ContactChannel, ContactOutcome
from doorstep.ledger.models import Account
from doorstep.ledger.privacy import configured_cipher
from doorstep.ledger.queries import account_position, read_books
from doorstep.money import cents
from doorstep.pii import mask_national_id, mask_phone
from doorstep.placements.domain import agency_actor, open_placement
from doorstep.scoring.domain import active_model
from doorstep.strategy.calls import record_call
from doorstep.strategy.domain import active_version, compiled
from doorstep.strategy.enums import Stage
from doorstep.strategy.models import Decision
from doorstep.strategy.queries import explain_account
from doorstep.timeline import KIND_LABELS, record_events

CHANNELS = (("call", "collection"), ("sms", "reminder"), ("app", "reminder"), ("email", "reminder"))
CALL_OUTCOMES = (
    ContactOutcome.REACHED,
    ContactOutcome.NO_ANSWER,
    ContactOutcome.UNREACHABLE,
    ContactOutcome.WRONG_NUMBER,
    ContactOutcome.REFUSED,
    ContactOutcome.THIRD_PARTY,
)


def band_label(band: str) -> str:
    return {"low": _("Low risk"), "medium": _("Medium risk"), "high": _("High risk")}.get(
        band, band
    )


def allowed_now(account: Account, now, actor: str) -> list[dict]:
    """Each channel with the guard's answer at this moment."""
    zh = (get_language() or "").startswith("zh")
    found = []
    verdicts = check_all(
        [Action(account.pk, account.borrower_id, c, p, actor, now) for c, p in CHANNELS], now=now
    )
    for (channel, _purpose), verdict in zip(CHANNELS, verdicts, strict=True):
        found.append(
            {
                "channel": channel,
                "label": ContactChannel(channel).label,
                "allowed": verdict.allowed,
                "rule": verdict.rule.id if verdict.rule else "",
                "reason": verdict.reason("zh" if zh else "en"),
            }
        )
    return found


def access(request, account: Account, now) -> tuple[str, str]:
    """(who, actor): the lender's staff who may read accounts, or an agency's staff for an account
    placed with their agency today (acting as the agency); anyone else is refused."""
    if request.user.has_perm("ledger.view_ledgerentry"):
        return "staff", request.user.get_username()
    member = member_of(request.user)
    if member is not None:
        placement = open_placement(account.pk, local_date(account, now))
        if placement is not None and placement.agency_id == member.agency_id:
            return "agency", agency_actor(member)
    raise PermissionDenied("this account is not yours to see")


VIEWED = "account.viewed"
# The opens of a record a case view names one by one; the rest it counts.
VIEWS_NAMED = 5


def audit_trail(account: Account, rows: int = 100):
    """The latest entries about the account and its borrower, but their opens (every open of this
    page is logged): listed one by one, a busy account's opens pushed its payments, calls and
    reveals out of the trail. `earlier_views` sums them up."""
    return (
        AuditEntry.objects.filter(
            Q(obj_type="ledger.account", obj_id=account.pk)
            | Q(obj_type="ledger.borrower", obj_id=account.borrower_id)
        )
        .exclude(code=VIEWED)
        .order_by("-seq")
        .values("at", "code", "actor")[:rows]
    )


def earlier_views(account: Account, *, before: int) -> dict:
    """How often the account was opened before the entry `before`, and the latest opens (when and
    by whom). Counted only when there are more than it names."""
    views = AuditEntry.objects.filter(
        obj_type="ledger.account", obj_id=account.pk, code=VIEWED, seq__lt=before
    )
    latest = list(views.order_by("-seq").values("at", "actor")[:VIEWS_NAMED])
    return {
        "count": views.count() if len(latest) == VIEWS_NAMED else len(latest),
        "latest": latest,
    }


@login_required
def account_view(request, account_id: str):
    account = get_object_or_404(Account.objects.select_related("borrower__region"), pk=account_id)
    now = timezone.now()
    who, by = access(request, account, now)
    # Times on the page in the borrower's zone, as the figures' "today" is.
    timezone.activate(ZoneInfo(account.borrower.region.time_zone))
    today = local_date(account, now)
    borrower = account.borrower
    # An agency sees the minimum it needs to work the account: the number to call, not the ID.
    revealed = who == "agency" or request.session.get("revealed", {}).get(borrower.pk, False)
    cipher = configured_cipher()
    phone = cipher.decrypt(borrower.phone_encrypted)
    national_id = cipher.decrypt(borrower.national_id_encrypted)
    viewed = record(VIEWED, actor=by, obj=account, at=now, data={"revealed": revealed})
    # The schedule and entries once, for the figures and for the live explanation.
    books = read_books(account, today)
    explanation = None
    if account.status == "active":
        explanation = explain_account(
            account.pk, today, compiled(active_version()), at=now, account=account, books=books
        )
    zh = (get_language() or "").startswith("zh")
    zone = account.borrower.region.time_zone
    score = explanation.score if explanation else None
    context = {
        "account": account,
        "borrower": borrower,
        "phone": phone if revealed else mask_phone(phone),
        "national_id": ""
        if who == "agency"
        else (national_id if revealed else mask_national_id(national_id)),
        "agency": who == "agency",
        "revealed": revealed,
        "position": account_position(account, today, books=books),
        # The stored decision shows only where there is no live explanation (a settled account).
        "decision": None
        if explanation
        else Decision.objects.filter(account=account).order_by("-as_of").first(),
        "explanation": explanation,
        "next_words": (
            (explanation.next_change.zh if zh else explanation.next_change.en)
            if explanation and explanation.next_change
            else ""
        ),
        "timeline": [
            {**vars(e), "kind_label": KIND_LABELS.get(e.kind, e.kind)}
            for e in reversed(record_events(account, ZoneInfo(zone)))
        ],
        "zone": zone,
        "stage_label": Stage(explanation.decision.stage).label if explanation else "",
        "score": score,
        "score_band": band_label(score.risk_band) if score else "",
        "score_reasons": [
            {"code": r.code, "text": r.zh if zh else r.en, "weight": f"{r.weight:+.3f}"}
            for r in (score.reasons if score else ())
        ],
        "scoring_active": active_model() is not None,
        "channels": allowed_now(account, now, by),
        "outcomes": [(o.value, o.label) for o in CALL_OUTCOMES],
        "may_record": who == "agency" or request.user.has_perm("contact.add_contact"),
        "today": today,
        "audit": [] if who == "agency" else audit_trail(account),
        "views": None if who == "agency" else earlier_views(account, before=viewed.seq),
    }
    return render(request, "console/account.html", context)


@staff_permission("ledger.view_ledgerentry")
@require_POST
def reveal(request, account_id: str):
    account = get_object_or_404(Account, pk=account_id)
    revealed = request.session.get("revealed", {})
    revealed[account.borrower_id] = True
    request.session["revealed"] = revealed
    record(
        "borrower.revealed",
        actor=request.user.get_username(),
        obj=account.borrower,
        at=timezone.now(),
        data={"account": account.pk, "reason": request.POST.get("reason", "")[:200]},
    )
    return redirect("console-account", account_id=account.pk)


@login_required
@require_POST
def call_outcome(request, account_id: str):
    """One click per outcome; a promise is the amount and date, then one click."""
    account = get_object_or_404(Account.objects.select_related("borrower__region"), pk=account_id)
    who, by = access(request, account, timezone.now())
    if who == "staff" and not request.user.has_perm("contact.add_contact"):
        raise PermissionDenied("not allowed to record calls")
    outcome = request.POST.get("outcome", "")
    try:
        amount = date_ = None
        if outcome == ContactOutcome.PROMISE_TO_PAY:
            amount = cents(request.POST.get("ptp_amount", ""))
            date_ = date.fromisoformat(request.POST.get("ptp_date", ""))
        result = record_call(
            account.pk, by=by, at=timezone.now(), outcome=outcome,
            ptp_amount_cents=amount, ptp_date=date_,
        )  # fmt: skip
    except ContactRejected as exc:
        messages.error(request, exc.translated())
    except (ValueError, ArithmeticError):
        messages.error(request, _("a promise needs an amount (yuan) and a date"))
    else:
        if result.refusal is not None:
            messages.error(
                request,
                _("The guard refused the call (%(rule)s): %(reason)s")
                % {
                    "rule": result.refusal.rule_id,
                    "reason": result.refusal.reason,
                },
            )
        else:
            messages.success(
                request,
                _("Recorded. The account's stage is now %(stage)s.")
                % {"stage": Stage(result.decision.stage).label},
            )
    return redirect("console-account", account_id=account.pk)


urlpatterns = [
    path("accounts/<str:account_id>/", account_view, name="console-account"),
    path("accounts/<str:account_id>/reveal", reveal, name="console-reveal"),
    path("accounts/<str:account_id>/call", call_outcome, name="console-call"),
]
