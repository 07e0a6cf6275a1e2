"""Write operations of the visit workflow (DOMAIN §5): propose, review, plan a day and send the
notices, take the borrower's answer, dispatch, check in, record the outcome, follow up, cancel.

Every move goes through `transition` (the table in enums.py): the account's row locked, then the
visit's (docs/adr/0010), fields written, a VisitTransition row and an audit entry, in one
transaction. The two contact steps — the notice message and the visit itself — each need the
compliance guard's permit; the guard is given the visit's facts read here with the row locked.
"""

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy, gettext_noop

from doorstep.audit.domain import record
from doorstep.bulkinsert import insert_objects, new_instances
from doorstep.compliance.domain import authorize
from doorstep.compliance.engine.checks import Action, Agent, VisitFacts
from doorstep.compliance.models import Refusal
from doorstep.contact.domain import queue_message, record_contact
from doorstep.errors import in_language
from doorstep.ledger.domain import local_date, place_hold
from doorstep.ledger.engine.positions import Position
from doorstep.ledger.enums import HoldKind
from doorstep.ledger.models import Hold, Region
from doorstep.ledger.queries import account_position, in_slices, lock_accounts, locked_account
from doorstep.money import yuan
from doorstep.uploads import UploadRejected, sniff
from doorstep.visits.engine import routing
from doorstep.visits.enums import (
    BEFORE_CHECK_IN,
    CONTACT_OUTCOME,
    FOLLOWED_UP,
    OPEN_STATES,
    TRANSITIONS,
    Answer,
    EvidenceKind,
    Outcome,
    VisitEvent,
    VisitState,
)
from doorstep.visits.errors import InvalidTransition, VisitError, VisitNotAllowed
from doorstep.visits.models import (
    CredentialLookup,
    Evidence,
    FieldAgent,
    Team,
    Visit,
    VisitTransition,
)

VISIT_HOURS = (time(8), time(20))
NOTICE_CHANNELS = ("sms", "app", "email")  # tried in this order; the first the guard allows


def _cfg(name: str):
    return settings.DOORSTEP_VISITS[name]


def _label(choices, value: str):
    """A state's or step's label (lazy, so a refusal reads it in its reader's language)."""
    return choices(value).label if value in choices.values else value


def _require_move(state: str, event: str) -> str:
    """The state `event` leads to from `state`, per the table; InvalidTransition otherwise."""
    to = TRANSITIONS.get((event, state))
    if to is None:
        allowed = sorted(e for e, s in TRANSITIONS if s == state)
        params = {"state": _label(VisitState, state), "event": _label(VisitEvent, event)}
        if not allowed:
            raise InvalidTransition(
                gettext_noop(
                    "this step (%(event)s) is not possible for a visit in state %(state)s, "
                    "which is final"
                ),
                code="visit.transition",
                params=params,
            )
        possible = in_language(lambda: ", ".join(str(_label(VisitEvent, e)) for e in allowed))
        raise InvalidTransition(
            gettext_noop(
                "this step (%(event)s) is not possible for a visit in state %(state)s "
                "(possible: %(allowed)s)"
            ),
            code="visit.transition",
            params={**params, "allowed": possible},
        )
    return to


def _require_team_member(visit: Visit, agent: FieldAgent, doing) -> None:
    """Only an agent of the visit's assigned team acts on it on site."""
    if visit.team_id is None or not visit.team.members.filter(pk=agent.pk).exists():
        raise VisitNotAllowed(
            gettext_noop("only an agent of the assigned team %(doing)s"),
            code="visit.not_your_visit", params={"doing": doing},
        )  # fmt: skip


def _require_window(window: tuple[time, time]) -> None:
    if not (VISIT_HOURS[0] <= window[0] < window[1] <= VISIT_HOURS[1]):
        raise VisitError(
            gettext_noop("the window must lie within 08:00–20:00"), code="visit.window"
        )


def _locked_visit(visit_id: str, *, account_id: str | None = None) -> Visit | None:
    """The visit, locked after its account (docs/adr/0010: account, then the visit, then the
    audit trail's head), with its account (borrower and region joined) attached. Every visit
    move takes its locks through here: a move that locked the visit first and reached the
    account later (a contact, a hold, a re-evaluation) crossed a payment, which holds the
    account while it cancels the account's visits. `account_id` saves a look-up when the
    caller knows it. None: no such visit (of that account)."""
    if account_id is None:
        account_id = Visit.objects.filter(pk=visit_id).values_list("account_id", flat=True).first()
        if account_id is None:
            return None
    account = locked_account(account_id)
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(pk=visit_id, account_id=account_id)
        .first()
    )
    if visit is not None and account is not None:
        visit.account = account
    return visit


