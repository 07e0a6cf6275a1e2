"""What the borrower may download: the account record (every payment, charge, message, call,
visit, promise, arrangement, complaint and hold) and, once settled, the settlement certificate.
Built here from the domain apps' rows into the letters package's documents."""

import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from doorstep.ledger.domain import local_date
from doorstep.ledger.enums import AccountStatus, EntryKind
from doorstep.ledger.models import Account, LedgerEntry
from doorstep.ledger.privacy import configured_cipher
from doorstep.ledger.queries import account_position
from doorstep.letters.documents import BorrowerRecord, SettlementCertificate
from doorstep.money import yuan_display
from doorstep.pii import mask_national_id, mask_phone
from doorstep.strategy.engine.explain import STAGE_NAMES
from doorstep.strategy.models import Decision
from doorstep.timeline import record_events

# The stages in the words a borrower reads (the staff's names say 催收, which the borrower's pages
# do not).
BORROWER_STAGE_NAMES = {
    "none": ("no action", "无需处理"),
    "pre_due": ("payment reminder", "到期提醒"),
    "reminder": ("overdue reminders", "逾期还款提醒"),
    "phone": ("phone follow-up", "电话联系"),
    "home_visit": ("home visit", "上门拜访"),
    "legal": ("agency or legal referral", "委外或诉讼"),
    "suspended": ("on hold", "暂停处理"),
    "arrangement": ("repayment arrangement", "还款安排"),
}


def stage_label(stage: str, zh: bool) -> str:
    en, chinese = BORROWER_STAGE_NAMES.get(stage, STAGE_NAMES.get(stage, (stage, stage)))
    return chinese if zh else en


def _language(zh: bool) -> str:
    return "zh-hans" if zh else "en"


def _lender() -> tuple[str, str]:
    return settings.DOORSTEP_VISITS["lender_name"], settings.DOORSTEP_VISITS["lender_phone"]


def borrower_record(account: Account, *, zh: bool, at: datetime) -> BorrowerRecord:
    borrower = account.borrower
    zone = ZoneInfo(borrower.region.time_zone)
    today = local_date(account, at)
    position = account_position(account, today)
    decision = Decision.objects.filter(account=account).order_by("-as_of").first()
    lender, phone = _lender()
    with translation.override(_language(zh)):
        stage = stage_label(decision.stage, zh) if decision else stage_label("none", zh)
        if account.status == AccountStatus.SETTLED:
            stage = _("Settled")
        return BorrowerRecord(
            reference=f"RC-{account.pk}-{today:%Y%m%d}",
            language="zh" if zh else "en",
            lender_name=lender,
            lender_phone=phone,
            generated_at=at.astimezone(zone),
            borrower_name=borrower.name,
            masked_phone=mask_phone(configured_cipher().decrypt(borrower.phone_encrypted)),
            account_id=account.pk,
            product_label=str(account.get_product_display()),
            opened_on=account.opened_on,
            principal_cents=account.principal_cents,
            overdue_cents=position.overdue,
            outstanding_cents=position.outstanding,
            dpd=position.dpd,
            stage_label=str(stage),
            events=tuple(record_events(account, zone)),
        )


def _certificate_facts(account: Account) -> dict:
    totals = dict(
        LedgerEntry.objects.filter(account=account, kind__in=[EntryKind.PAYMENT, EntryKind.WAIVER])
        .values_list("kind")
        .annotate(total=Sum("amount_cents"))
    )
    return {
        "reference": f"SC-{account.pk}-{account.settled_on:%Y%m%d}",
        "account": account.pk,
        "borrower": account.borrower_id,
        "principal_cents": account.principal_cents,
        "opened_on": account.opened_on.isoformat(),
        "settled_on": account.settled_on.isoformat(),
        "paid_cents": totals.get(EntryKind.PAYMENT, 0),
        "waived_cents": totals.get(EntryKind.WAIVER, 0),
    }


def _fingerprint(facts: dict) -> str:
    keyed = json.dumps({**facts, "key": settings.SECRET_KEY[:16]}, sort_keys=True)
    return hashlib.sha256(keyed.encode()).hexdigest()


def settlement_certificate(account: Account, *, zh: bool, at: datetime) -> SettlementCertificate:
    """The settlement certificate (结清证明) of a settled account; raises ValueError otherwise."""
    if account.status != AccountStatus.SETTLED or account.settled_on is None:
        raise ValueError("the account is not settled")
    facts = _certificate_facts(account)
    fingerprint = _fingerprint(facts)
    lender, phone = _lender()
    borrower = account.borrower
    verify = reverse("certificate-check", args=[facts["reference"]])
    with translation.override(_language(zh)):
        return SettlementCertificate(
            reference=facts["reference"],
            language="zh" if zh else "en",
            lender_name=lender,
            lender_phone=phone,
            issued_on=max(local_date(account, at), account.settled_on),
            borrower_name=borrower.name,
            masked_national_id=mask_national_id(
                configured_cipher().decrypt(borrower.national_id_encrypted)
            ),
            account_id=account.pk,
            product_label=str(account.get_product_display()),
            opened_on=account.opened_on,
            principal_cents=account.principal_cents,
            settled_on=account.settled_on,
            total_paid_cents=facts["paid_cents"],
            total_waived_cents=facts["waived_cents"],
            verify_url=f"{settings.DOORSTEP_PUBLIC_URL}{verify}?f={fingerprint[:16]}",
            fingerprint=fingerprint,
        )


def certificate_facts(reference: str, fingerprint_start: str) -> dict | None:
    """What a genuine certificate with this reference states (masked), or None. The fingerprint
    printed on it must match: a reference alone, guessed, tells nothing."""
    parts = reference.split("-")
    if len(parts) < 3 or parts[0] != "SC" or len(fingerprint_start) < 16:
        return None
    account = (
        Account.objects.select_related("borrower")
        .filter(pk="-".join(parts[1:-1]), status=AccountStatus.SETTLED)
        .first()
    )
    if account is None or account.settled_on is None:
        return None
    facts = _certificate_facts(account)
    if facts["reference"] != reference or not _fingerprint(facts).startswith(fingerprint_start):
        return None
    name = account.borrower.name
    return {
        "account": account.pk,
        "borrower": name[:1] + "*" * (len(name) - 1),
        "settled_on": account.settled_on,
        "paid": yuan_display(facts["paid_cents"]),
    }
