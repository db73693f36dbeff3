"""Soak: mixed traffic over the whole platform for a bounded time, per service.

Starts every service as processes on free ports (``nudges_devstack.platform.Platform``, over
fresh databases and a Tansu broker of its own), prepares a plan, a client and signed-in
people, then drives ``--concurrency`` asyncio workers on loopback for ``--seconds`` (at most
``--max-requests`` requests) with a mix of what the platform serves:

* logins at AuthApi (``POST /auth/otp`` then ``/auth/otp/verify``, each from an address of
  its own) and session lookups (``GET /auth/session``);
* GraphQL queries on the subgraphs (``plans`` on ProductApi; ``clientBySlug`` and ``viewer``
  on UserApi; ``paymentConfirmations`` on PaymentApi) and through the gateway (one query over
  the three, signed in with the ``TokenId`` session cookie, as the UIs are);
* signed Stripe events to ``/webhooks/stripe`` and signed Twilio status callbacks and inbound
  texts to ``/webhooks/twilio/*``.

Every request is valid, so any answer but the expected one is an error. It prints, per
service: requests served, errors, error rate, 5xx, p50 and p99 latency, and the resident
memory (``VmRSS`` of ``/proc/<pid>/status``) of each service process before and after, with
its growth.

    make bench-soak
    uv run python bench/soak.py --seconds 120 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import (
    ORDER,
    STRIPE_WEBHOOK_SECRET,
    TWILIO_AUTH_TOKEN,
    Platform,
)

PhoneSource = Callable[[], str]
Check = Callable[[httpx.Response], bool]

#: Area codes whose 555-01xx numbers are fictional: 100 numbers each.
AREAS = ("415", "628", "650", "212", "646", "718", "312", "617", "303", "206", "202", "305")
#: The share of each kind of request in the mix.
MIX: dict[str, int] = {
    "login": 8,
    "session": 12,
    "plans": 15,
    "client_by_slug": 12,
    "viewer": 10,
    "payments": 8,
    "gateway": 12,
    "stripe_event": 15,
    "twilio_status": 12,
    "twilio_sms": 8,
}


CREATE_CLIENT = 'mutation($s: String!) { createClient(input: {name: "Soak", slug: $s}) { id } }'
QUERIES: dict[str, tuple[str, str, bool]] = {
    # kind: (subgraph, query, signed in)
    "plans": ("product", "{ plans { nodes { id name tiers { id amount } } } }", False),
    "client_by_slug": ("user", "query($s: String!) { clientBySlug(slug: $s) { id name } }", False),
    "viewer": ("user", "{ viewer { __typename } }", True),
    "payments": ("payment", "{ paymentConfirmations { totalCount } }", True),
    "gateway": (
        "gateway",
        "{ viewer { __typename } plans { nodes { id name } } paymentConfirmations { totalCount } }",
        True,
    ),
}


def fictional_phones(offset: int = 0) -> PhoneSource:
    """Distinct fictional North-American numbers (555-0100 to 555-0199 of each area code)."""
    counter = itertools.count(offset)

    def next_phone() -> str:
        n = next(counter)
        return f"+1{AREAS[n // 100 % len(AREAS)]}55501{n % 100:02d}"

    return next_phone


def documentation_addresses() -> Callable[[], str]:
    """Client addresses for ``X-Forwarded-For`` from the documentation ranges TEST-NET-2 and
    -3, 500 in turn (header values only: every request goes to loopback)."""
    counter = itertools.count(1)

    def next_address() -> str:
        n = next(counter)
        return f"{('198.51.100', '203.0.113')[n // 250 % 2]}.{n % 250 + 1}"

    return next_address


@dataclass
class Stats:
    """What one service served."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    server_errors: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, seconds: float, ok: bool, status: int, what: str, detail: str = "") -> None:
        self.latencies.append(seconds)
        if not ok:
            self.errors += 1
            if status >= 500:
                self.server_errors += 1
            if len(self.samples) < 5:
                self.samples.append(f"{what}: {status} {detail[:300]}".rstrip())

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile latency in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