def transition(
    visit: Visit | str,
    event: str,
    *,
    by: str,
    at: datetime,
    reason: str = "",
    data: dict | None = None,
    **fields,
) -> Visit:
    """Move one visit by `event` if the table allows it from its current state. Side effects: the
    visit's state and `fields`; a VisitTransition row; an audit entry `visit.<event>`. Raises
    InvalidTransition (nothing written)."""
    visit_id = visit.pk if isinstance(visit, Visit) else visit
    account_id = visit.account_id if isinstance(visit, Visit) else None
    with transaction.atomic():
        locked = _locked_visit(visit_id, account_id=account_id)
        if locked is None:
            raise InvalidTransition(
                gettext_noop("no visit %(id)s"), code="visit.not_found", params={"id": visit_id}
            )
        to = _require_move(locked.state, event)
        before = locked.state
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.state, locked.updated_at = to, at
        locked.save()
        VisitTransition.objects.create(
            visit=locked,
            event=event,
            from_state=before,
            to_state=to,
            by=by,
            at=at,
            reason=reason,
            data=data or {},
        )
        record(
            f"visit.{event}",
            actor=by,
            obj=locked,
            at=at,
            data={"from": before, "to": to, "reason": reason, **(data or {})},
        )
        return locked


def _required(visit_id: str) -> Visit:
    """`_locked_visit` for a move that names an existing visit (Visit.DoesNotExist otherwise, as
    the views expect)."""
    visit = _locked_visit(visit_id)
    if visit is None:
        raise Visit.DoesNotExist(f"no visit {visit_id}")
    return visit


# --- proposal and review ------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A decision that put an account in the home_visit stage, with its reasons as they were."""

    account_id: str
    decision_id: int | None
    reasons: dict  # {"rules": [rule ids], "en": text, "zh": text}
    dpd: int
    overdue_cents: int
    priority: int = 1


def propose_visits(
    proposals: Iterable[Proposal], *, as_of: date, by: str, at: datetime
) -> list[Visit]:
    """Open a proposed visit for each account that has no open visit, no visit whose promise is
    still being followed, was not turned down by a supervisor in the last 30 days, and is not
    within the re-proposal embargo after a broken promise from a visit (14 days after the
    promised date).
    Proposals whose rules are all listed in the auto-approve setting approve themselves. Side
    effects: the Visit and VisitTransition rows; one audit entry for the batch (visit.proposed)
    and one per auto-approval."""
    wanted = {p.account_id: p for p in proposals}
    if not wanted:
        return []
    embargo = as_of - timedelta(days=_cfg("repropose_after_broken_days"))
    blocking = (
        Q(state__in=OPEN_STATES)
        # A promise from a visit is being followed: no new visit until it is kept or broken
        # (DOMAIN §5), and after a broken one not for the embargo.
        | Q(state=VisitState.FOLLOW_UP)
        | Q(follow_up_result="broken", ptp_date__gt=embargo)
        | Q(state=VisitState.REJECTED, updated_at__gt=at - timedelta(days=30))
    )
    accounts = sorted(wanted)
    with transaction.atomic():
        busy = set()
        # In slices: a night at ten million accounts proposes 273,000 visits.
        for accounts_slice in in_slices(accounts):
            busy.update(
                Visit.objects.filter(account_id__in=accounts_slice)
                .filter(blocking)
                .values_list("account_id", flat=True)
            )
        visits = new_instances(
            Visit,
            (
                {
                    "id": f"V-{uuid.uuid4().hex[:16]}",
                    "account_id": p.account_id,
                    "state": VisitState.PROPOSED,
                    "proposed_on": as_of,
                    "decision_id": p.decision_id,
                    "reasons": p.reasons,
                    "dpd": p.dpd,
                    "overdue_cents": p.overdue_cents,
                    "priority": p.priority,
                    "created_at": at,
                    "updated_at": at,
                }
                for account_id, p in wanted.items()
                if account_id not in busy
            ),
        )
        # The accounts first (docs/adr/0010): the audit entries below take the trail's head, the
        # auto-approvals lock each account again, and on PostgreSQL the new rows' foreign keys
        # share-lock their accounts at commit; a payment holding one of them waits for the head.
        lock_accounts(v.account_id for v in visits)
        insert_objects(visits)
        insert_objects(
            new_instances(
                VisitTransition,
                (
                    {
                        "visit_id": v.pk,
                        "event": VisitEvent.PROPOSE,
                        "to_state": VisitState.PROPOSED,
                        "by": by,
                        "at": at,
                        "data": {"rules": v.reasons.get("rules", [])},
                    }
                    for v in visits
                ),
            )
        )
        ids = sorted(v.pk for v in visits)
        record(
            "visit.proposed",
            actor=by,
            at=at,
            data={
                "as_of": as_of,
                "count": len(ids),
                "skipped": len(wanted) - len(ids),
                "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
            },
        )
        auto = set(_cfg("auto_approve_rules"))
        if auto:
            for v in visits:
                if set(v.reasons.get("rules", [])) <= auto:
                    transition(
                        v,
                        VisitEvent.APPROVE,
                        by="rule:auto-approve",
                        at=at,
                        reason="every reason is on the auto-approve list",
                        reviewed_by="rule:auto-approve",
                    )
        return visits


