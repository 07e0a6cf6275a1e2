"""The guard: `authorize` is the only way to a Permit, and every refusal is recorded.

A channel adapter, a collector's call, a visit or a placement needs a Permit (contact.Permit);
`contact.domain.record_contact` will not record an outbound contact without one. Refusals name the
rule, its source and citation, and a reason in both languages.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop, pgettext_lazy

from doorstep.audit.domain import record
from doorstep.bulkinsert import insert_objects
from doorstep.compliance import queries
from doorstep.compliance.engine.checks import Action, Verdict, VisitFacts, evaluate
from doorstep.compliance.engine.pack import Pack, load_pack
from doorstep.compliance.models import Refusal
from doorstep.compliance.queries import context_for
from doorstep.contact.models import Permit
from doorstep.errors import UserError, in_language
from doorstep.ledger.models import Account, Borrower
from doorstep.ledger.queries import locked_account
from doorstep.timing import timed

log = logging.getLogger(__name__)


class NoSuchAccount(LookupError):
    code = "compliance.no_account"


@cache
def active_pack() -> Pack:
    return load_pack(settings.DOORSTEP_RULE_PACK)


def check(action: Action, *, now: datetime | None = None, visit=None) -> Verdict:
    """Would the guard allow it? Records nothing (the dry check)."""
    account = _account(action.account_id)
    return evaluate(active_pack(), action, context_for(action, account, now=now, visit=visit))


def check_all(actions: list[Action], *, now: datetime | None = None) -> list[Verdict]:
    """check() for each action, in order. The account and the context are read once for
    actions that differ only in channel and purpose (the context reads the channel only to find
    the action's template): the case view asks this for its four channels on every open."""
    pack, contexts, verdicts = active_pack(), {}, []
    for action in actions:
        key = (action.account_id, action.planned_at, action.template, action.third_party_id,
               action.channel if action.template else None)  # fmt: skip
        if key not in contexts:
            account = _account(action.account_id)
            contexts[key] = context_for(action, account, now=now)
        verdicts.append(evaluate(pack, action, contexts[key]))
    return verdicts


def authorize(
    action: Action, *, now: datetime | None = None, visit: VisitFacts | None = None
) -> Permit | Refusal:
    """Check one planned action against the active pack. Side effects: a Permit (valid from the
    planned time for DOORSTEP_PERMIT_MINUTES) or a Refusal row. The borrower row is locked so two
    collectors asking at once cannot both slip under a cap. A visit's workflow facts come from
    the visits domain, which reads them with the visit locked (`visit`); without them a visit is
    refused."""
    now = now or timezone.now()
    pack = active_pack()
    with transaction.atomic():
        # The account first (docs/adr/0010): the permit or refusal is the account's, and the
        # audit head comes after it (a payment holds the account, then takes the head).
        account = locked_account(action.account_id)
        if account is None:
            raise NoSuchAccount(f"no account {action.account_id}")
        Borrower.objects.select_for_update().filter(pk=account.borrower_id).first()
        verdict = evaluate(pack, action, context_for(action, account, now=now, visit=visit))
        fields = {
            "channel": action.channel,
            "purpose": action.purpose,
            "template": action.template,
            "planned_at": action.planned_at,
            "pack": pack.label,
        } | ({"visit": action.visit_id} if action.visit_id else {})
        if verdict.allowed:
            permit = Permit.objects.create(
                id=f"p-{uuid.uuid4().hex}",
                account=account,
                borrower_id=account.borrower_id,
                channel=action.channel,
                purpose=action.purpose,
                template=action.template or "",
                third_party_id=action.third_party_id,
                actor=action.actor,
                planned_at=action.planned_at,
                valid_until=action.planned_at + timedelta(minutes=settings.DOORSTEP_PERMIT_MINUTES),
                pack=pack.label,
                issued_at=now,
            )
            record("compliance.permitted", actor=action.actor, obj=account,
                   data=fields | {"permit": permit.pk}, at=now)  # fmt: skip
            return permit
        rule = verdict.rule
        refusal = _refusal(pack, rule, action, now, borrower_id=account.borrower_id)
        refusal.save()
        record("compliance.refused", actor=action.actor, obj=account,
               data=fields | {"rule": rule.id, "source": rule.source}, at=now)  # fmt: skip
        return refusal


def _refusal(pack: Pack, rule, action: Action, now: datetime, *, borrower_id: str) -> Refusal:
    """The (unsaved) record of `rule` refusing `action`, with the rule's source and reasons."""
    return Refusal(
        at=now,
        account_id=action.account_id,
        borrower_id=borrower_id,
        channel=action.channel,
        purpose=action.purpose,
        template=action.template or "",
        actor=action.actor,
        planned_at=action.planned_at,
        pack=pack.label,
        rule_id=rule.id,
        source=rule.source,
        citation=rule.citation,
        reason_en=rule.reason.en,
        reason_zh=rule.reason.zh,
    )


def _account(account_id: str) -> Account:
    account = Account.objects.select_related("borrower__region").filter(pk=account_id).first()
    if account is None:
        raise NoSuchAccount(f"no account {account_id}")
    return account


class TemplateRejected(UserError):
    """A review that cannot go through (not a draft, the author approving, forbidden wording),
    read by the compliance officer in their language. One code for all: `template.rejected`."""


# The kinds of forbidden wording (packs/phrases.yaml) as a reviewer reads them (lazy, in the
# refusal's reader's language; a context, as the words are common). A kind added to the file and
# not here is shown by its key.
PHRASE_KINDS = {
    "threats": pgettext_lazy("forbidden wording", "threats"),
    "false_claims": pgettext_lazy("forbidden wording", "false claims"),
    "insults": pgettext_lazy("forbidden wording", "insults"),
    "exposure": pgettext_lazy("forbidden wording", "exposure"),
}


@cache
def forbidden_phrases() -> dict[str, list[str]]:
    import yaml

    from doorstep.compliance.engine.pack import PACKS_DIR

    data = yaml.safe_load((PACKS_DIR / "phrases.yaml").read_text(encoding="utf-8"))
    return {kind: [p for lang in langs.values() for p in lang] for kind, langs in data.items()}


def forbidden_in(text: str) -> list[tuple[str, str]]:
    """(kind, phrase) of every forbidden phrase in `text`, case-insensitive."""
    lowered = text.lower()
    return [
        (kind, phrase)
        for kind, phrases in forbidden_phrases().items()
        for phrase in phrases
        if phrase.lower() in lowered
    ]


def review_template(template_id: int, *, by: str, approve: bool, note: str = "", at=None):
    """Approve or reject a draft template. A template with a forbidden phrase cannot be approved,
    and nobody approves their own. Side effects: the template's status, reviewer and time; an
    approved version retires the code's earlier approved version for that channel and language.
    Raises TemplateRejected."""
    from doorstep.contact.models import Template, TemplateStatus

    at = at or timezone.now()
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=template_id)
        if template.status != TemplateStatus.DRAFT:
            raise TemplateRejected(
                gettext_noop("only a draft can be reviewed (status: %(status)s)"),
                code="template.rejected", params={"status": TemplateStatus(template.status).label},
            )  # fmt: skip
        if approve:
            if template.created_by == by:
                raise TemplateRejected(
                    gettext_noop("a template is approved by someone other than its author"),
                    code="template.rejected",
                )
            found = forbidden_in(template.body)
            if found:
                listed = in_language(
                    lambda: ", ".join(
                        f"{phrase} ({PHRASE_KINDS.get(kind, kind)})" for kind, phrase in found
                    )
                )
                raise TemplateRejected(
                    gettext_noop("the template contains forbidden wording: %(found)s"),
                    code="template.rejected", field="body", params={"found": listed},
                )  # fmt: skip
            Template.objects.filter(
                code=template.code,
                channel=template.channel,
                language=template.language,
                status=TemplateStatus.APPROVED,
            ).update(status=TemplateStatus.RETIRED)
        template.status = TemplateStatus.APPROVED if approve else TemplateStatus.REJECTED
        template.reviewed_by, template.reviewed_at, template.review_note = by, at, note
        template.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        record(f"template.{template.status}", actor=by, obj=template,
               data={"code": template.code, "channel": template.channel,
                     "language": template.language, "version": template.version, "note": note},
               at=at)  # fmt: skip
        return template


