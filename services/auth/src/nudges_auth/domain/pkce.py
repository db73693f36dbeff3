"""PKCE (RFC 7636) with S256, and the OIDC state."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_state() -> str:
    """An unguessable state value binding the callback to the login that started it."""
    return secrets.token_urlsafe(32)


def new_verifier() -> str:
    """A code verifier: 64 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(48)


def challenge_s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