def approve_visits(ids: Iterable[str], *, by: str, at: datetime, note: str = "") -> list[Visit]:
    """A supervisor approves one or many proposals, all or none. Raises InvalidTransition."""
    with transaction.atomic():
        return [
            transition(
                i, VisitEvent.APPROVE, by=by, at=at, reason=note, reviewed_by=by, review_note=note
            )
            for i in ids
        ]


def reject_visit(visit_id: str, *, by: str, at: datetime, reason: str) -> Visit:
    """A supervisor turns a proposal down; the reason is required and kept."""
    if not reason.strip():
        raise InvalidTransition(gettext_noop("a rejection needs a reason"), code="visit.reason")
    return transition(
        visit_id, VisitEvent.REJECT, by=by, at=at, reason=reason, reviewed_by=by, review_note=reason
    )


def cancel_visit(visit_id: str, *, by: str, at: datetime, reason: str, why: str = "") -> Visit:
    """Call off a visit before check-in (reason: a CancelReason). Raises InvalidTransition."""
    return transition(
        visit_id, VisitEvent.CANCEL, by=by, at=at, reason=why or reason, cancelled_reason=reason
    )


def cancel_open_visits(account_id: str, *, reason: str, by: str, at: datetime) -> int:
    """Cancel every visit of the account not yet checked in, in the caller's transaction (a
    payment that settles, a hold that suspends, a stage that no longer warrants a visit)."""
    ids = list(
        Visit.objects.filter(account_id=account_id, state__in=BEFORE_CHECK_IN).values_list(
            "pk", flat=True
        )
    )
    for visit_id in ids:
        cancel_visit(visit_id, by=by, at=at, reason=reason)
    return len(ids)


# --- teams -----------------------------------------------------------------------------------


def form_team(
    code: str,
    *,
    region_code: str,
    members: list[FieldAgent],
    base: tuple,
    by: str,
    at: datetime,
    capacity: int = 8,
    shift: tuple[time, time] = (time(8, 30), time(19, 30)),
) -> Team:
    """Two credentialed agents who cover the region make a team. Raises VisitError."""
    if len({m.pk for m in members}) != 2:
        raise VisitError(gettext_noop("a team is exactly two agents"), code="team.size")
    for m in members:
        if not m.active or not m.regions.filter(code=region_code).exists():
            raise VisitError(
                gettext_noop("%(agent)s is not an active agent for region %(region)s"),
                code="team.member", params={"agent": str(m), "region": region_code},
            )  # fmt: skip
    with transaction.atomic():
        team = Team.objects.create(
            code=code,
            region_id=region_code,
            base_lat=base[0],
            base_lon=base[1],
            capacity=capacity,
            shift_start=shift[0],
            shift_end=shift[1],
        )
        team.members.set(members)
        record(
            "team.formed",
            actor=by,
            obj=team,
            at=at,
            data={"members": [m.credential_no for m in members], "region": region_code},
        )
        return team


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


# --- a day's plan and the notices ---------------------------------------------------------------


@dataclass
class DayPlanResult:
    region: str
    day: date
    noticed: list[str]
    carried: dict[str, str]  # visit id -> reason
    travel_km: float
    solver_seconds: float


def _stop(v: Visit, window: tuple[time, time]) -> routing.Stop:
    b = v.account.borrower
    if b.lat is None or b.lon is None:
        raise VisitError(
            gettext_noop("borrower %(borrower)s has no coordinates"),
            code="visit.no_location", params={"borrower": b.pk},
        )  # fmt: skip
    return routing.Stop(
        id=v.pk,
        lat=float(b.lat),
        lon=float(b.lon),
        window_start=_minutes(window[0]),
        window_end=_minutes(window[1]),
        service_minutes=_cfg("service_minutes"),
        priority=v.priority,
    )


def _teams(region_code: str) -> list[Team]:
    return list(Team.objects.filter(region_id=region_code, active=True).order_by("code"))


def _route(stops, teams: list[Team]):
    return routing.plan_day(
        stops,
        [
            routing.Team(
                id=t.code,
                start_lat=float(t.base_lat),
                start_lon=float(t.base_lon),
                shift_start=_minutes(t.shift_start),
                shift_end=_minutes(t.shift_end),
                capacity=t.capacity,
            )
            for t in teams
        ],
        speed_kmh=_cfg("speed_kmh"),
        seconds=_cfg("routing_seconds"),
    )


