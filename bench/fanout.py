"""Fan-out of one announcement to many subscribers against the Twilio emulator with no rate
limit, next to what the emulator alone accepts from a plain load generator in the same run.

The subscribers are written straight into UserApi's database (COPY), where the fan-out reads
its audience (``announcementRecipients``). Once the consumers have their partitions, the clock
starts when the announcement is confirmed (``confirmAnnouncement``, which publishes
``user.announcement.confirmed`` through UserApi's outbox, as a client's CONFIRM does) and stops
at the last message the emulator accepted (the send ledger commits each sid as soon as Twilio
answers). Status callbacks are off: the run measures sending, not delivery tracking. The last
line printed is one JSON object with the figures."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

from nudges_consumers.service_layer.sms_outbound import SEND_CONCURRENCY
from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import CONSUMERS_SECRET, TWILIO_AUTH_TOKEN, Platform
from nudges_kit.kafka import all_topics, ensure_topics
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

SERVICES = ("warpcache", "localization", "twilio-emulator", "user", "auth", "consumers")
LOCALES = ("en", "es", "fr", "de")
PARTITIONS = 8
ACCOUNT_SID = "AC00000000000000000000000000000000"
FROM_NUMBER = "+15005550006"
BODY = "Doors open at 9 tomorrow, the first 20 get a free coffee!"
GOAL_MPS = 5000
GOAL_RATIO = 0.7


class FanOutPlatform(Platform):
    """The services the fan-out needs; the rest answer nowhere (they are never called)."""

    def url(self, name: str, path: str = "") -> str:
        return super().url(name, path) if name in self.ports else f"http://127.0.0.1:9{path}"


def phone_of(n: int) -> str:
    return f"+1415{5550000 + n:07d}"


async def seed(dsn: str, subscribers: int) -> str:
    """A client and ``subscribers`` active members of it, in four languages; the client id."""
    keys = NudgesSettings()  # the development keys every process of the platform uses
    vault = PhoneVault(
        keys.phone_encryption_key.get_secret_value(), keys.phone_hash_key.get_secret_value()
    )
    client_id = uuid.uuid4()
    client_phone = "+14155549999"
    users = [
        (client_id, vault.hash(client_phone), vault.encrypt(client_phone), "en", str(client_id))
    ]
    subscriber_ids = [uuid.uuid4() for _ in range(subscribers)]
    for n, sid in enumerate(subscriber_ids):
        phone = phone_of(n)
        users.append((sid, vault.hash(phone), vault.encrypt(phone), LOCALES[n % 4], str(sid)))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "users",
                records=users,
                columns=["id", "phone_hash", "phone_ciphertext", "locale", "identity_subject"],
            )
            await conn.execute(
                "INSERT INTO clients (id, user_id, name, slug, locale)"
                " VALUES ($1, $1, 'Bench Bakery', 'bench-bakery', 'en')",
                client_id,
            )
            await conn.copy_records_to_table(
                "subscribers", records=[(s, s) for s in subscriber_ids], columns=["id", "user_id"]
            )
            await conn.copy_records_to_table(
                "memberships",
                records=[(uuid.uuid4(), client_id, s, "active", "web") for s in subscriber_ids],
                columns=["id", "client_id", "subscriber_id", "status", "source"],
            )
        await conn.execute("ANALYZE users; ANALYZE subscribers; ANALYZE memberships")
    finally:
        await conn.close()
    return str(client_id)


async def consumers_ready(platform: Platform, within: float = 120) -> float:
    """Wait until every consumer group of the workers has its partitions (``/readyz``), as
    it has long before a client's CONFIRM in production; the seconds it took."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=5) as http:
        while (await http.get(platform.url("consumers", "/readyz"))).status_code != 200:
            if time.perf_counter() - started > within:
                raise TimeoutError(f"the consumers were not ready after {within:.0f}s")
            await asyncio.sleep(0.1)
    return time.perf_counter() - started


