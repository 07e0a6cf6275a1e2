"""Each check of a rule pack, for one planned action, in Python: the real-time guard.

`engine.bulk` is the same in SQL for a whole day's planned actions; a property test holds the two
equal. Time is always the borrower's: the planned instant in the region's time zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorstep.compliance.engine.pack import Pack, Rule

CONVERSATION_OUTCOMES = ("reached", "promise_to_pay")


@dataclass(frozen=True)
class Action:
    """Something someone wants to do to a borrower: send, call, visit, write, or call a third party."""

    account_id: str
    borrower_id: str
    channel: str
    purpose: str  # collection | reminder | notice | locate
    actor: str
    planned_at: datetime
    template: str | None = None
    third_party_id: str | None = None
    visit_id: str | None = None


@dataclass(frozen=True)
class Attempt:
    """A contact attempt on record (or a permit not yet used): what caps count."""

    at: datetime
    channel: str
    outcome: str | None = None  # None for a permit not yet used
    third_party_id: str | None = None


@dataclass(frozen=True)
class ThirdParty:
    supplied_by_borrower: bool
    is_employer: bool
    employer_objected: bool


@dataclass(frozen=True)
class Inconvenient:
    weekday: int | None  # 0 = Monday; None = every day
    start: time
    end: time


@dataclass(frozen=True)
class Agent:
    """A visitor's credential as the guard sees it."""

    credential_no: str
    active: bool
    valid_from: date
    valid_until: date
    regions: frozenset[str]


@dataclass(frozen=True)
class VisitFacts:
    """What the visit workflow has on record for one visit, read by the visits domain with the
    visit row locked. Without it (None) every visit-workflow check refuses."""

    region_code: str
    approved: bool
    declined: bool
    visit_date: date | None  # the date the notice named
    notice_sent_on: date | None  # the borrower's local date the notice went out
    agents: tuple[Agent, ...] = ()


@dataclass(frozen=True)
class Context:
    """What the guard knows about the borrower and account at the planned time."""

    time_zone: str
    settled: bool = False
    holds: frozenset[str] = frozenset()  # hold kinds open on the planned local date
    ceased: frozenset[str] = frozenset()  # channels with a cease request ("all" for every)
    inconvenient: tuple[Inconvenient, ...] = ()
    attempts: tuple[Attempt, ...] = ()  # the borrower's, across accounts
    template_approved: bool = False
    third_party: ThirdParty | None = None
    visit: VisitFacts | None = None
    placed_with: str | None = None  # the agency the account is placed with on the planned day
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: Rule | None = None

    def reason(self, lang: str = "en") -> str:
        if self.rule is None:
            return "allowed" if lang == "en" else "允许"
        return getattr(self.rule.reason, lang)


def local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def _in_window(day: date, at_day: date, days: int) -> bool:
    """`at_day` lies in the `days` local days ending with `day` (both included)."""
    return day - timedelta(days=days - 1) <= at_day <= day


def fails(rule: Rule, pack: Pack, action: Action, ctx: Context) -> bool:
    when = local(action.planned_at, ctx.time_zone)
    day = when.date()
    match rule.check:
        case "settled":
            return ctx.settled
        case "placed":
            # The agency acts as agency:<code>:<login>; everyone else, the lender included, waits.
            return ctx.placed_with is not None and not action.actor.startswith(
                f"agency:{ctx.placed_with}:"
            )
        case "hold":
            return bool(ctx.holds & set(rule.kinds))
        case "cease":
            return "all" in ctx.ceased or action.channel in ctx.ceased
        case "inconvenient":
            moment = when.time()
            return any(
                (slot.weekday is None or slot.weekday == when.weekday())
                and slot.start <= moment < slot.end
                for slot in ctx.inconvenient
            )
        case "hours":
            return not (rule.start <= when.time().replace(tzinfo=None) < rule.end)
        case "quiet_day":
            return day in pack.quiet_days
        case "template":
            return not ctx.template_approved
        case "cap":
            counted = [
                a
                for a in ctx.attempts
                if a.channel in rule.counted
                and a.at <= action.planned_at
                and _in_window(day, local(a.at, ctx.time_zone).date(), rule.days)
            ]
            return len(counted) >= rule.limit
        case "after_conversation":
            return any(
                a.channel == "call"
                and a.outcome in CONVERSATION_OUTCOMES
                and a.at <= action.planned_at
                and _in_window(day, local(a.at, ctx.time_zone).date(), rule.days)
                for a in ctx.attempts
            )
        case "third_party":
            tp = ctx.third_party
            if tp is None or not tp.supplied_by_borrower or action.purpose != "locate":
                return True
            if tp.is_employer and tp.employer_objected:
                return True
            recent = [
                a
                for a in ctx.attempts
                if a.channel == "third_party_call"
                and a.third_party_id == action.third_party_id
                and a.at <= action.planned_at
                and _in_window(day, local(a.at, ctx.time_zone).date(), rule.days)
            ]
            return len(recent) >= rule.limit
        case "visit_approved":
            return ctx.visit is None or not ctx.visit.approved
        case "visit_declined":
            return ctx.visit is None or ctx.visit.declined
        case "visit_notice":
            v = ctx.visit
            return (
                v is None
                or v.notice_sent_on is None
                or v.visit_date != day
                or (day - v.notice_sent_on).days < rule.days
            )
        case "visit_team":
            if ctx.visit is None:
                return True
            valid = {
                a.credential_no
                for a in ctx.visit.agents
                if a.active
                and a.valid_from <= day <= a.valid_until
                and ctx.visit.region_code in a.regions
            }
            return len(valid) < rule.limit
    raise ValueError(f"unknown check {rule.check}")


def evaluate(pack: Pack, action: Action, ctx: Context) -> Verdict:
    """Allowed, or the first rule of the pack (in pack order) that refuses the action."""
    for rule in pack.rules_for(action.channel):
        if fails(rule, pack, action, ctx):
            return Verdict(False, rule)
    return Verdict(True)


def evaluate_in_order(pack: Pack, actions: list[Action], contexts: list[Context]) -> list[Verdict]:
    """A day's actions one by one in planned order (ties in list order), each allowed one counting
    against the caps of the borrower's later ones. `contexts[i]` is action i's context with the
    attempts on record. The reference the bulk check must equal."""
    verdicts: dict[int, Verdict] = {}
    added: dict[str, list[Attempt]] = {}
    for n in sorted(range(len(actions)), key=lambda i: (actions[i].planned_at, i)):
        action, ctx = actions[n], contexts[n]
        so_far = added.setdefault(action.borrower_id, [])
        if so_far:
            ctx = Context(**{**ctx.__dict__, "attempts": (*ctx.attempts, *so_far)})
        verdict = evaluate(pack, action, ctx)
        verdicts[n] = verdict
        if verdict.allowed:
            so_far.append(Attempt(action.planned_at, action.channel, None, action.third_party_id))
    return [verdicts[n] for n in range(len(actions))]
