"""The address the per-address OTP limit counts, on real ``nudges-auth`` processes started as
production starts them: nothing the caller writes in ``X-Forwarded-For`` chooses it. Also the
body limit (16 KiB by default)."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from nudges_devstack.infra import free_port
from nudges_devstack.pytest_plugin import ConsoleScript

if TYPE_CHECKING:
    from conftest import Stack

PER_ADDRESS_LIMIT = 3
#: CloudFront's origin header and the secret it carries (nudges_kit.client_address).
EDGE_HEADER = "X-Origin-Verify"
EDGE_SECRET = "edge-secret-for-tests"
#: A CloudFront edge address, the last X-Forwarded-For entry behind CloudFront and the ALB.
EDGE = "198.51.100.20"


_phones = itertools.count(random.randrange(0, 5000))
_addresses = itertools.count(random.randrange(0, 5000))


def new_phone() -> str:
    """A fresh US number of this module's own range (rate limits stay apart)."""
    return f"+1650254{next(_phones) % 10000:04d}"


def new_ip() -> str:
    """A fresh address of TEST-NET-3, apart from the other modules' ones."""
    n = next(_addresses)
    return f"203.0.113.{n % 256}"


def start_auth(stack: Stack, state_dir: Path, name: str, **env: str) -> ConsoleScript:
    port = free_port()
    process = ConsoleScript(
        "nudges-auth",
        {
            "HTTP_PORT": str(port),
            "WARPCACHE_URL": stack.warpcache,
            "LOCALIZATION_URL": stack.settings.localization_url,
            "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
            "USER_URL": stack.settings.user_url,
            "JWT_KEYS_FILE": str(state_dir / "auth" / "jwt-keys.json"),
            "JWT_ISSUER": f"http://127.0.0.1:{port}/auth",
            "OTP_PER_IP_LIMIT": str(PER_ADDRESS_LIMIT),
            **env,
        },
        port,
        state_dir / f"{name}.log",
        ready_path="/healthz",
    )
    process.start()
    return process


@pytest.fixture(scope="module")
def direct_auth(stack: Stack, state_dir: Path) -> Iterator[str]:
    """AuthApi with its defaults: no proxy in front (CLIENT_ADDRESS_TOPOLOGY=direct)."""
    process = start_auth(stack, state_dir, "auth-direct")
    yield f"http://127.0.0.1:{process.http_port}/auth"
    process.stop()


@pytest.fixture(scope="module")
def edge_auth(stack: Stack, state_dir: Path) -> Iterator[str]:
    """AuthApi behind CloudFront and the ALB."""
    process = start_auth(
        stack,
        state_dir,
        "auth-cloudfront-alb",
        CLIENT_ADDRESS_TOPOLOGY="cloudfront_alb",
        EDGE_ORIGIN_SECRET=EDGE_SECRET,
    )
    yield f"http://127.0.0.1:{process.http_port}/auth"
    process.stop()


def request_code(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{url}/otp", json={"phone": new_phone(), "role": "subscriber"}, headers=headers, timeout=30
    )


def test_forged_forwarded_for_does_not_escape_the_per_address_limit(direct_auth: str) -> None:
    # Every request comes from 127.0.0.1 and claims another address: the peer is counted.
    answers = [
        request_code(direct_auth, {"X-Forwarded-For": new_ip()})
        for _ in range(PER_ADDRESS_LIMIT + 1)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[-1] == 429, statuses
    assert set(statuses) <= {202, 429}, [a.text for a in answers]
    assert all("this address" in a.json()["detail"] for a in answers if a.status_code == 429)
    # Without the header, the same peer is the same subject.
    assert request_code(direct_auth, {}).status_code == 429


def test_behind_cloudfront_each_viewer_has_its_own_limit(edge_auth: str) -> None:
    attacker, neighbour = new_ip(), new_ip()
    via_edge = {EDGE_HEADER: EDGE_SECRET}
    for _ in range(PER_ADDRESS_LIMIT):
        sent = request_code(edge_auth, {**via_edge, "X-Forwarded-For": f"{attacker}, {EDGE}"})
        assert sent.status_code == 202, sent.text
    # Spoofed leftmost entries do not make the attacker someone else.
    forged = request_code(
        edge_auth, {**via_edge, "X-Forwarded-For": f"{new_ip()}, {attacker}, {EDGE}"}
    )
    assert forged.status_code == 429
    assert "this address" in forged.json()["detail"]
    # Another viewer behind the same edge is not locked out.
    other = request_code(edge_auth, {**via_edge, "X-Forwarded-For": f"{neighbour}, {EDGE}"})
    assert other.status_code == 202, other.text


def test_straight_to_the_load_balancer_a_claimed_edge_is_not_believed(edge_auth: str) -> None:
    # No CloudFront origin header: the ALB's entry, the caller itself, is counted, whatever
    # it put to the left of it.
    caller = new_ip()
    statuses = [
        request_code(edge_auth, {"X-Forwarded-For": f"{new_ip()}, {caller}"}).status_code
        for _ in range(PER_ADDRESS_LIMIT + 1)
    ]
    assert statuses == [202] * PER_ADDRESS_LIMIT + [429]


async def test_a_body_past_sixteen_kibibytes_is_refused(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    padded = {"phone": new_phone(), "role": "client", "pad": "x" * (17 * 1024)}
    refused = await http.post("/otp", json=padded)
    assert refused.status_code == 413
    assert refused.json() == {"detail": "the request body exceeds 16384 bytes"}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"x" * 1024

    streamed = await http.post(
        "/otp", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    # A request of normal size is served.
    normal = await http.post("/otp", json={"phone": new_phone(), "role": "client"})
    assert normal.status_code == 202, normal.text
    assert stack.settings.max_request_body_bytes == 16 * 1024
