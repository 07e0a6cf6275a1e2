"""The outside world a message leaves through: one small backend per channel.

Every backend has `send(to, text, *, reference) -> SendResult`. The reference is the permit id:
an HTTP provider receives it as the idempotency key, so a message re-sent after a crash is not
delivered twice. Backends are chosen by settings (dotted paths):

    DOORSTEP_SMS_BACKEND    default doorstep.contact.channels.OutboxBackend
    DOORSTEP_EMAIL_BACKEND  default doorstep.contact.channels.OutboxBackend
    DOORSTEP_PUSH_BACKEND   default doorstep.contact.channels.OutboxBackend

Nothing here opens a connection at import time.
"""

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

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
    """Email through Django's configured email backend (EMAIL_BACKEND; locmem in tests)."""

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
