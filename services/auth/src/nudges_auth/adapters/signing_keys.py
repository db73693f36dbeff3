"""The built-in issuer's signing keys: from ``JWT_SIGNING_KEYS`` in production, generated into
``JWT_KEYS_FILE`` in development (shared by every local process, kept across restarts, and
rotated every ``JWT_KEY_ROTATION_SECONDS``).

A key is Ed25519 (JWS ``EdDSA``, what new keys are: a signature costs some 50 µs of CPU
against well over a millisecond for RS256 with 2048 bits) or RSA (``RS256``, what older keys
and key files hold). The JWKS publishes each key with its own ``alg``, so during a rotation
from one kind to the other verifiers accept tokens of both; each verifier binds a key to its
``alg`` (:class:`nudges_kit.auth.JwtVerifier`)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from nudges_auth.domain.keys import KeySchedule, rotation_due
from nudges_auth.domain.keys import schedule as schedule_at
from nudges_kit.logging import get_logger

log = get_logger(__name__)
Clock = Callable[[], float]
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
Algorithm = Literal["EdDSA", "RS256"]
#: What new keys are.
DEFAULT_ALGORITHM: Algorithm = "EdDSA"


class InvalidSigningKeys(ValueError):
    """``JWT_SIGNING_KEYS`` (or the keys file) cannot be read."""


@dataclass(frozen=True)
class SigningKey:
    """One signing key (Ed25519 or RSA): its id, the private key, and when it starts signing."""

    kid: str
    private_key: PrivateKey
    not_before: float

    @classmethod
    def generate(cls, not_before: float, algorithm: Algorithm = DEFAULT_ALGORITHM) -> SigningKey:
        private: PrivateKey
        if algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(_thumbprint(private.public_key()), private, not_before)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(raw["private_key"].encode(), None)
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidSigningKeys(f"a signing key has no readable private_key: {exc}") from exc
        if not isinstance(private, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise InvalidSigningKeys("signing keys must be Ed25519 or RSA keys")
        return cls(
            str(raw.get("kid") or _thumbprint(private.public_key())),
            private,
            _timestamp(raw.get("not_before", 0)),
        )

    @property
    def algorithm(self) -> Algorithm:
        """The JWS ``alg`` this key signs with."""
        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "RS256"

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {"kid": self.kid, "private_key": pem.decode(), "not_before": self.not_before}

    def public_jwk(self) -> dict[str, Any]:
        jwk = _jwk_of(self.private_key.public_key())
        jwk.update(kid=self.kid, use="sig", alg=self.algorithm)
        return jwk

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` as a compact JWS signed with this key (its ``kid`` in the header)."""
        signing_input = b".".join((self._header, base64url_encode(orjson.dumps(claims))))
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            signature = self.private_key.sign(signing_input)
        else:
            signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return b".".join((signing_input, base64url_encode(signature))).decode()

    @functools.cached_property
    def _header(self) -> bytes:
        # The same for every token this key signs: encoded once.
        header = {"alg": self.algorithm, "kid": self.kid, "typ": "JWT"}
        return base64url_encode(orjson.dumps(header))


def _jwk_of(public: PublicKey) -> dict[str, Any]:
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(public))
    else:
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
    return jwk


def _thumbprint(public: PublicKey) -> str:
    """The RFC 7638 thumbprint of the public key: a stable ``kid``."""
    jwk = _jwk_of(public)
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"))
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


def _timestamp(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise InvalidSigningKeys(f"not_before {value!r} is not a time") from exc


class KeyRing:
    """The keys of the issuer: signs with the current key, publishes the JWKS."""

    def __init__(self, keys: list[SigningKey], clock: Clock = time.time) -> None:
        if not keys:
            raise InvalidSigningKeys("no signing key")
        self._keys = keys
        self._clock = clock

    def schedule(self) -> KeySchedule[SigningKey]:
        """The current, previous and upcoming keys at this moment."""
        return schedule_at(self._keys, self._clock())

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` signed with the current key (its ``kid`` in the header)."""
        return self.schedule().current.sign(claims)

    def jwks(self) -> dict[str, Any]:
        """The published keys: upcoming, current and previous."""
        return {"keys": [k.public_jwk() for k in self.schedule().published]}

    @property
    def current_kid(self) -> str:
        return self.schedule().current.kid


class FileKeyRing(KeyRing):
    """Keys in a JSON file that every local process shares. The first process to find the
    current key due generates the next one under a file lock; the others read the file
    again when it changes. Only the current and previous keys are kept."""

    def __init__(self, path: Path, rotation_seconds: float, clock: Clock = time.time) -> None:
        self._path = path
        self._rotation_seconds = rotation_seconds
        self._clock = clock
        self._mtime: int | None = None
        self._keys: list[SigningKey] = []
        self._thread_lock = threading.Lock()
        self._ensure_current()

    def schedule(self) -> KeySchedule[SigningKey]:
        self._ensure_current()
        return super().schedule()

    def _ensure_current(self) -> None:
        with self._thread_lock:
            self._reload_if_changed()
            now = self._clock()
            if self._keys and not rotation_due(
                schedule_at(self._keys, now).current, now, self._rotation_seconds
            ):
                return
            with self._file_lock():
                # Another process may have rotated while this one waited for the lock.
                self._reload_if_changed()
                if self._keys and not rotation_due(
                    schedule_at(self._keys, now).current, now, self._rotation_seconds
                ):
                    return
                new = SigningKey.generate(not_before=now)
                kept = schedule_at(self._keys, now).current if self._keys else None
                self._keys = [k for k in (kept, new) if k is not None]
                self._write()
                log.info("signing key rotated", kid=new.kid, keys_file=str(self._path))

    def _reload_if_changed(self) -> None:
        try:
            mtime = self._path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._mtime:
            return
        try:
            raw = json.loads(self._path.read_text())
            self._keys = [SigningKey.from_json(k) for k in raw["keys"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidSigningKeys(f"{self._path}: {exc}") from exc
        self._mtime = mtime

    def _write(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"keys": [k.to_json() for k in self._keys]}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._path)
        self._mtime = self._path.stat().st_mtime_ns

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self._path.with_name(self._path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def keys_from_setting(value: str) -> list[SigningKey]:
    """The keys of ``JWT_SIGNING_KEYS``: a JSON list of ``{"kid", "private_key", "not_before"}``
    (``kid`` defaults to the key's thumbprint, ``not_before`` to always)."""
    try:
        raw = json.loads(value)
    except ValueError as exc:
        raise InvalidSigningKeys(f"JWT_SIGNING_KEYS is not JSON: {exc}") from exc
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise InvalidSigningKeys("JWT_SIGNING_KEYS must be a non-empty JSON list of keys")
    return [SigningKey.from_json(item) for item in raw]


def key_ring_for(
    signing_keys: str, keys_file: Path, rotation_seconds: float, clock: Clock = time.time
) -> KeyRing:
    """The key ring of the settings: the configured keys when set, else the keys file."""
    if signing_keys.strip():
        ring = KeyRing(keys_from_setting(signing_keys), clock)
        now = clock()
        current = ring.schedule()
        if rotation_due(current.current, now, rotation_seconds) and not current.upcoming:
            log.warning(
                "signing key is past its rotation period: add a new key to JWT_SIGNING_KEYS",
                kid=current.current.kid,
            )
        return ring
    return FileKeyRing(keys_file, rotation_seconds, clock)
