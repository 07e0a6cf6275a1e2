"""Personal data at rest (DOMAIN §9): encryption, keyed lookup hashes, masking.

National ID numbers and phone numbers are stored only as AES-GCM ciphertext plus an HMAC of the
normalised value, so an exact lookup ("find the borrower with this phone") needs no decryption and
a stolen database yields neither. Pure: the key is passed in, nothing here touches the database.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


class PiiKeyError(ValueError):
    code = "pii.bad_key"


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


@dataclass(frozen=True)
class PiiCipher:
    """Encrypts, decrypts and hashes identifying values with one 256-bit master key."""

    key: bytes

    @classmethod
    def from_text(cls, text: str) -> "PiiCipher":
        try:
            key = base64.urlsafe_b64decode(text.strip())
        except ValueError as exc:
            raise PiiKeyError("DOORSTEP_PII_KEY is not valid base64") from exc
        if len(key) != 32:
            raise PiiKeyError("DOORSTEP_PII_KEY must decode to 32 bytes")
        return cls(key)

    @property
    def _enc_key(self) -> bytes:
        return hashlib.sha256(b"doorstep-pii-enc" + self.key).digest()

    @property
    def _hash_key(self) -> bytes:
        return hashlib.sha256(b"doorstep-pii-hash" + self.key).digest()

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._enc_key).encrypt(nonce, value.encode(), None)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        if not token.startswith(_PREFIX):
            raise PiiKeyError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        return AESGCM(self._enc_key).decrypt(raw[:12], raw[12:], None).decode()

    def lookup_hash(self, value: str) -> str:
        """Keyed hash of the normalised value, for exact lookups without decrypting."""
        return hmac.new(self._hash_key, normalise(value).encode(), hashlib.sha256).hexdigest()

    def batch(self, values: list[str]) -> tuple[list[str], list[str]]:
        """Encrypt and hash many values at once (one AESGCM object: the import's hot path)."""
        aes = AESGCM(self._enc_key)
        hash_key = self._hash_key
        tokens, hashes = [], []
        for value in values:
            nonce = os.urandom(12)
            sealed = nonce + aes.encrypt(nonce, value.encode(), None)
            tokens.append(_PREFIX + base64.urlsafe_b64encode(sealed).decode())
            hashes.append(hmac.new(hash_key, normalise(value).encode(), hashlib.sha256).hexdigest())
        return tokens, hashes


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def mask_national_id(value: str) -> str:
    """4403**********1234: region prefix and last four only."""
    value = normalise(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    value = normalise(value)
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