@dataclass
class SoakReport:
    """The figures of one soak."""

    seconds: float
    stats: dict[str, Stats]
    rss_before_kib: dict[str, int]
    rss_after_kib: dict[str, int]
    phones: set[str]

    @property
    def requests(self) -> int:
        return sum(len(s.latencies) for s in self.stats.values())

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.stats.values())

    @property
    def server_errors(self) -> int:
        return sum(s.server_errors for s in self.stats.values())

    def table(self) -> str:
        """Per service: requests, errors, p50, p99 and memory; then the totals."""
        lines = [
            f"{'service':<16}{'requests':>9}{'errors':>8}{'rate':>8}{'5xx':>6}"
            f"{'p50 ms':>9}{'p99 ms':>9}{'RSS MiB':>10}{'growth':>10}"
        ]
        for name in sorted(set(self.stats) | set(self.rss_after_kib)):
            stats = self.stats.get(name, Stats())
            served = len(stats.latencies)
            rate = stats.errors / served if served else 0.0
            before = self.rss_before_kib.get(name, 0)
            after = self.rss_after_kib.get(name, 0)
            lines.append(
                f"{name:<16}{served:>9}{stats.errors:>8}{rate:>8.2%}{stats.server_errors:>6}"
                f"{stats.percentile(50):>9.1f}{stats.percentile(99):>9.1f}"
                f"{after / 1024:>10.1f}{(after - before) / 1024:>+9.1f}M"
            )
        total = self.requests
        lines.append(
            f"total: {total} requests in {self.seconds:.1f} s ({total / self.seconds:.0f} req/s),"
            f" {self.errors} errors ({self.errors / max(total, 1):.2%}),"
            f" {self.server_errors} 5xx"
        )
        for name, stats in self.stats.items():
            for sample in stats.samples:
                lines.append(f"  error sample ({name}) {sample}")
        return "\n".join(lines)


@dataclass
class Prepared:
    """What the traffic refers to: a client's slug, signed-in people, a plan."""

    slug: str
    #: (access token, session id) of each signed-in person.
    tokens: list[tuple[str, str]]
    phones: set[str]


def _signed_stripe(payload: bytes) -> str:
    timestamp = int(time.time())
    mac = hmac.new(
        STRIPE_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    )
    return f"t={timestamp},v1={mac.hexdigest()}"


async def _login(
    http: httpx.AsyncClient, platform: Platform, phone: str, ip: str, role: str = "client"
) -> tuple[httpx.Response, httpx.Response | None]:
    base = platform.url("auth", "/auth")
    headers = {"X-Forwarded-For": ip}
    asked = await http.post(f"{base}/otp", json={"phone": phone, "role": role}, headers=headers)
    if asked.status_code != 202:
        return asked, None
    verified = await http.post(
        f"{base}/otp/verify",
        json={"phone": phone, "code": asked.json()["code"], "role": role},
        headers=headers,
    )
    return asked, verified


async def prepare(
    platform: Platform, phones: PhoneSource, addresses: Callable[[], str], people: int = 8
) -> Prepared:
    """A client with a public page and ``people`` signed-in clients."""
    tokens: list[tuple[str, str]] = []
    used: set[str] = set()
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(people):
            used.add(phone := phones())
            asked, verified = await _login(http, platform, phone, addresses())
            if verified is None or verified.status_code != 200:
                raise RuntimeError(f"login failed: {(verified or asked).text}")
            tokens.append((verified.json()["access_token"], verified.cookies["TokenId"]))
        slug = f"soak-{uuid.uuid4().hex[:10]}"
        created = await http.post(
            platform.url("user", "/graphql"),
            json={"query": CREATE_CLIENT, "variables": {"s": slug}},
            headers={"Authorization": f"Bearer {tokens[0][0]}"},
        )
        if not _graphql_ok(created):
            raise RuntimeError(f"createClient failed: {created.text}")
    return Prepared(slug, tokens, used)


def _graphql_ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and not response.json().get("errors")


