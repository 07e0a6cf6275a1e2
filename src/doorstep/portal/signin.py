"""Sign-in by phone number and a one-time code sent by SMS (DOMAIN §7).

What it refuses, and how: at most `codes_per_hour` codes per number and `client_codes_per_hour`
per client; a code lives `code_minutes` and allows `attempts` tries, then it is dead. The answer to
"send me a code" is the same whether or not the number is a borrower's (no enumeration), and the
same work is done either way, except that no SMS leaves for an unknown number.

The code goes straight to the SMS backend, not through the collection outbox: it is a message the
borrower asked for this minute, not a collection contact, and the guard's hours and caps do not
apply to it. It is logged in the audit trail with the number hashed.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.contact.channels import OUTBOX, backend_for
from doorstep.errors import UserError
from doorstep.ledger.models import Borrower
from doorstep.ledger.privacy import configured_cipher
from doorstep.portal.models import SignInCode


def _cfg(name: str):
    return settings.DOORSTEP_PORTAL[name]


class SignInRefused(UserError):
    pass


def normalise_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _code_hash(phone_hash: str, code: str) -> str:
    key = hashlib.sha256(f"portal-code:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def client_hash(address: str) -> str:
    return configured_cipher().lookup_hash(f"client:{address}")


@dataclass(frozen=True)
class CodeSent:
    """What the page may say. `demo_code` is set only when SMS goes to the local outbox (nothing
    leaves the machine), so the demo can be used; never with a real SMS backend."""

    demo_code: str | None


def send_code(phone: str, *, client: str, at: datetime) -> CodeSent:
    """Send a sign-in code to the number if it is a borrower's. Raises SignInRefused when a limit
    is reached (the same for known and unknown numbers)."""
    number = normalise_phone(phone)
    if not 7 <= len(number) <= 15:
        raise SignInRefused(gettext_noop("enter your mobile number"), code="signin.phone")
    phone_hash = configured_cipher().lookup_hash(number)
    hour_ago = at - timedelta(hours=1)
    with transaction.atomic():
        recent = SignInCode.objects.filter(created_at__gte=hour_ago)
        if recent.filter(phone_hash=phone_hash).count() >= _cfg("codes_per_hour") or recent.filter(
            client=client
        ).count() >= _cfg("client_codes_per_hour"):
            record("portal.code_limited", actor="portal", at=at, data={"phone": phone_hash})
            raise SignInRefused(
                gettext_noop("too many codes asked for: try again in an hour"),
                code="signin.limited",
            )
        known = Borrower.objects.filter(phone_hash=phone_hash).exists()
        code = f"{secrets.randbelow(10**6):06d}"
        row = SignInCode.objects.create(
            phone_hash=phone_hash,
            client=client,
            code_hash=_code_hash(phone_hash, code),
            known=known,
            created_at=at,
            expires_at=at + timedelta(minutes=_cfg("code_minutes")),
        )
        record(
            "portal.code_sent", actor="portal", at=at, data={"phone": phone_hash, "known": known}
        )
    if not known:
        return CodeSent(None)
    text = (
        f"【{settings.DOORSTEP_VISITS['lender_name']}】您的登录验证码是 {code}，"
        f"{_cfg('code_minutes')} 分钟内有效。请勿告诉任何人。"
        f" Your sign-in code is {code}; do not share it."
    )
    backend_for("sms").send(number, text, reference=f"signin-{row.pk}")
    outbox = getattr(settings, "DOORSTEP_SMS_BACKEND", OUTBOX) == OUTBOX
    return CodeSent(code if outbox else None)


def check_code(phone: str, code: str, *, at: datetime) -> list[str]:
    """The borrower ids the number signs in to, when the code is right. Every try counts; the
    newest live code is the one tried. Raises SignInRefused (the same words for every failure)."""
    number = normalise_phone(phone)
    phone_hash = configured_cipher().lookup_hash(number)
    wrong = SignInRefused(gettext_noop("the code is wrong or has expired"), code="signin.code")
    with transaction.atomic():
        row = (
            SignInCode.objects.select_for_update()
            .filter(phone_hash=phone_hash, used_at__isnull=True, expires_at__gt=at)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= _cfg("attempts"):
            raise wrong
        row.attempts += 1
        row.save(update_fields=["attempts"])
        right = row.known and hmac.compare_digest(row.code_hash, _code_hash(phone_hash, code))
        if not right:
            record("portal.code_wrong", actor="portal", at=at, data={"phone": phone_hash})
    # Raised after the commit: a wrong try must count.
    if not right:
        raise wrong
    with transaction.atomic():
        if not SignInCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=at):
            raise wrong  # the same code used twice at once
        people = Borrower.objects.filter(phone_hash=phone_hash)
        if len({p.national_id_hash for p in people}) > 1:
            # One number, two people: signing in would show one the other's accounts.
            record("portal.ambiguous_phone", actor="portal", at=at, data={"phone": phone_hash})
            raise SignInRefused(
                gettext_noop("this number is on more than one person's file: please call us"),
                code="signin.ambiguous",
            )
        ids = [p.pk for p in people]
        record("portal.signed_in", actor="portal", at=at, data={"borrowers": ids})
        return ids
