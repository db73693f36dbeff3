"""Phone login: a six-digit code by SMS, then the code for a session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from nudges_auth.adapters.cache_stores import OtpStore, RateLimiter
from nudges_auth.adapters.events import BrokerUnavailable, EventPublisher
from nudges_auth.adapters.identity import IdentityProvider, IdentityUnavailable
from nudges_auth.adapters.user_directory import (
    DirectoryUnavailable,
    PhoneIdentity,
    UserDirectory,
)
from nudges_auth.domain.locale import choose_locale
from nudges_auth.domain.otp import IssuedCode, LoginRole, judge_attempt, minutes_valid
from nudges_auth.domain.rate_limit import Window
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.metrics import LOGINS, OTP_REQUESTS
from nudges_auth.service_layer.errors import (
    CodeRejected,
    Forbidden,
    InvalidPhone,
    RateLimited,
    Unavailable,
)
from nudges_auth.service_layer.sessions import IssuedSession, Sessions
from nudges_kit.events.catalog.auth import LoginSucceededData, login_succeeded
from nudges_kit.events.catalog.sms import OutboundSmsData, sms_outbound
from nudges_kit.localization import OTP_CODE, LocalizationClient, LocalizationError
from nudges_kit.logging import get_logger
from nudges_kit.phone import InvalidPhoneNumber, PhoneVault, normalize

log = get_logger(__name__)

NEW_CODE = "request a new code"


@dataclass(frozen=True)
class OtpPolicy:
    ttl_seconds: int
    max_attempts: int
    per_phone: Window
    per_ip: Window
    supported_locales: tuple[str, ...]
    default_locale: str
    default_region: str


@dataclass(frozen=True)
class CodeRequested:
    expires_in: int
    #: The clear code, only to be shown when ``OTP_ECHO`` is on (development).
    code: str | None


class OtpLogin:
    """``request_code`` sends a code; ``verify`` turns the right code into a session."""

    def __init__(
        self,
        *,
        policy: OtpPolicy,
        mac_secret: bytes,
        codes: OtpStore,
        limiter: RateLimiter,
        vault: PhoneVault,
        l10n: LocalizationClient,
        publisher: EventPublisher,
        directory: UserDirectory,
        identity: IdentityProvider,
        sessions: Sessions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy
        self._secret = mac_secret
        self._codes = codes
        self._limiter = limiter
        self._vault = vault
        self._l10n = l10n
        self._publisher = publisher
        self._directory = directory
        self._identity = identity
        self._sessions = sessions
        self._clock = clock

    def _normalize(self, raw: str) -> str:
        try:
            return normalize(raw, self._policy.default_region)
        except InvalidPhoneNumber as exc:
            raise InvalidPhone(
                f"phone: {exc}; write it in international form, e.g. +14155550123"
            ) from exc

    async def request_code(
        self, raw_phone: str, role: LoginRole, client_ip: str, accept_language: str | None
    ) -> CodeRequested:
        """Send a code to ``raw_phone`` for ``role``, within the rate limits.

        A number that is not an admin asking for ``admin`` gets the same answer as anyone,
        but no SMS: the answer does not tell who the admins are.
        """
        phone = self._normalize(raw_phone)
        phone_hash = self._vault.hash(phone)
        now = self._clock()
        locale = choose_locale(accept_language, self._policy.supported_locales)
        if role != "admin" and locale is not None:
            # Nothing stored decides this SMS, so it is written while the limits are counted
            # (a refused request only wastes the writing).
            record, code = IssuedCode.issue(self._secret, role, phone_hash, locale, now)
            limited, body = await asyncio.gather(
                self._count_request(client_ip, phone_hash),
                self._write_sms(locale, code),
                return_exceptions=True,
            )
            if isinstance(limited, BaseException):
                raise limited
            if isinstance(body, BaseException):
                raise body
        else:
            await self._count_request(client_ip, phone_hash)
            if role == "admin":
                known = await self._phone_identity(phone_hash)
                if not known.is_admin:
                    OTP_REQUESTS.labels("not_admin").inc()
                    log.info("admin code refused silently", who=phone_hash[:12])
                    return CodeRequested(self._policy.ttl_seconds, None)
                locale = locale or known.locale
            else:
                locale = await self._stored_locale(phone_hash)
            locale = locale or self._policy.default_locale
            record, code = IssuedCode.issue(self._secret, role, phone_hash, locale, now)
            body = await self._write_sms(locale, code)
        await self._codes.put(role, phone_hash, record, self._policy.ttl_seconds)
        try:
            await self._publisher.publish(
                sms_outbound,
                phone_hash,
                OutboundSmsData(
                    to_ciphertext=self._vault.encrypt(phone),
                    body=body,
                    idempotency_key=f"otp:{record.code_id}",
                ),
            )
        except BrokerUnavailable as exc:
            # No SMS will carry this code: it must not stay usable.
            await self._codes.discard(role, phone_hash, record.code_id)
            OTP_REQUESTS.labels("broker_down").inc()
            log.error("otp not sent: broker unavailable", error=str(exc))
            raise Unavailable(
                "the code could not be sent because messaging is unavailable; try again shortly"
            ) from exc
        OTP_REQUESTS.labels("sent").inc()
        log.info("otp sent", who=phone_hash[:12], role=role, locale=locale)
        return CodeRequested(self._policy.ttl_seconds, code)

    async def _count_request(self, client_ip: str, phone_hash: str) -> None:
        """Count the request in both windows at once; raise :class:`RateLimited` when either
        refuses it (the address is named when both do)."""
        verdicts = await self._limiter.hit_all(
            [(self._policy.per_ip, client_ip), (self._policy.per_phone, phone_hash)]
        )
        for verdict, what in zip(verdicts, ("from this address", "for this number"), strict=True):
            if not verdict.allowed:
                OTP_REQUESTS.labels("rate_limited").inc()
                raise RateLimited(
                    f"too many code requests {what}: try again in {verdict.retry_after} seconds",
                    verdict.retry_after,
                )

    async def _write_sms(self, locale: str, code: str) -> str:
        try:
            return await self._l10n.render(
                OTP_CODE, locale, code=code, minutes=minutes_valid(self._policy.ttl_seconds)
            )
        except LocalizationError as exc:
            raise Unavailable(
                f"could not write the SMS (LocalizationApi: {exc}); try again"
            ) from exc

    async def _phone_identity(self, phone_hash: str) -> PhoneIdentity:
        try:
            return await self._directory.phone_identity(phone_hash)
        except DirectoryUnavailable as exc:
            raise Unavailable(f"could not check the admin list (UserApi): {exc}") from exc

    async def _stored_locale(self, phone_hash: str) -> str | None:
        try:
            return (await self._directory.phone_identity(phone_hash)).locale
        except DirectoryUnavailable as exc:
            log.warning("stored locale unavailable", error=str(exc))
            return None

    async def verify(self, raw_phone: str, role: LoginRole, code: str) -> IssuedSession:
        """A session for the holder of the right, live ``code``. Every attempt counts; after
        the last allowed wrong one the code is deleted. A right code works once."""
        phone = self._normalize(raw_phone)
        phone_hash = self._vault.hash(phone)
        record, attempt = await self._codes.get_counting_attempt(
            role, phone_hash, self._policy.ttl_seconds
        )
        if record is None:
            raise CodeRejected(f"there is no valid code for this number: {NEW_CODE}")
        verdict = judge_attempt(attempt, self._policy.max_attempts)
        if not verdict.may_compare:
            LOGINS.labels(role, "too_many_attempts").inc()
            raise CodeRejected(f"too many attempts with this code: {NEW_CODE}")
        if not record.matches(self._secret, role, phone_hash, code):
            LOGINS.labels(role, "wrong_code").inc()
            if verdict.last_chance:
                await self._codes.discard(role, phone_hash, record.code_id)
                raise CodeRejected(f"wrong code, and that was the last attempt: {NEW_CODE}")
            left = self._policy.max_attempts - attempt
            raise CodeRejected(f"wrong code: {left} attempt{'s' if left != 1 else ''} left")

        if role == "admin" and not (await self._phone_identity(phone_hash)).is_admin:
            await self._codes.take(role, phone_hash)
            LOGINS.labels(role, "not_admin").inc()
            raise Forbidden("this number is not an admin")
        try:
            person = await self._identity.ensure_person(phone_hash, record.locale, role)
        except IdentityUnavailable as exc:
            raise Unavailable(f"the identity provider is unavailable: {exc}") from exc
        who = TokenSubject(
            subject=person.user_id,
            role=role,
            locale=record.locale,
            phone_hash=phone_hash,
            phone_ciphertext=self._vault.encrypt(phone),
        )
        # The code is spent and the session stored in one call; a caller that finds the
        # code already spent removes the session it stored, which nobody was given.
        login = self._sessions.new_login(who)
        taken = await self._codes.take_and_save(role, phone_hash, login.entries)
        if taken is None or not taken.matches(self._secret, role, phone_hash, code):
            await self._sessions.forget(login)
            raise CodeRejected(f"this code was already used: {NEW_CODE}")
        session = login.session
        publish_login(self._publisher, who)
        LOGINS.labels(role, "ok").inc()
        log.info("login", who=phone_hash[:12], role=role, subject=who.subject)
        return session


def publish_login(publisher: EventPublisher, who: TokenSubject) -> None:
    """Publish ``auth.login.succeeded`` in the background: the login stands whether or not
    the broker takes it (the code is already spent), so the answer does not wait for the
    broker; a lost audit event is logged and counted."""

    def lost(exc: BrokerUnavailable) -> None:
        LOGINS.labels(who.role, "audit_event_lost").inc()
        log.error("login event not published", subject=who.subject, error=str(exc))

    publisher.publish_later(
        login_succeeded,
        who.subject,
        LoginSucceededData(subject=who.subject, role=who.role, phone_hash=who.phone_hash or ""),
        lost,
    )
