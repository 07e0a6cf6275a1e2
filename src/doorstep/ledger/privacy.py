"""The installation's personal-data cipher (the key comes from settings or var/)."""

from django.conf import settings

from doorstep.pii import PiiCipher, new_key
from doorstep.runtime import read_or_create_secret

_configured: PiiCipher | None = None


def configured_cipher() -> PiiCipher:
    """The cipher for this installation: DOORSTEP_PII_KEY, else a demo key kept in var/pii_key."""
    global _configured
    if _configured is None:
        text = settings.DOORSTEP_PII_KEY or read_or_create_secret("pii_key", new_key)
        _configured = PiiCipher.from_text(text)
    return _configured
