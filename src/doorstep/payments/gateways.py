"""The payment service a borrower pays through, behind one small interface (the outside world).

    start(intent, return_url) -> the URL the borrower is sent to
    parse_callback(body, signature) -> Callback, or GatewayError when the signature is wrong

`DOORSTEP_PAYMENT_GATEWAY` names the class (dotted path). The default is the sandbox: a page of
doorstep's own, clearly labelled, where the borrower chooses "paid" or "failed"; it signs its
callback exactly as a real gateway would, so the posting path is the real one.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string


class GatewayError(Exception):
    pass


@dataclass(frozen=True)
class Callback:
    intent_id: str
    succeeded: bool
    paid_at: datetime
    gateway_ref: str


class Gateway(Protocol):
    name: str
    sandbox: bool

    def start(self, intent, *, return_url: str) -> str: ...

    def parse_callback(self, body: bytes, signature: str) -> Callback: ...


class SandboxGateway:
    """SANDBOX — NO MONEY MOVES. For the demo and tests only."""

    name = "sandbox"
    sandbox = True

    def _key(self) -> bytes:
        return hashlib.sha256(f"sandbox-gateway:{settings.SECRET_KEY}".encode()).digest()

    def start(self, intent, *, return_url: str) -> str:
        return reverse("pay-sandbox", args=[intent.pk])

    def sign(self, body: bytes) -> str:
        return hmac.new(self._key(), body, hashlib.sha256).hexdigest()

    def callback_body(self, intent_id: str, *, succeeded: bool, at: datetime) -> bytes:
        payload = {
            "intent": intent_id,
            "status": "paid" if succeeded else "failed",
            "paid_at": at.isoformat(),
            "ref": f"sbx-{hashlib.sha256(intent_id.encode()).hexdigest()[:16]}",
        }
        return json.dumps(payload, sort_keys=True).encode()

    def parse_callback(self, body: bytes, signature: str) -> Callback:
        if not hmac.compare_digest(self.sign(body), signature or ""):
            raise GatewayError("bad signature")
        payload = json.loads(body)
        return Callback(
            intent_id=payload["intent"],
            succeeded=payload["status"] == "paid",
            paid_at=datetime.fromisoformat(payload["paid_at"]),
            gateway_ref=payload["ref"],
        )


def gateway() -> Gateway:
    return import_string(settings.DOORSTEP_PAYMENT_GATEWAY)()