def plan_notices(region_code: str, day: date, *, by: str, at: datetime) -> DayPlanResult:
    """Plan `day` for a region at least the notice lead time ahead: route the approved visits
    (and those the borrower rescheduled to this day, in the window they asked for) over the
    region's teams, then send each planned visit its notice naming the date, a two-hour window
    around the planned arrival and the team. Visits that do not fit stay approved, carried to the
    next day's plan with the reason. Raises VisitError when `day` is too soon."""
    lead = _cfg("notice_days")
    zone = Region.objects.get(pk=region_code).time_zone
    if (day - at.astimezone(ZoneInfo(zone)).date()).days < lead:
        raise VisitError(
            gettext_noop("notices go out at least %(days)s days before the visit"),
            code="visit.notice_lead", params={"days": lead},
        )  # fmt: skip
    visits = list(
        Visit.objects.select_related("account__borrower__region")
        .filter(account__borrower__region_id=region_code)
        .filter(Q(state=VisitState.APPROVED) | Q(state=VisitState.RESCHEDULED, visit_date=day))
        .order_by("-priority", "-overdue_cents", "pk")
    )
    carried: dict[str, str] = {}
    stops = []
    for v in visits:
        window = (v.window_start, v.window_end) if v.window_start else VISIT_HOURS
        try:
            stops.append(_stop(v, window))
        except VisitError as e:
            carried[v.pk] = e.message
    teams = _teams(region_code)
    if stops and not teams:
        carried |= {s.id: "no active team in the region" for s in stops}
    plan = _route(stops, teams) if stops and teams else routing.DayPlan([], [], 0.0, 0, 0.0)
    noticed = []
    by_team = {t.code: t for t in teams}
    for route in plan.routes:
        for order, stop in enumerate(route.visits, start=1):
            start = max(stop.start - 60, _minutes(VISIT_HOURS[0]))
            window = (_time(start - start % 30), _time(min(start - start % 30 + 120, 20 * 60)))
            try:
                send_notice(
                    stop.stop_id,
                    visit_date=day,
                    window=window,
                    team=by_team[route.team_id],
                    order=order,
                    eta=_time(stop.start),
                    by=by,
                    at=at,
                )
                noticed.append(stop.stop_id)
            except VisitNotAllowed as refused:
                carried[stop.stop_id] = refused.message
    for left in plan.unassigned:
        carried[left.stop_id] = f"not planned on {day}: {left.reason}"
    with transaction.atomic():
        owners = {v.pk: v.account_id for v in visits}
        lock_accounts(owners[visit_id] for visit_id in carried)
        for visit_id, reason in carried.items():
            Visit.objects.filter(pk=visit_id).update(carried_reason=reason[:200], updated_at=at)
        record(
            "visit.day_planned",
            actor=by,
            at=at,
            data={
                "region": region_code,
                "day": day,
                "noticed": len(noticed),
                "carried": len(carried),
                "travel_km": round(plan.travel_km, 1),
            },
        )
    return DayPlanResult(region_code, day, noticed, carried, plan.travel_km, plan.solver_seconds)


def public_url(path: str) -> str:
    """An address the borrower can open: DOORSTEP_PUBLIC_URL and `path` (starting with /)."""
    return settings.DOORSTEP_PUBLIC_URL.rstrip("/") + path


def notice_links(visit: Visit) -> dict[str, str]:
    """The addresses a notice gives: check a visitor, answer this notice, pay instead."""
    return {
        "verify": public_url("/verify/"),
        "respond": public_url(f"/v/{respond_token(visit.pk)}/"),
        "pay": public_url("/portal/"),
    }


def notice_text_params(visit: Visit, team: Team, day: date, window, position: Position) -> dict:
    links = notice_links(visit)
    names = "、".join(f"{m.name}（{m.credential_no}）" for m in team.members.order_by("pk"))
    return {
        "lender": _cfg("lender_name"),
        "dpd": position.dpd,
        "amount": yuan(position.overdue),
        "date": day.isoformat(),
        "window": f"{window[0]:%H:%M}–{window[1]:%H:%M}",
        "visitors": names,
        "verify": links["verify"],
        "respond": links["respond"],
    }


def respond_token(visit_id: str) -> str:
    return signing.dumps(visit_id, salt="visit-answer")


def visit_for_token(token: str, *, max_age_days: int = 60) -> Visit:
    try:
        visit_id = signing.loads(token, salt="visit-answer", max_age=max_age_days * 86400)
    except signing.BadSignature as e:
        raise VisitError(
            gettext_noop("this link is not valid or has expired"), code="visit.token"
        ) from e
    return Visit.objects.select_related("account__borrower__region", "team").get(pk=visit_id)


