"""Phone numbers: normalised, encrypted, hashed, masked."""

from __future__ import annotations

import base64

import pytest

from nudges_kit.phone import InvalidPhoneNumber, PhoneVault, mask, normalize

KEY = base64.b64encode(b"k" * 32).decode()


def test_normalises_to_e164() -> None:
    assert normalize("(415) 555-0123") == "+14155550123"
    assert normalize("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "hello", "123", "+1 000 000 0000"])
def test_rejects_what_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize(raw)


def test_encryption_round_trips_and_hash_is_stable() -> None:
    vault = PhoneVault(KEY, "hash-key")
    a, b = vault.encrypt("+14155550123"), vault.encrypt("+14155550123")
    assert a != b  # a fresh nonce each time
    assert vault.decrypt(a) == "+14155550123"
    assert vault.hash("+14155550123") == vault.hash("+14155550123")
    assert vault.hash("+14155550123") != PhoneVault(KEY, "other").hash("+14155550123")
    assert "4155550123" not in a


def test_mask_shows_country_and_last_four() -> None:
    assert mask("+14155550123") == "+1••••••0123"
