"""Phone login end to end: the code travels as an SMS event, comes back, and becomes a token
the kit's verifier accepts; attempts, single use, concurrency, limits and admins."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from typing import TYPE_CHECKING

import httpx
import pytest

from nudges_auth.adapters.cache_stores import OtpStore
from nudges_auth.domain.otp import IssuedCode
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.service_layer.sessions import NewLogin, Sessions
from nudges_devstack.testing import eventually
from nudges_kit.auth import user_id_for
from nudges_kit.events.catalog.auth import login_succeeded
from nudges_kit.events.catalog.sms import sms_outbound
from nudges_kit.sessions import resolve_session, session_key
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import CacheEntry, WarpCacheClient

if TYPE_CHECKING:
    from conftest import Stack


async def test_a_code_by_sms_becomes_a_verified_token(
    stack: Stack, http: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    phone = stack.new_phone()
    after = stack.sms_count()
    requested = await http.post("/otp", json={"phone": phone, "role": "client"})
    assert requested.status_code == 202
    # Without OTP_ECHO the answer never carries the code.
    assert requested.json() == {"sent": True, "expires_in": 300}

    sms = await stack.sms_to(phone, after)
    code = re.search(r"\b(\d{6})\b", sms.data["body"])
    assert code, sms.data["body"]
    assert "5" in sms.data["body"]
    assert sms.data["idempotency_key"].startswith("otp:")
    assert sms.key == stack.vault.hash(phone)

    verified = await http.post(
        "/otp/verify", json={"phone": phone, "code": code.group(1), "role": "client"}
    )
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"]

    principal = await stack.verify(body["access_token"])
    phone_hash = stack.vault.hash(phone)
    claims = principal.claims
    assert principal.subject == user_id_for(phone_hash)
    assert principal.roles == frozenset({"client"})
    assert claims["iss"] == stack.settings.jwt_issuer
    assert claims["aud"] == "nudges"
    assert claims["phone_hash"] == phone_hash
    assert stack.vault.decrypt(claims["phone_ct"]) == phone
    assert claims["client_id"] == principal.subject
    assert claims["locale"] == "en"
    assert claims["exp"] - claims["iat"] == 900
    assert len(claims["jti"]) >= 16
    assert phone.lstrip("+") not in json.dumps(claims)

    # The session cookie resolves to the same JWT, exactly as the gateway reads it.
    token_id = verified.cookies["TokenId"]
    async with WarpCacheClient(stack.warpcache, token=development_warpcache_token("auth")) as cache:
        assert await cache.get(session_key(token_id)) == body["access_token"].encode()
        assert await resolve_session(cache, token_id) == body["access_token"]
        assert await resolve_session(cache, body["access_token"]) is None

    async def login_event() -> bool:
        return any(
            r.envelope.type == login_succeeded.name
            and r.envelope.data["subject"] == principal.subject
            for r in stack.events.of(login_succeeded.topic)
        )

    await eventually(login_event, within=20)
    event = next(
        r.envelope
        for r in stack.events.of(login_succeeded.topic)
        if r.envelope.data["subject"] == principal.subject
    )
    assert event.data == {"subject": principal.subject, "role": "client", "phone_hash": phone_hash}

    # The clear number is in no Kafka record (key, value, headers) and in no log line.
    digits = phone.lstrip("+")
    for record in stack.events.records:
        raw = b"".join([record.key or b"", record.value, *(v for _, v in record.headers)])
        assert phone.encode() not in raw, record.topic
        assert digits.encode() not in raw, record.topic
    logs = captured_logs.getvalue()
    assert "otp sent" in logs
    assert '"login"' in logs
    assert digits not in logs


async def test_a_returning_user_gets_the_same_user_id(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    phone = stack.new_phone()
    first = await stack.login(http, phone, "subscriber")
    again = await stack.login(http, phone, "subscriber")
    one = await stack.verify(first.json()["access_token"])
    two = await stack.verify(again.json()["access_token"])
    assert one.subject == two.subject == user_id_for(stack.vault.hash(phone))
    assert one.claims["jti"] != two.claims["jti"]
    assert "client_id" not in two.claims


async def test_the_sms_speaks_the_callers_language(stack: Stack, http: httpx.AsyncClient) -> None:
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post(
        "/otp",
        json={"phone": phone, "role": "subscriber"},
        headers={"Accept-Language": "en;q=0.3, es-MX;q=0.9, ja"},
    )
    sms = await stack.sms_to(phone, after)
    assert "código" in sms.data["body"], sms.data["body"]
    code = re.search(r"\b(\d{6})\b", sms.data["body"])
    assert code
    verified = await http.post(
        "/otp/verify", json={"phone": phone, "code": code.group(1), "role": "subscriber"}
    )
    assert (await stack.verify(verified.json()["access_token"])).locale == "es-MX"


async def test_five_wrong_codes_kill_the_code(stack: Stack, http: httpx.AsyncClient) -> None:
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post("/otp", json={"phone": phone, "role": "client"})
    code = await stack.code_sent_to(phone, after)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        await http.post("/otp/verify", json={"phone": phone, "code": wrong, "role": "client"})
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [400] * 5
    assert "4 attempts left" in answers[0].json()["detail"]
    assert "1 attempt left" in answers[3].json()["detail"]
    assert "request a new code" in answers[4].json()["detail"]
    right = await http.post("/otp/verify", json={"phone": phone, "code": code, "role": "client"})
    assert right.status_code == 400
    assert "request a new code" in right.json()["detail"]


async def test_a_right_code_works_once(stack: Stack, http: httpx.AsyncClient) -> None:
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post("/otp", json={"phone": phone, "role": "client"})
    code = await stack.code_sent_to(phone, after)
    payload = {"phone": phone, "code": code, "role": "client"}
    # A code is per role: the right digits for another role are no code at all.
    other_role = await http.post("/otp/verify", json={**payload, "role": "subscriber"})
    assert other_role.status_code == 400
    assert (await http.post("/otp/verify", json=payload)).status_code == 200
    replay = await http.post("/otp/verify", json=payload)
    assert replay.status_code == 400
    assert "request a new code" in replay.json()["detail"]


async def test_twenty_concurrent_verifies_yield_exactly_one_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post("/otp", json={"phone": phone, "role": "subscriber"})
    code = await stack.code_sent_to(phone, after)
    payload = {"phone": phone, "code": code, "role": "subscriber"}
    answers = await asyncio.gather(*(http.post("/otp/verify", json=payload) for _ in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 19, [a.text for a in answers]


async def test_verifies_that_find_the_code_taken_leave_no_session_behind(
    stack: Stack, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each verify with the right code stores its session in the call that takes the code;
    # those that find it taken must remove what they stored.
    made: list[NewLogin] = []
    new_login = Sessions.new_login

    def recorded(self: Sessions, who: TokenSubject, family_id: str | None = None) -> NewLogin:
        login = new_login(self, who, family_id)
        made.append(login)
        return login

    # The first verify to take the code waits (up to 5 s) until a second one is about to.
    take_and_save = OtpStore.take_and_save
    takers: list[asyncio.Event] = []

    async def together(
        self: OtpStore, role: str, phone_hash: str, entries: list[CacheEntry]
    ) -> IssuedCode | None:
        takers.append(asyncio.Event())
        if len(takers) == 2:
            takers[0].set()
        if len(takers) == 1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(takers[0].wait(), 5)
        return await take_and_save(self, role, phone_hash, entries)

    monkeypatch.setattr(Sessions, "new_login", recorded)
    monkeypatch.setattr(OtpStore, "take_and_save", together)
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post("/otp", json={"phone": phone, "role": "client"})
    code = await stack.code_sent_to(phone, after)
    payload = {"phone": phone, "code": code, "role": "client"}
    answers = await asyncio.gather(*(http.post("/otp/verify", json=payload) for _ in range(5)))
    [winner] = [a.json()["access_token"] for a in answers if a.status_code == 200]
    assert len(made) >= 2
    token = development_warpcache_token("auth")
    async with WarpCacheClient(stack.warpcache, token=token) as cache:
        for login in made:
            kept = await cache.get_many(e.key for e in login.entries)
            if login.session.access_token == winner:
                assert set(kept) == {e.key for e in login.entries}
            else:
                assert kept == {}


async def test_codes_per_number_are_limited(stack: Stack, http: httpx.AsyncClient) -> None:
    phone = stack.new_phone()
    payload = {"phone": phone, "role": "client"}
    # From three different addresses: the limit follows the number.
    for _ in range(3):
        answer = await http.post("/otp", json=payload, headers={"X-Forwarded-For": stack.new_ip()})
        assert answer.status_code == 202
    refused = await http.post("/otp", json=payload, headers={"X-Forwarded-For": stack.new_ip()})
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 600
    assert "this number" in refused.json()["detail"]


async def test_requests_per_address_are_limited(stack: Stack, http: httpx.AsyncClient) -> None:
    limit = stack.settings.otp_per_ip_limit
    for _ in range(limit):
        answer = await http.post("/otp", json={"phone": stack.new_phone(), "role": "subscriber"})
        assert answer.status_code == 202, answer.text
    refused = await http.post("/otp", json={"phone": stack.new_phone(), "role": "subscriber"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert "this address" in refused.json()["detail"]
    # Another address is not affected.
    other = await http.post(
        "/otp",
        json={"phone": stack.new_phone(), "role": "subscriber"},
        headers={"X-Forwarded-For": stack.new_ip()},
    )
    assert other.status_code == 202


async def test_invalid_numbers_are_refused_with_a_reason(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    for bad in ("12345", "+1 555 0100", "call me", "+999123456789"):
        answer = await http.post("/otp", json={"phone": bad, "role": "client"})
        assert answer.status_code == 422, bad
        assert answer.json()["detail"].startswith("phone: ")
    bad_role = await http.post("/otp", json={"phone": stack.new_phone(), "role": "service"})
    assert bad_role.status_code == 422
    bad_code = await http.post(
        "/otp/verify", json={"phone": stack.new_phone(), "code": "12ab56", "role": "client"}
    )
    assert bad_code.status_code == 422


async def test_admin_codes_go_only_to_admins(stack: Stack, http: httpx.AsyncClient) -> None:
    nobody = stack.new_phone()
    after = stack.sms_count()
    # The answer is the same as for an admin: it does not tell who the admins are.
    answer = await http.post("/otp", json={"phone": nobody, "role": "admin"})
    assert answer.status_code == 202
    assert answer.json() == {"sent": True, "expires_in": 300}
    guessed = await http.post(
        "/otp/verify", json={"phone": nobody, "code": "123456", "role": "admin"}
    )
    assert guessed.status_code == 400

    admin = await stack.login(http, stack.admin_phone, "admin")
    principal = await stack.verify(admin.json()["access_token"])
    assert principal.roles == frozenset({"admin"})
    assert principal.subject == user_id_for(stack.vault.hash(stack.admin_phone))
    sent_to = [
        stack.vault.decrypt(r.envelope.data["to_ciphertext"])
        for r in stack.events.of(sms_outbound.topic)[after:]
    ]
    assert nobody not in sent_to
    assert stack.admin_phone in sent_to


async def test_an_admin_removed_meanwhile_is_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    phone = stack.new_phone()
    stack.set_admin(phone)

    # Removed between the code and the verification: 403.
    after = stack.sms_count()
    assert (await http.post("/otp", json={"phone": phone, "role": "admin"})).status_code == 202
    code = await stack.code_sent_to(phone, after)
    stack.set_admin(phone, False)
    refused = await http.post("/otp/verify", json={"phone": phone, "code": code, "role": "admin"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "this number is not an admin"}

    # Removed while signed in: the next refresh ends the session.
    stack.set_admin(phone)
    signed_in = await stack.login(http, phone, "admin")
    stack.set_admin(phone, False)
    again = await http.post("/refresh", json={"refresh_token": signed_in.json()["refresh_token"]})
    assert again.status_code == 401
    assert "no longer an admin" in again.json()["detail"]