def send_notice(
    visit_id: str,
    *,
    visit_date: date,
    window: tuple[time, time],
    team: Team,
    order: int | None,
    eta: time | None,
    by: str,
    at: datetime,
) -> Visit:
    """Send the notice of one visit through the first message channel the guard allows, and keep
    the notice letter (PDF) with the visit. Side effects: the permit and outbox message; the
    visit's date, window, team, notice time and letter; a transition (send_notice). Raises
    VisitNotAllowed when every channel is refused (each refusal recorded), InvalidTransition."""
    _require_window(window)
    with transaction.atomic():
        visit = _required(visit_id)
        _require_move(visit.state, VisitEvent.SEND_NOTICE)
        lead = _cfg("notice_days")
        today = local_date(visit.account, at)
        if (visit_date - today).days < lead:
            raise VisitError(
                gettext_noop("the visit must be at least %(days)s days after the notice"),
                code="visit.notice_lead", params={"days": lead},
            )  # fmt: skip
        # The figures as they are today (the proposal's may be older): message and letter agree.
        position = account_position(visit.account, today)
        if position.overdue <= 0:
            raise VisitError(
                gettext_noop("nothing is overdue: no notice"), code="visit.nothing_overdue"
            )
        refusals = []
        for channel in NOTICE_CHANNELS:
            result = authorize(
                Action(
                    account_id=visit.account_id,
                    borrower_id=visit.account.borrower_id,
                    channel=channel,
                    purpose="notice",
                    actor=by,
                    planned_at=at,
                    template="visit_notice",
                    visit_id=visit.pk,
                ),
                now=at,
            )
            if isinstance(result, Refusal):
                refusals.append(result)
                continue
            params = notice_text_params(visit, team, visit_date, window, position)
            queue_message(result.pk, template_code="visit_notice", params=params, by=by, at=at)
            reference = f"N-{visit.pk[2:]}-{visit_date:%Y%m%d}"
            visit = transition(
                visit,
                VisitEvent.SEND_NOTICE,
                by=by,
                at=at,
                data={
                    "channel": channel,
                    "date": visit_date,
                    "team": team.code,
                    "window": [window[0].isoformat(), window[1].isoformat()],
                },
                visit_date=visit_date,
                window_start=window[0],
                window_end=window[1],
                team=team,
                route_order=order,
                eta=eta,
                notice_sent_at=at,
                notice_reference=reference,
                answer="",
                answered_at=None,
                carried_reason="",
            )
            _keep_notice_letter(visit, at=at, position=position)
            return visit
        raise VisitNotAllowed(
            gettext_noop("the guard refused every notice channel: %(reasons)s"),
            code="visit.notice_refused",
            params={"reasons": in_language(
                lambda: "; ".join(f"{r.channel}: {r.reason}" for r in refusals))},
            refusal=refusals[-1] if refusals else None,
        )  # fmt: skip


def _keep_notice_letter(visit: Visit, *, at: datetime, position: Position) -> None:
    """Render the notice letter and keep it with the visit (the record of what was sent)."""
    from doorstep.visits import letters

    pdf = letters.notice_pdf(visit, at=at, position=position)
    visit.notice_pdf.save(f"{visit.notice_reference}.pdf", ContentFile(pdf), save=False)
    Visit.objects.filter(pk=visit.pk).update(notice_pdf=visit.notice_pdf.name)
    record(
        "visit.notice_letter",
        actor="system",
        obj=visit,
        at=at,
        data={"sha256": hashlib.sha256(pdf).hexdigest(), "bytes": len(pdf)},
    )


# --- the borrower's answer ----------------------------------------------------------------


def reschedule_range(visit: Visit, at: datetime) -> tuple[date, date]:
    """The first and the last day the visit may be moved to, on the account's calendar: the
    notice lead ahead at the soonest, and `reschedule_span_days` after that at the latest, so that
    a reschedule cannot park a visit indefinitely."""
    earliest = local_date(visit.account, at) + timedelta(days=_cfg("notice_days"))
    return earliest, earliest + timedelta(days=_cfg("reschedule_span_days"))