class Traffic:
    """The requests of the mix, each recorded against the service that served it."""

    def __init__(
        self,
        platform: Platform,
        prepared: Prepared,
        http: httpx.AsyncClient,
        phones: PhoneSource,
        addresses: Callable[[], str],
    ) -> None:
        self.platform = platform
        self.prepared = prepared
        self.http = http
        self.phones = phones
        self.addresses = addresses
        self.stats: dict[str, Stats] = {}
        self.used_phones: set[str] = set()
        self.texters = [phones() for _ in range(4)]
        self.used_phones.update(self.texters)
        self._validator = RequestValidator(TWILIO_AUTH_TOKEN)

    async def _timed(
        self, service: str, what: str, call: Awaitable[httpx.Response], ok: Check
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await call
        except httpx.HTTPError as exc:
            self.stats.setdefault(service, Stats()).record(
                time.perf_counter() - started, False, 599, f"{what} {type(exc).__name__}"
            )
            return None
        good = ok(response)
        self.stats.setdefault(service, Stats()).record(
            time.perf_counter() - started,
            good,
            response.status_code,
            what,
            "" if good else response.text,
        )
        return response

    async def one(self, kind: str) -> None:
        """Send one request (two for a login) of ``kind``."""
        platform, http = self.platform, self.http
        token, session_id = random.choice(self.prepared.tokens)
        if kind == "login":
            phone = self.phones()
            self.used_phones.add(phone)
            started = time.perf_counter()
            try:
                asked, verified = await _login(http, platform, phone, self.addresses())
            except httpx.HTTPError as exc:
                self.stats.setdefault("auth", Stats()).record(
                    time.perf_counter() - started, False, 599, f"login {type(exc).__name__}"
                )
                return
            stats = self.stats.setdefault("auth", Stats())
            elapsed = time.perf_counter() - started
            stats.record(elapsed / 2, asked.status_code == 202, asked.status_code, "otp")
            if verified is not None:
                stats.record(
                    elapsed / 2, verified.status_code == 200, verified.status_code, "verify"
                )
        elif kind == "session":
            await self._timed(
                "auth",
                "session",
                http.get(
                    platform.url("auth", "/auth/session"),
                    headers={"Cookie": f"TokenId={session_id}"},
                ),
                lambda r: r.status_code == 200,
            )
        elif kind in QUERIES:
            service, query, signed_in = QUERIES[kind]
            variables = {"s": self.prepared.slug} if "$s" in query else {}
            headers = {"Authorization": f"Bearer {token}"} if signed_in else {}
            if service == "gateway":
                headers = {"Cookie": f"TokenId={session_id}"}
            await self._timed(
                service,
                kind,
                http.post(
                    platform.url(service, "/graphql"),
                    json={"query": query, "variables": variables},
                    headers=headers,
                ),
                _graphql_ok,
            )
        elif kind == "stripe_event":
            event = {
                "id": f"evt_{uuid.uuid4().hex}",
                "object": "event",
                "type": "customer.updated",
                "created": int(time.time()),
                "data": {"object": {"id": f"cus_{uuid.uuid4().hex[:14]}", "object": "customer"}},
            }
            payload = json.dumps(event).encode()
            await self._timed(
                "webhooks",
                kind,
                http.post(
                    platform.url("webhooks", "/webhooks/stripe"),
                    content=payload,
                    headers={
                        "Stripe-Signature": _signed_stripe(payload),
                        "Content-Type": "application/json",
                    },
                ),
                lambda r: r.status_code == 200,
            )
        elif kind == "twilio_status":
            url = platform.url("webhooks", "/webhooks/twilio/status")
            params = {"MessageSid": f"SM{uuid.uuid4().hex}", "MessageStatus": "delivered"}
            await self._timed(
                "webhooks",
                kind,
                http.post(
                    url,
                    data=params,
                    headers={"X-Twilio-Signature": self._validator.compute_signature(url, params)},
                ),
                lambda r: r.status_code == 204,
            )
        elif kind == "twilio_sms":
            url = platform.url("webhooks", "/webhooks/twilio/sms")
            params = {
                "MessageSid": f"SM{uuid.uuid4().hex}",
                "From": random.choice(self.texters),
                "To": "+15005550006",
                "Body": "HELP",
            }
            await self._timed(
                "webhooks",
                kind,
                http.post(
                    url,
                    data=params,
                    headers={"X-Twilio-Signature": self._validator.compute_signature(url, params)},
                ),
                lambda r: r.status_code == 200 and "<Message>" in r.text,
            )


def rss_of(platform: Platform) -> dict[str, int]:
    """VmRSS in KiB of every running service process."""
    return {name: platform.rss_kib(name) for name in platform.processes}


async def soak(
    platform: Platform,
    *,
    seconds: float,
    concurrency: int,
    max_requests: int,
    phones: PhoneSource,
    addresses: Callable[[], str],
) -> SoakReport:
    """Mixed traffic for ``seconds`` (at most ``max_requests`` requests)."""
    prepared = await prepare(platform, phones, addresses)
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        traffic = Traffic(platform, prepared, http, phones, addresses)
        for kind in kinds:  # warm every path once before measuring
            await traffic.one(kind)
        traffic.stats.clear()
        rss_before = rss_of(platform)
        issued = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal issued
            while issued < max_requests and time.perf_counter() < deadline:
                issued += 1
                await traffic.one(random.choices(kinds, weights)[0])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return SoakReport(
        elapsed,
        traffic.stats,
        rss_before,
        rss_of(platform),
        traffic.used_phones | prepared.phones,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nudges-soak-") as state:
        state_dir = Path(state)
        postgres = Postgres.ensure(state_dir / "postgres")
        broker = TansuBroker(free_port(), log_path=state_dir / "tansu.log")
        broker.start()
        platform = Platform(
            postgres.url,
            broker.bootstrap_servers,
            state_dir / "platform",
            # Callers come from addresses of their own (X-Forwarded-For, behind a load balancer).
            overrides={"auth": {"CLIENT_ADDRESS_TOPOLOGY": "alb"}},
        )
        platform.state_dir.mkdir(parents=True)
        print(f"PostgreSQL: {postgres.origin}; broker: Tansu on {broker.bootstrap_servers}")
        try:
            started = time.monotonic()
            platform.start()
            print(f"platform: {len(ORDER)} services ready in {time.monotonic() - started:.1f} s")
            print(
                f"soak: {args.concurrency} workers, {args.seconds:.0f} s,"
                f" at most {args.max_requests} requests; mix {MIX}"
            )
            report = asyncio.run(
                soak(
                    platform,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    max_requests=args.max_requests,
                    phones=fictional_phones(),
                    addresses=documentation_addresses(),
                )
            )
            print(report.table())
        finally:
            platform.stop()
            broker.stop()
            postgres.stop()


if __name__ == "__main__":
    main()
