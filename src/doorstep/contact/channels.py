"""The outside world a message leaves through: one small backend per channel.

Every backend has `send(to, text, *, reference) -> SendResult`. The reference is the permit id,
one to one with the message: an HTTP provider receives it as the idempotency key (a real SMS
gateway's client reference), so a message re-sent after a crash is not delivered twice. A backend
whose provider deduplicates by it says so with `idempotent = True`; only those are asked again
about a message stuck while being sent (contact.domain.resend_stuck). Backends are chosen by
settings (dotted paths):

    DOORSTEP_SMS_BACKEND    default doorstep.contact.channels.OutboxBackend
    DOORSTEP_EMAIL_BACKEND  default doorstep.contact.channels.OutboxBackend
    DOORSTEP_PUSH_BACKEND   default doorstep.contact.channels.OutboxBackend

Nothing here opens a connection at import time.
"""

import json
import sqlite3
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from doorstep import pii

OUTBOX = "doorstep.contact.channels.OutboxBackend"


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    provider_id: str | None = None
    error: str | None = None


class SmsBackend(Protocol):
    def send(self, to: str, text: str, *, reference: str) -> SendResult: ...


class EmailBackend(Protocol):
    def send(self, to: str, text: str, *, reference: str) -> SendResult: ...


class AppPushBackend(Protocol):
    def send(self, to: str, text: str, *, reference: str) -> SendResult: ...


class OutboxBackend:
    """DEVELOPMENT AND DEMO ONLY: nothing leaves the machine. The message stays in the outbox
    table (contact.OutboundMessage), marked sent, with a provider id beginning `outbox-`."""

    # Nothing is delivered, so asking again cannot deliver twice.
    idempotent = True

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        return SendResult(True, f"outbox-{reference}")


class ConsoleBackend:
    """Prints the message (development): nothing leaves the machine."""

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        stream = self.stream or sys.stdout
        stream.write(f"[message {reference} to {to}]\n{text}\n")
        return SendResult(True, f"console-{reference}")


SANDBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
    reference TEXT PRIMARY KEY, provider_id TEXT NOT NULL, recipient TEXT NOT NULL,
    text TEXT NOT NULL, delivered_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS request (
    id INTEGER PRIMARY KEY, reference TEXT NOT NULL, at TEXT NOT NULL, repeated INTEGER NOT NULL);
"""


class SandboxSmsBackend:
    """SANDBOX — NOTHING LEAVES THE MACHINE. A stand-in SMS provider with a provider's memory: it
    records what it delivered in its own file (DOORSTEP_SMS_SANDBOX_FILE, an SQLite file outside
    doorstep's database, so a rolled-back or killed sender cannot take a delivery back), recipients
    masked. Like a real gateway it deduplicates by the client reference: asked again under a
    reference it has seen, it delivers nothing and answers with the first send's id. Every request
    is logged with whether it was a repeat. DOORSTEP_SMS_SANDBOX_LATENCY_MS holds its answer back
    after delivering (the network's way back), the window in which a sender can die knowing
    nothing of a delivery that happened."""

    idempotent = True

    def __init__(self, path: str | None = None, *, latency_ms: int | None = None):
        self.path = path or settings.DOORSTEP_SMS_SANDBOX_FILE
        self.latency_ms = (
            settings.DOORSTEP_SMS_SANDBOX_LATENCY_MS if latency_ms is None else latency_ms
        )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.executescript(SANDBOX_SCHEMA)
        return db

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        at = timezone.now().isoformat()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO delivery (reference, provider_id, recipient, text, delivered_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING",
                (reference, f"sandbox-{reference}", pii.mask_phone(to), text, at),
            )
            repeated = db.execute("SELECT changes() = 0").fetchone()[0]
            db.execute(
                "INSERT INTO request (reference, at, repeated) VALUES (?, ?, ?)",
                (reference, at, repeated),
            )
            (provider_id,) = db.execute(
                "SELECT provider_id FROM delivery WHERE reference = ?", (reference,)
            ).fetchone()
            db.execute("COMMIT")
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return SendResult(True, provider_id)

    def deliveries(self) -> list[dict]:
        """What the provider delivered, once per reference, in the order it did."""
        return self._rows("SELECT * FROM delivery ORDER BY delivered_at, reference")

    def requests(self) -> list[dict]:
        """Every request it received, repeats included, in order."""
        return self._rows("SELECT * FROM request ORDER BY id")

    def _rows(self, sql: str) -> list[dict]:
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql)]


# (url, body, headers, timeout) -> (HTTP status, response body). Tests pass a fake.
Transport = Callable[[str, bytes, dict[str, str], float], tuple[int, bytes]]


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _HttpJsonBackend:
    url_setting = ""
    token_setting = ""
    # The provider receives the reference as its Idempotency-Key.
    idempotent = True

    def __init__(self, transport: Transport | None = None, *, timeout: float | None = None):
        self.transport = transport or urllib_transport
        self.timeout = timeout or float(getattr(settings, "DOORSTEP_CHANNEL_TIMEOUT", 10))

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        url = getattr(settings, self.url_setting, "")
        if not url:
            return SendResult(False, error=f"{self.url_setting} is not set")
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {getattr(settings, self.token_setting, '')}",
            "Idempotency-Key": reference,
        }
        body = json.dumps({"to": to, "text": text, "reference": reference}).encode()
        try:
            status, raw = self.transport(url, body, headers, self.timeout)
        except OSError as exc:  # timeouts and refused connections
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
        if not 200 <= status < 300:
            return SendResult(False, error=f"HTTP {status}: {raw[:200].decode(errors='replace')}")
        try:
            provider_id = str(json.loads(raw or b"{}").get("id") or reference)
        except ValueError:
            provider_id = reference
        return SendResult(True, provider_id)


class HttpSmsBackend(_HttpJsonBackend):
    """POST {"to", "text", "reference"} as JSON to DOORSTEP_SMS_URL with DOORSTEP_SMS_TOKEN."""

    url_setting = "DOORSTEP_SMS_URL"
    token_setting = "DOORSTEP_SMS_TOKEN"  # noqa: S105 (a setting name)


class HttpPushBackend(_HttpJsonBackend):
    """App push as a webhook: POST JSON to DOORSTEP_PUSH_URL with DOORSTEP_PUSH_TOKEN."""

    url_setting = "DOORSTEP_PUSH_URL"
    token_setting = "DOORSTEP_PUSH_TOKEN"  # noqa: S105 (a setting name)


class DjangoEmailBackend:
    """Email through Django's configured email backend (EMAIL_BACKEND; locmem in tests). SMTP
    knows no client reference: a message stuck while being sent is not asked about again."""

    idempotent = False

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        from django.core.mail import EmailMessage

        message = EmailMessage(
            subject=getattr(settings, "DOORSTEP_EMAIL_SUBJECT", "Your account"),
            body=text,
            from_email=None,
            to=[to],
            headers={"X-Doorstep-Reference": reference},
        )
        try:
            sent = message.send(fail_silently=False)
        except OSError as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
        if not sent:
            return SendResult(False, error="the email backend sent nothing")
        return SendResult(True, f"email-{reference}")


_SETTING = {"sms": "DOORSTEP_SMS_BACKEND", "email": "DOORSTEP_EMAIL_BACKEND", "app": "DOORSTEP_PUSH_BACKEND"}  # fmt: skip


def backend_for(channel: str):
    """A new instance of the backend the settings name for this channel (sms, email, app)."""
    return import_string(getattr(settings, _SETTING[channel], OUTBOX))()
