"""Phone numbers: E.164 normalisation, AES-GCM encryption and a keyed hash for lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import phonenumbers
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def normalize(raw: str, default_region: str = "US") -> str:
    """``raw`` in E.164 form; raises :class:`InvalidPhoneNumber` with a reason."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """``+1•••••4567``: enough to recognise a number, not to use it."""
    return f"{e164[:2]}{'•' * max(0, len(e164) - 6)}{e164[-4:]}"


class PhoneVault:
    """Encrypts, decrypts and hashes phone numbers with the platform keys."""

    def __init__(self, encryption_key_b64: str, hash_key: str) -> None:
        key = base64.b64decode(encryption_key_b64)
        if len(key) not in (16, 24, 32):
            raise ValueError("the phone encryption key must be 16, 24 or 32 bytes, base64 encoded")
        self._aead = AESGCM(key)
        self._hash_key = hash_key.encode()

    def hash(self, e164: str) -> str:
        """The keyed hash of a normalised number: the lookup key everywhere."""
        return hmac.new(self._hash_key, e164.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, e164: str) -> str:
        """The number encrypted with a fresh nonce, base64 encoded."""
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, e164.encode(), None)).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The number inside ``ciphertext``."""
        raw = base64.b64decode(ciphertext)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()