def screen(
    actions: pa.Table,
    *,
    actor: str,
    now: datetime | None = None,
    with_refusals: Callable[[dict[int, str]], None] | None = None,
) -> pa.Table:
    """Check a day's planned actions at once (set-based, `engine.bulk`). Side effects: a Refusal
    row for each refused action and one audit entry with the counts, in one transaction; the
    caller's own record of the refusals too, when it passes `with_refusals` (called inside that
    transaction with {seq: rule_id}), so the two cannot part. Returns (seq, rule_id).

    `actions` has the columns `engine.bulk` names (seq, account_id, borrower_id, channel,
    purpose, template, planned_at, third_party_id, time_zone, settled, language)."""
    from doorstep.compliance.engine.bulk import LOOKBACK_DAYS, check_bulk

    now = now or timezone.now()
    pack = active_pack()
    if actions.num_rows == 0:
        return check_bulk(pack, {"actions": actions})
    first = min(actions.column("planned_at").to_pylist())
    with timed(log, "screen read context", step="read context"):
        tables = queries.bulk_context(since=first - timedelta(days=LOOKBACK_DAYS), now=now)
    tables["actions"] = actions
    with timed(log, "screen check", step="check"):
        result = check_bulk(pack, tables, threads=settings.DOORSTEP_DUCKDB_THREADS)
    refusals = result.filter(pc.is_valid(result.column("rule_id"))).to_pydict()
    rule_of = dict(zip(refusals["seq"], refusals["rule_id"], strict=True))
    # Only the refused actions come back into Python, to be recorded.
    refused = actions.filter(pc.is_in(actions.column("seq"), pa.array(list(rule_of), pa.int64())))
    rules = {r.id: r for r in pack.rules}
    with timed(log, "screen record", step="record"), transaction.atomic():
        insert_objects(
            [
                _refusal(
                    pack,
                    rules[rule_of[row["seq"]]],
                    Action(
                        account_id=row["account_id"],
                        borrower_id=row["borrower_id"],
                        channel=row["channel"],
                        purpose=row["purpose"],
                        actor=actor,
                        planned_at=row["planned_at"],
                        template=row["template"],
                    ),
                    now,
                    borrower_id=row["borrower_id"],
                )
                for row in refused.to_pylist()
            ]
        )
        counts: dict[str, int] = {}
        for rule in rule_of.values():
            counts[rule] = counts.get(rule, 0) + 1
        record(
            "compliance.screened",
            actor=actor,
            data={"pack": pack.label, "actions": actions.num_rows, "refused": counts},
            at=now,
        )
        if with_refusals is not None:
            with_refusals(rule_of)
    return result