async def confirm(platform: Platform, client_id: str) -> tuple[str, float]:
    """Confirm an announcement as the SMS dialogue does; its id and the time of the call."""
    async with httpx.AsyncClient(timeout=30) as http:
        token = (
            await http.post(
                platform.url("auth", "/auth/token"),
                data={"grant_type": "client_credentials"},
                auth=("consumers", CONSUMERS_SECRET),
            )
        ).json()["access_token"]
        started = time.time()
        answer = await http.post(
            platform.url("user", "/graphql"),
            json={
                "query": "mutation($c: ID!, $b: String!, $k: String!) {"
                " confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id recipients } }",
                "variables": {"c": client_id, "b": BODY, "k": str(uuid.uuid4())},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    created = answer.json()["data"]["confirmAnnouncement"]
    return str(created["id"]), started


async def wait_sent(
    dsn: str, announcement_id: str, expected: int, within: float
) -> tuple[float, float]:
    """Wait until the ledger has every copy accepted by the emulator; the epoch times of the
    first and the last acceptance."""
    conn = await asyncpg.connect(dsn)
    aid = uuid.UUID(announcement_id)
    deadline = time.monotonic() + within
    last_report = 0.0
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE state = 'sent') AS sent,"
                " count(*) FILTER (WHERE state = 'failed') AS failed,"
                " extract(epoch FROM min(updated_at) FILTER (WHERE state = 'sent')) AS first,"
                " extract(epoch FROM max(updated_at) FILTER (WHERE state = 'sent')) AS last"
                " FROM sms_sends WHERE announcement_id = $1",
                aid,
            )
            assert row is not None
            if row["sent"] + row["failed"] >= expected:
                if row["failed"]:
                    print(f"  {row['failed']} sends failed")
                return float(row["first"]), float(row["last"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"{row['sent']} of {expected} sent after {within:.0f}s")
            if time.monotonic() - last_report > 10:
                print(f"  ... {row['sent']} of {expected} accepted", flush=True)
                last_report = time.monotonic()
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def emulator_rate(base_url: str, messages: int, concurrency: int) -> float:
    """Messages per second the emulator accepts from ``concurrency`` senders posting as fast
    as they can (one keep-alive connection each, as the fan-out's sends in flight have)."""
    url = f"{base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    auth = base64.b64encode(f"{ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}"}
    remaining = iter(range(messages))
    accepted = 0

    async def sender(http: aiohttp.ClientSession) -> None:
        nonlocal accepted
        for n in remaining:
            form = {"To": phone_of(n), "From": FROM_NUMBER, "Body": BODY}
            async with http.post(url, data=form, headers=headers) as answer:
                await answer.read()
                accepted += answer.status == 201

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await sender_warm_up(http, url, headers)
        started = time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return accepted / elapsed


async def sender_warm_up(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
    form = {"To": phone_of(0), "From": FROM_NUMBER, "Body": BODY}
    async with http.post(url, data=form, headers=headers) as answer:
        await answer.read()


async def run(args: argparse.Namespace, platform: Platform) -> dict[str, Any]:
    postgres_url = platform.postgres_url
    user_dsn = with_database(postgres_url, platform.databases["user"])
    consumers_dsn = with_database(postgres_url, platform.databases["consumers"])
    seeding = time.perf_counter()
    client_id = await seed(user_dsn, args.subscribers)
    print(f"seeded {args.subscribers} subscribers in {time.perf_counter() - seeding:.1f}s")

    waited = await consumers_ready(platform)
    print(f"consumers assigned their partitions {waited:.1f}s after the seeding")

    announcement_id, started = await confirm(platform, client_id)
    first, last = await wait_sent(consumers_dsn, announcement_id, args.subscribers, args.timeout)
    total = last - started
    fan_out_mps = args.subscribers / total

    async with httpx.AsyncClient() as http:
        await http.post(platform.url("twilio-emulator", "/_emulator/reset"))
    concurrency = SEND_CONCURRENCY
    load = min(args.subscribers, args.load_messages)
    emulator_mps = await emulator_rate(platform.url("twilio-emulator"), load, concurrency)
    return {
        "subscribers": args.subscribers,
        "messages_per_second": round(fan_out_mps, 1),
        "total_seconds": round(total, 2),
        "first_accepted_after_seconds": round(first - started, 2),
        "emulator_messages_per_second": round(emulator_mps, 1),
        "ratio_vs_emulator_limit": round(fan_out_mps / emulator_mps, 3),
        "emulator_load_messages": load,
        "concurrency": concurrency,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--load-messages",
        type=int,
        default=50_000,
        help="messages the load generator posts to the emulator (at most --subscribers)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the fan-out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nudges-bench-fanout-") as tmp:
        state = Path(tmp)
        postgres = Postgres.ensure(state / "postgres")
        broker = TansuBroker(free_port(), log_path=state / "tansu.log")
        broker.start()
        platform = FanOutPlatform(
            postgres.url,
            broker.bootstrap_servers,
            state,
            services=SERVICES,
            overrides={
                "*": {"KAFKA_TOPIC_PARTITIONS": str(PARTITIONS), "LOG_LEVEL": "WARNING"},
                "twilio-emulator": {"TWILIO_EMULATOR_MAX_MPS": "0"},
                "consumers": {"SMS_MESSAGES_PER_SECOND": "0", "TWILIO_STATUS_CALLBACK_URL": ""},
            },
        )
        try:
            asyncio.run(
                ensure_topics(broker.bootstrap_servers, all_topics(), partitions=PARTITIONS)
            )
            platform.start()
            summary = asyncio.run(run(args, platform))
        finally:
            platform.stop()
            broker.stop()
            postgres.stop()
    print(
        f"fan-out: {summary['subscribers']} messages in {summary['total_seconds']}s from CONFIRM"
        f" to the last accepted, {summary['messages_per_second']} msg/s"
        f" (goal: >= {GOAL_MPS} msg/s); the first accepted"
        f" {summary['first_accepted_after_seconds']}s after CONFIRM"
    )
    print(
        f"Twilio emulator alone, {summary['emulator_load_messages']} messages from"
        f" {summary['concurrency']} concurrent senders: {summary['emulator_messages_per_second']}"
        f" msg/s; fan-out / emulator = {summary['ratio_vs_emulator_limit']}"
        f" (goal: >= {GOAL_RATIO}) on {summary['cpus']} CPUs"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