def answer_notice(
    visit_id: str,
    *,
    answer: str,
    by: str,
    at: datetime,
    via: str,
    new_date: date | None = None,
    window: tuple[time, time] | None = None,
) -> Visit:
    """The borrower (through the portal link) or staff on the borrower's word confirms,
    reschedules (to a day of `reschedule_range`, optionally a window) or declines. A decline
    also holds visits on the account for 30 days. Raises VisitError."""
    if answer not in Answer.values:
        raise VisitError(
            gettext_noop("unknown answer %(answer)s"), code="visit.answer",
            params={"answer": repr(answer)}, field="answer",
        )  # fmt: skip
    with transaction.atomic():
        visit = Visit.objects.select_related("account__borrower__region").get(pk=visit_id)
        data = {"via": via}
        if answer == Answer.CONFIRM:
            return transition(
                visit, VisitEvent.CONFIRM, by=by, at=at, data=data, answer=answer, answered_at=at
            )
        if answer == Answer.DECLINE:
            visit = transition(
                visit, VisitEvent.DECLINE, by=by, at=at, data=data, answer=answer, answered_at=at
            )
            today = local_date(visit.account, at)
            days = _cfg("decline_hold_days")
            if not Hold.objects.filter(
                account_id=visit.account_id, kind=HoldKind.VISIT_DECLINED, since=today
            ).exists():
                place_hold(
                    visit.account_id,
                    kind=HoldKind.VISIT_DECLINED,
                    since=today,
                    until=today + timedelta(days=days - 1),
                    by=by,
                )
            return visit
        earliest, latest = reschedule_range(visit, at)
        if new_date is None or new_date < earliest:
            raise VisitError(
                gettext_noop("a new date must be at least %(days)s days from today"),
                code="visit.reschedule_date", field="new_date",
                params={"days": _cfg("notice_days")},
            )  # fmt: skip
        if new_date > latest:
            raise VisitError(
                gettext_noop(
                    "a new date can be no later than %(latest)s: choose a day from %(earliest)s "
                    "to %(latest)s"
                ),
                code="visit.reschedule_date", field="new_date",
                params={"earliest": earliest, "latest": latest},
            )  # fmt: skip
        if window is not None:
            _require_window(window)
        window = window or (None, None)
        return transition(
            visit,
            VisitEvent.RESCHEDULE,
            by=by,
            at=at,
            data=data | {"date": new_date},
            answer=answer,
            answered_at=at,
            visit_date=new_date,
            window_start=window[0],
            window_end=window[1],
            team=None,
            route_order=None,
            eta=None,
        )


# --- the day itself ---------------------------------------------------------------------------


def dispatch_day(region_code: str, day: date, *, by: str, at: datetime) -> DayPlanResult:
    """On the day: each team's noticed or confirmed visits routed in order within their windows
    (same solver, one team at a time: the notice named the team). Visits that no longer fit are
    rescheduled with the reason (a new notice is due). Side effects: transitions (assign or
    reschedule)."""
    carried: dict[str, str] = {}
    assigned: list[str] = []
    km = seconds = 0.0
    for team in _teams(region_code):
        visits = list(
            Visit.objects.select_related("account__borrower").filter(
                team=team, visit_date=day, state__in=[VisitState.NOTICE_SENT, VisitState.CONFIRMED]
            )
        )
        if not visits:
            continue
        plan = _route([_stop(v, (v.window_start, v.window_end)) for v in visits], [team])
        km += plan.travel_km
        seconds += plan.solver_seconds
        for route in plan.routes:
            for order, stop in enumerate(route.visits, start=1):
                transition(
                    stop.stop_id,
                    VisitEvent.ASSIGN,
                    by=by,
                    at=at,
                    data={"team": team.code, "order": order},
                    route_order=order,
                    eta=_time(stop.start),
                )
                assigned.append(stop.stop_id)
        for left in plan.unassigned:
            reason = f"could not be fitted on {day}: {left.reason}"
            transition(left.stop_id, VisitEvent.ASSIGN, by=by, at=at, team=team)
            transition(
                left.stop_id,
                VisitEvent.RESCHEDULE,
                by=by,
                at=at,
                reason=reason,
                carried_reason=reason[:200],
                team=None,
                route_order=None,
                eta=None,
            )
            carried[left.stop_id] = reason
    return DayPlanResult(region_code, day, assigned, carried, km, seconds)


def visit_facts(visit: Visit) -> VisitFacts:
    """What the guard checks about this visit, from the rows as they are now."""
    sent_on = local_date(visit.account, visit.notice_sent_at) if visit.notice_sent_at else None
    agents = ()
    if visit.team_id:
        agents = tuple(
            Agent(
                a.credential_no,
                a.active,
                a.valid_from,
                a.valid_until,
                frozenset(a.regions.values_list("code", flat=True)),
            )
            for a in visit.team.members.all()
        )
    approved = VisitTransition.objects.filter(visit=visit, event=VisitEvent.APPROVE).exists()
    return VisitFacts(
        region_code=visit.account.borrower.region_id,
        approved=approved,
        declined=visit.answer == Answer.DECLINE,
        visit_date=visit.visit_date,
        notice_sent_on=sent_on,
        agents=agents,
    )


