"""The plain rules: codes, attempts, rate windows, Accept-Language, PKCE, claims, key schedule."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from nudges_auth.adapters.identity import MachineAccounts
from nudges_auth.domain import pkce
from nudges_auth.domain.keys import NoSigningKey, rotation_due, schedule
from nudges_auth.domain.locale import choose_locale, parse_accept_language
from nudges_auth.domain.otp import IssuedCode, judge_attempt, minutes_valid, new_code
from nudges_auth.domain.rate_limit import Window
from nudges_auth.domain.tokens import TokenSubject, access_claims

SECRET = b"k"


def test_codes_are_six_random_digits() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190


def test_a_code_is_kept_as_a_keyed_hash_bound_to_role_and_number() -> None:
    record, code = IssuedCode.issue(SECRET, "client", "h1", "en", 0.0)
    assert code not in record.to_bytes().decode()
    assert record.matches(SECRET, "client", "h1", code)
    assert not record.matches(SECRET, "subscriber", "h1", code)
    assert not record.matches(SECRET, "client", "h2", code)
    assert not record.matches(b"other key", "client", "h1", code)
    assert IssuedCode.from_bytes(record.to_bytes()) == record


def test_attempts_are_counted_before_comparing_and_the_fifth_is_the_last() -> None:
    verdicts = [judge_attempt(n, 5) for n in range(1, 8)]
    assert [v.may_compare for v in verdicts] == [True] * 5 + [False] * 2
    assert [v.last_chance for v in verdicts[:5]] == [False] * 4 + [True]


def test_the_sms_states_whole_minutes() -> None:
    assert minutes_valid(300) == 5
    assert minutes_valid(61) == 2
    assert minutes_valid(1) == 1


def test_a_window_counts_from_its_first_request() -> None:
    window = Window("w", limit=3, seconds=600)
    assert [window.allows(n) for n in (1, 3, 4)] == [True, True, False]
    assert window.retry_after(1000.0, 1000.0 + 599.2) == 1
    assert window.retry_after(1000.0, 1100.0) == 500
    assert window.retry_after(None, 1100.0) == 600
    # From what the window's counter has left, as the cache reports it.
    assert window.retry_after_remaining(499.3) == 500
    assert window.retry_after_remaining(0.2) == 1
    assert window.retry_after_remaining(None) == 600


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr-CA"),
        ("en;q=0.5, es-mx;q=0.9", "es-MX"),
        ("ja, de;q=0.3", "de"),
        ("ja, zh", None),
        ("*", None),
        ("de;q=0, en;q=0.1", "en"),
        ("es;q=abc, fr;q=0.2", "fr"),
        ("", None),
        (None, None),
    ],
)
def test_the_language_is_the_most_preferred_supported_one(
    header: str | None, expected: str | None
) -> None:
    assert choose_locale(header, ("en", "es", "fr", "de")) == expected


def test_accept_language_keeps_order_among_equal_weights() -> None:
    assert parse_accept_language("de, fr;q=0.8, es, en;q=0.8") == ["de", "es", "fr", "en"]


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    verifier = pkce.new_verifier()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert pkce.challenge_s256(verifier) == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce.new_state() != pkce.new_state()
    # The example of RFC 7636, appendix B.
    rfc = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.challenge_s256(rfc) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_claims_of_a_client_name_its_client_and_never_the_clear_number() -> None:
    who = TokenSubject("user-1", "client", "es", "hash", "ciphertext")
    claims = access_claims(who, issuer="iss", audience="nudges", now=100, ttl_seconds=900)
    assert claims["client_id"] == "user-1"
    assert claims["roles"] == ["client"]
    assert (claims["iat"], claims["exp"]) == (100, 1000)
    assert claims["phone_hash"] == "hash"
    assert claims["phone_ct"] == "ciphertext"
    assert set(claims) == {
        "iss", "aud", "sub", "roles", "locale", "iat", "exp", "jti", "phone_hash", "phone_ct",
        "client_id",
    }  # fmt: skip
    subscriber = access_claims(
        TokenSubject("user-2", "subscriber"), issuer="i", audience="a", now=0, ttl_seconds=1
    )
    assert "client_id" not in subscriber
    assert "phone_hash" not in subscriber


@dataclass(frozen=True)
class _Key:
    name: str
    not_before: float


def test_the_newest_active_key_signs_and_its_predecessor_stays_published() -> None:
    old, current, next_ = _Key("old", 0), _Key("current", 100), _Key("next", 200)
    at_150 = schedule([next_, old, current], 150)
    assert at_150.current == current
    assert at_150.previous == old
    assert at_150.published == [next_, current, old]
    assert schedule([old], 5).published == [old]
    with pytest.raises(NoSigningKey):
        schedule([next_], 10)
    assert rotation_due(current, 100 + 60, 60)
    assert not rotation_due(current, 100 + 59, 60)


def test_machine_accounts_need_their_exact_secret() -> None:

    accounts = MachineAccounts({"consumers": SecretStr("s3cret")})
    assert accounts.authenticate("consumers", "s3cret")
    assert not accounts.authenticate("consumers", "s3cret ")
    assert not accounts.authenticate("webhooks", "s3cret")
    assert not accounts.authenticate("unknown", "\0unknown machine\0")
