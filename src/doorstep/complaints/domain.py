"""Write operations on complaints and disputes (DOMAIN §7). Filing one opens a hold that
suspends collection on the account; answering it (with a finding) closes the hold once no other
open case needs it. Re-evaluating the account is the caller's (strategy.domain.reevaluated)."""

import hashlib
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.complaints.enums import HOLD_FOR, CaseKind, CaseState, Category, Finding
from doorstep.complaints.errors import CaseError
from doorstep.complaints.models import Attachment, Case
from doorstep.ledger.domain import local_date, place_hold, release_hold
from doorstep.ledger.models import Hold
from doorstep.ledger.queries import locked_account
from doorstep.uploads import UploadRejected, sniff


def _cfg(name: str):
    return settings.DOORSTEP_COMPLAINTS[name]


def file_case(
    account_id: str,
    *,
    kind: str,
    category: str,
    text: str,
    by: str,
    at: datetime,
    from_portal: bool,
    attachments: list[tuple[str, bytes]] = (),
) -> Case:
    """Record a complaint or dispute and suspend collection while it is open. The answer is due
    within the kind's number of days (DOMAIN: 20 for a credit-report objection). Side effects:
    the Case and its attachments; the account's hold (shared with other open cases of the same
    hold kind); an audit entry (case.filed). Raises CaseError naming the field."""
    if kind not in CaseKind.values:
        raise CaseError(
            gettext_noop("unknown kind %(kind)s"),
            code="case.kind",
            field="kind",
            params={"kind": kind},
        )
    if category not in Category.values:
        raise CaseError(
            gettext_noop("unknown category %(category)s"),
            code="case.category",
            field="category",
            params={"category": category},
        )
    text = text.strip()
    if not 5 <= len(text) <= 4000:
        raise CaseError(
            gettext_noop("describe what happened in 5 to 4,000 characters"),
            code="case.text",
            field="text",
        )
    checked = []
    for name, content in attachments:
        try:
            checked.append((name, content, sniff(content, max_bytes=_cfg("attachment_max_bytes"))))
        except UploadRejected as exc:
            raise CaseError(
                gettext_noop("%(name)s was not accepted: %(reason)s"),
                code=exc.code,
                field="attachments",
                params={"name": name, "reason": exc},
            ) from exc
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None:
            raise CaseError(
                gettext_noop("no account %(account)s"),
                code="case.account",
                params={"account": account_id},
            )
        today = local_date(account, at)
        hold_kind = HOLD_FOR[kind]
        hold = next(
            (
                h
                for h in Hold.objects.filter(account=account, kind=hold_kind, since__lte=today)
                if h.is_open(today)
            ),
            None,
        )
        if hold is None:
            hold = place_hold(account.pk, kind=hold_kind, since=today, by=by)
        case = Case.objects.create(
            id=f"C-{uuid.uuid4().hex[:12]}",
            account=account,
            kind=kind,
            category=category,
            text=text,
            state=CaseState.OPEN,
            filed_by=by,
            filed_at=at,
            from_portal=from_portal,
            due_on=today + timedelta(days=_cfg("answer_days")[kind]),
            hold=hold,
        )
        digests = []
        for name, content, sniffed in checked:
            digest = hashlib.sha256(content).hexdigest()
            digests.append(digest)
            item = Attachment(
                case=case,
                name=name[-120:],
                content_type=sniffed.content_type,
                size=len(content),
                sha256=digest,
                uploaded_by=by,
                uploaded_at=at,
            )
            item.file.save(
                f"{case.pk}-{digest[:12]}.{sniffed.extension}", ContentFile(content), save=False
            )
            item.save()
        record(
            "case.filed",
            actor=by,
            obj=case,
            at=at,
            data={
                "account": account.pk,
                "kind": kind,
                "category": category,
                "due_on": case.due_on,
                "hold": hold.pk,
                "attachments": digests,
            },
        )
        return case


def answer_case(case_id: str, *, by: str, at: datetime, finding: str, answer: str) -> Case:
    """Answer a case with a finding the borrower will read. The account's hold closes today when
    no other open case shares it; collection may resume from tomorrow. Side effects: the case;
    the hold; an audit entry (case.answered, with whether it was late). Raises CaseError."""
    if finding not in Finding.values:
        raise CaseError(gettext_noop("choose a finding"), code="case.finding", field="finding")
    if len(answer.strip()) < 5:
        raise CaseError(
            gettext_noop("write the answer the borrower will read"),
            code="case.answer",
            field="answer",
        )
    with transaction.atomic():
        # The account first, then the case (docs/adr/0010); only the case's row, not the joined
        # borrower, region and hold.
        account_id = Case.objects.filter(pk=case_id).values_list("account_id", flat=True).first()
        if account_id is not None:
            locked_account(account_id)
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("account__borrower__region", "hold")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            raise CaseError(
                gettext_noop("no case %(case)s"), code="case.not_found", params={"case": case_id}
            )
        if case.state != CaseState.OPEN:
            raise CaseError(gettext_noop("this case is already answered"), code="case.answered")
        today = local_date(case.account, at)
        case.state, case.finding, case.answer = CaseState.ANSWERED, finding, answer.strip()
        case.answered_by, case.answered_at = by, at
        case.save()
        others = Case.objects.filter(hold=case.hold, state=CaseState.OPEN).exclude(pk=case.pk)
        if not others.exists() and case.hold.is_open(today):
            release_hold(case.hold, until=today, by=by, reason=f"case {case.pk} answered")
        record(
            "case.answered",
            actor=by,
            obj=case,
            at=at,
            data={"finding": finding, "due_on": case.due_on, "late": today > case.due_on},
        )
        return case