def check_in(visit_id: str, *, agent: FieldAgent, at: datetime, lat=None, lon=None) -> Visit:
    """An agent of the assigned team arrives. The guard decides with the visit's facts (approval,
    notice, decline, both credentials, hours, holds, caps, settled). Side effects: the permit,
    a transition (check_in) with the time and optional location. Raises VisitNotAllowed (the
    refusal recorded, the visit unchanged) or InvalidTransition."""
    with transaction.atomic():
        visit = _required(visit_id)
        _require_move(visit.state, VisitEvent.CHECK_IN)
        _require_team_member(visit, agent, gettext_lazy("checks in"))
        result = authorize(
            Action(
                account_id=visit.account_id,
                borrower_id=visit.account.borrower_id,
                channel="visit",
                purpose="collection",
                actor=agent.credential_no,
                planned_at=at,
                visit_id=visit.pk,
            ),
            now=at,
            visit=visit_facts(visit),
        )
        if not isinstance(result, Refusal):
            return transition(
                visit,
                VisitEvent.CHECK_IN,
                by=agent.credential_no,
                at=at,
                data={"permit": result.pk, "lat": lat, "lon": lon},
                permit=result,
                checked_in_at=at,
                check_in_lat=lat,
                check_in_lon=lon,
            )
    # Raised once the refusal is committed: it stays on record.
    raise VisitNotAllowed(
        gettext_noop("the guard refused: %(reason)s (%(rule)s)"),
        code="visit.refused", refusal=result,
        params={"reason": in_language(lambda: result.reason), "rule": result.rule_id},
    )  # fmt: skip


def record_outcome(
    visit_id: str,
    *,
    agent: FieldAgent,
    at: datetime,
    outcome: str,
    identity_checked: bool,
    address_confirmed: bool | None,
    financial_notes: str = "",
    notes: str = "",
    ptp_amount_cents: int | None = None,
    ptp_date: date | None = None,
) -> Visit:
    """Record what happened and check out: the visit is also recorded as the contact it was (on
    its permit), and a promise or a plan request moves it to follow-up. Raises VisitError."""
    if outcome not in Outcome.values:
        raise VisitError(
            gettext_noop("unknown outcome %(outcome)s"), code="visit.outcome",
            params={"outcome": repr(outcome)}, field="outcome",
        )  # fmt: skip
    promise = outcome == Outcome.PROMISE_TO_PAY
    if promise != (ptp_amount_cents is not None and ptp_date is not None):
        raise VisitError(
            gettext_noop(
                "a promise to pay needs an amount and a date (and only a promise has them)"
            ),
            code="visit.promise",
        )
    if promise and ptp_amount_cents <= 0:
        raise VisitError(gettext_noop("the promised amount must be positive"), code="visit.promise")
    with transaction.atomic():
        visit = _required(visit_id)
        _require_team_member(visit, agent, gettext_lazy("records the outcome"))
        _require_move(visit.state, VisitEvent.COMPLETE)
        record_contact(
            visit.account_id,
            channel="visit",
            outcome=CONTACT_OUTCOME[outcome],
            at=visit.checked_in_at,
            by=agent.credential_no,
            ptp_amount_cents=ptp_amount_cents,
            ptp_date=ptp_date,
            permit_id=visit.permit_id,
        )
        visit = transition(
            visit,
            VisitEvent.COMPLETE,
            by=agent.credential_no,
            at=at,
            data={"outcome": outcome},
            outcome=outcome,
            identity_checked=identity_checked,
            address_confirmed=address_confirmed,
            financial_notes=financial_notes,
            notes=notes,
            ptp_amount_cents=ptp_amount_cents,
            ptp_date=ptp_date,
            checked_out_at=at,
        )
        if outcome in FOLLOWED_UP:
            return transition(
                visit, VisitEvent.FOLLOW_UP, by="system", at=at, reason=f"track the {outcome}"
            )
        return transition(
            visit, VisitEvent.CLOSE, by="system", at=at, closed_reason=f"outcome: {outcome}"
        )


def add_evidence(
    visit_id: str, *, agent: FieldAgent, name: str, content: bytes, at: datetime, note: str = ""
) -> Evidence:
    """Keep a photo (JPEG, PNG) or document (PDF) taken on the visit, type judged by its first
    bytes, not its name; at most the configured size. Raises VisitError."""
    try:
        sniffed = sniff(content, max_bytes=_cfg("evidence_max_bytes"))
    except UploadRejected as exc:
        # The upload's own template and figures: translated where it is shown, as it is.
        raise VisitError(
            exc.template, code=exc.code.replace("upload.", "evidence."), params=exc.params
        ) from exc
    with transaction.atomic():
        visit = _required(visit_id)
        if visit.state not in (
            VisitState.IN_PROGRESS,
            VisitState.COMPLETED,
            VisitState.FOLLOW_UP,
            VisitState.CLOSED,
        ):
            raise VisitError(
                gettext_noop("evidence is added once the visit has started"), code="evidence.state"
            )
        _require_team_member(visit, agent, gettext_lazy("adds evidence"))
        digest = hashlib.sha256(content).hexdigest()
        item = Evidence(
            visit=visit,
            kind=EvidenceKind(sniffed.kind),
            content_type=sniffed.content_type,
            size=len(content),
            sha256=digest,
            uploaded_by=agent.credential_no,
            uploaded_at=at,
            note=note[:200],
        )
        item.file.save(
            f"{visit.pk}-{digest[:12]}.{sniffed.extension}", ContentFile(content), save=False
        )
        item.save()
        record(
            "visit.evidence",
            actor=agent.credential_no,
            obj=visit,
            at=at,
            data={
                "sha256": digest,
                "type": sniffed.content_type,
                "bytes": len(content),
                "name": name[:100],
            },
        )
        return item


# --- follow-up ----------------------------------------------------------------------------------


def review_follow_ups(as_of: date, *, by: str, at: datetime) -> dict[str, int]:
    """Close the follow-ups whose promised date has passed: kept when the account's payments since
    the visit reach the promised amount (or it settled), broken otherwise — a broken promise lets a
    new visit be proposed 14 days after the promised date. A plan request is closed when the
    arrangements issue lands; until then it stays open for staff."""
    from doorstep.ledger.enums import AccountStatus, EntryKind
    from doorstep.ledger.models import LedgerEntry

    counts = {"kept": 0, "broken": 0}
    due = Visit.objects.filter(
        state=VisitState.FOLLOW_UP, outcome=Outcome.PROMISE_TO_PAY, ptp_date__lt=as_of
    )
    for visit in due.select_related("account"):
        since = local_date(visit.account, visit.checked_in_at)
        paid = sum(
            LedgerEntry.objects.filter(
                account_id=visit.account_id,
                kind=EntryKind.PAYMENT,
                effective_on__gte=since,
                effective_on__lte=visit.ptp_date,
            ).values_list("amount_cents", flat=True)
        )
        kept = paid >= visit.ptp_amount_cents or visit.account.status == AccountStatus.SETTLED
        result = "kept" if kept else "broken"
        transition(
            visit,
            VisitEvent.CLOSE,
            by=by,
            at=at,
            reason=f"promise {result}",
            data={"paid_cents": paid},
            follow_up_result=result,
            closed_reason=f"promise {result}: paid {paid} of {visit.ptp_amount_cents}",
        )
        counts[result] += 1
    return counts


# --- credential verification (anti-impostor) ----------------------------------------------------


@dataclass(frozen=True)
class CredentialAnswer:
    found: bool
    limited: bool = False
    agent: FieldAgent | None = None
    valid_today: bool = False
    visit_today: bool | None = None  # None: not asked by a signed-in borrower


def verify_credential(
    credential_no: str, *, client: str, at: datetime, visit: Visit | None = None
) -> CredentialAnswer:
    """Look up a visitor's credential for anyone (the borrower at the door). Whether a visit to
    *this* borrower is scheduled today is told only to the borrower, who comes with the link of
    their notice (`visit`). Every look-up is logged; more than the hourly limit from one client
    is refused (the log is also the rate limit, so it holds across server processes)."""
    client_key = hashlib.sha256(f"{settings.SECRET_KEY}:{client}".encode()).hexdigest()
    number = credential_no.strip().upper()[:32]
    since = at - timedelta(hours=1)
    with transaction.atomic():
        recent = CredentialLookup.objects.filter(client=client_key, at__gt=since).count()
        if recent >= _cfg("lookups_per_hour"):
            CredentialLookup.objects.create(
                at=at, client=client_key, credential_no=number, found=False, limited=True
            )
            return CredentialAnswer(found=False, limited=True)
        agent = FieldAgent.objects.filter(credential_no=number).first()
        today = at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        answer = CredentialAnswer(found=agent is not None, agent=agent)
        if agent is not None:
            valid = agent.active and agent.valid_from <= today <= agent.valid_until
            scheduled = None
            if visit is not None:
                today = local_date(visit.account, at)
                scheduled = (
                    visit.visit_date == today
                    and visit.state in OPEN_STATES
                    and visit.team_id is not None
                    and visit.team.members.filter(pk=agent.pk).exists()
                )
            answer = CredentialAnswer(True, False, agent, valid, scheduled)
        CredentialLookup.objects.create(
            at=at,
            client=client_key,
            credential_no=number,
            found=answer.found,
            borrower_id=visit.account.borrower_id if visit is not None else "",
        )
        return answer
