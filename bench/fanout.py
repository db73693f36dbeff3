"""Fan-out of one announcement to many subscribers against the Twilio emulator with no rate
limit, next to what the emulator alone accepts from a plain load generator in the same run.

The subscribers are written straight into UserApi's database (COPY), where the fan-out reads
its audience (``announcementRecipients``). Once the consumers have their partitions, the clock
starts when the announcement is confirmed (``confirmAnnouncement``, which publishes
``user.announcement.confirmed`` through UserApi's outbox, as a client's CONFIRM does) and stops
at the last message the emulator accepted (the send ledger commits each sid as soon as Twilio
answers). Status callbacks are off: the run measures sending, not delivery tracking. The last
line printed is one JSON object with the figures.

Cost per message: the CPU every process of the platform spent from the confirmation until
the work of the announcement has settled (the last acceptance, then the deliveries recorded
and the announcement completed, until no process uses more than a sliver of a core), per
message, per process and summed (``cpu_ms_per_message``): the consumers (the sender), UserApi,
AuthApi, WarpCache, LocalizationApi, the broker and the PostgreSQL backends of the platform's
databases. The Twilio emulator (Twilio's side) and this script (the load) are printed but not
summed. The peak resident memory of each process is printed too (``peak_rss_mib``)."""

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
from nudges_devstack.procstat import (
    BENCH_APPLICATION,
    BackendSampler,
    cpu_seconds,
    peak_rss_mib,
    profiled,
)
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
GOAL_CPU_MS_PER_MESSAGE = 0.15
GOAL_FIRST_ACCEPTED_SECONDS = 1.0
GOAL_PEAK_RSS_MIB = 300
#: Processes measured but not summed: Twilio's side and the load.
NOT_SUMMED = ("twilio-emulator", "bench")


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
    conn = await asyncpg.connect(dsn, server_settings={"application_name": BENCH_APPLICATION})
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
    conn = await asyncpg.connect(dsn, server_settings={"application_name": BENCH_APPLICATION})
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


async def timeline(
    user_dsn: str, consumers_dsn: str, announcement_id: str, started: float
) -> dict[str, float | None]:
    """Seconds from the confirmation to each step before the first message, read from the
    databases (an outbox row's ``created_at`` is its transaction's start)."""
    aid = uuid.UUID(announcement_id)
    steps: dict[str, float | None] = {}
    for dsn, queries in (
        (
            user_dsn,
            {
                "confirmed_written": "SELECT extract(epoch FROM min(created_at)) FROM outbox"
                " WHERE event_type = 'user.announcement.confirmed' AND payload::text LIKE $1",
                "confirmed_published": "SELECT extract(epoch FROM min(published_at)) FROM outbox"
                " WHERE event_type = 'user.announcement.confirmed' AND payload::text LIKE $1",
            },
        ),
        (
            consumers_dsn,
            {
                "first_work_item_written": "SELECT extract(epoch FROM min(created_at))"
                " FROM outbox WHERE event_type = 'sms.announcement-batch'"
                " AND payload::text LIKE $1",
                "first_work_item_published": "SELECT extract(epoch FROM min(published_at))"
                " FROM outbox WHERE event_type = 'sms.announcement-batch'"
                " AND payload::text LIKE $1",
                "first_intent": "SELECT extract(epoch FROM min(created_at)) FROM sms_sends"
                " WHERE announcement_id::text = trim('%' FROM $1)",
                "first_attempt": "SELECT extract(epoch FROM min(first_attempt_at)) FROM sms_sends"
                " WHERE announcement_id::text = trim('%' FROM $1)",
            },
        ),
    ):
        conn = await asyncpg.connect(dsn, server_settings={"application_name": BENCH_APPLICATION})
        try:
            for step, query in queries.items():
                at = await conn.fetchval(query, f"%{aid}%")
                steps[step] = None if at is None else round(float(at) - started, 3)
        finally:
            await conn.close()
    return steps


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


def process_cpu(pids: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds so far of each process (a service with what it started; this script
    alone, since it started them all)."""
    return {name: cpu_seconds(pid, children=name != "bench") or 0.0 for name, pid in pids.items()}


async def idle_cpu(pids: dict[str, int | None], seconds: float) -> dict[str, float]:
    """The share of a core each process uses while nothing is sent (polls, timers, the
    broker's fetch waits): what the platform costs per second whatever it sends."""
    before = process_cpu(pids)
    await asyncio.sleep(seconds)
    after = process_cpu(pids)
    return {name: (after[name] - before[name]) / seconds for name in pids}


async def settled(pids: dict[str, int | None], within: float = 30.0) -> None:
    """Wait until the platform's processes, together, use under 2% of a core for two half
    seconds in a row: the trailing work of the announcement is done."""
    deadline = time.monotonic() + within
    before, quiet = sum(process_cpu(pids).values()), 0
    while time.monotonic() < deadline and quiet < 2:
        await asyncio.sleep(0.5)
        now = sum(process_cpu(pids).values())
        quiet = quiet + 1 if now - before < 0.01 else 0
        before = now


async def run(args: argparse.Namespace, platform: Platform, broker: TansuBroker) -> dict[str, Any]:
    postgres_url = platform.postgres_url
    user_dsn = with_database(postgres_url, platform.databases["user"])
    consumers_dsn = with_database(postgres_url, platform.databases["consumers"])
    seeding = time.perf_counter()
    client_id = await seed(user_dsn, args.subscribers)
    print(f"seeded {args.subscribers} subscribers in {time.perf_counter() - seeding:.1f}s")

    waited = await consumers_ready(platform)
    print(f"consumers assigned their partitions {waited:.1f}s after the seeding")

    pids: dict[str, int | None] = {name: platform.pid(name) for name in SERVICES}
    pids["broker"] = broker.pid
    summed = [name for name in pids if name not in NOT_SUMMED]
    pids["bench"] = os.getpid()
    backends = BackendSampler(postgres_url, platform.databases.values())
    await settled({name: pids[name] for name in summed})
    idle = await idle_cpu(pids, args.idle_seconds)
    cpu_before = process_cpu(pids)
    await backends.start()

    services = {name: pid for name, pid in pids.items() if name in SERVICES and pid is not None}
    with profiled(services, args.profile):
        announcement_id, started = await confirm(platform, client_id)
        first, last = await wait_sent(
            consumers_dsn, announcement_id, args.subscribers, args.timeout
        )
        total = last - started
        fan_out_mps = args.subscribers / total
        await settled({name: pids[name] for name in summed})
    await backends.stop()
    steps = await timeline(user_dsn, consumers_dsn, announcement_id, started)
    cpu_after = process_cpu(pids)
    per_message = {
        name: (cpu_after[name] - cpu_before[name]) * 1000 / args.subscribers for name in pids
    }
    per_message["postgres"] = backends.cpu_seconds * 1000 / args.subscribers
    summed.append("postgres")
    rss = {name: peak_rss_mib(pid, children=name != "bench") for name, pid in pids.items()}
    rss["postgres (largest backend)"] = backends.peak_rss_mib

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
        "first_message_timeline_seconds": steps,
        "emulator_messages_per_second": round(emulator_mps, 1),
        "ratio_vs_emulator_limit": round(fan_out_mps / emulator_mps, 3),
        "cpu_ms_per_message": round(sum(per_message[name] for name in summed), 4),
        "cpu_ms_per_message_by_process": {n: round(ms, 4) for n, ms in per_message.items()},
        "cpu_summed_over": summed,
        "idle_core_share": {n: round(share, 4) for n, share in idle.items()},
        "idle_cpu_ms_per_message": round(
            sum(idle[n] for n in summed if n in idle) * total * 1000 / args.subscribers, 4
        ),
        "postgres_backends": backends.backends,
        "peak_rss_mib": rss,
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
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="sample each service with py-spy during the fan-out; collapsed stacks to DIR",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=5,
        help="seconds of measuring what the processes use while nothing is sent",
    )
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
            summary = asyncio.run(run(args, platform, broker))
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
    print(
        "before the first message (seconds after CONFIRM): "
        + ", ".join(
            f"{step} {at}" for step, at in summary["first_message_timeline_seconds"].items()
        )
    )
    by_process = summary["cpu_ms_per_message_by_process"]
    print(
        "CPU ms per message: "
        + ", ".join(f"{name} {ms:.4f}" for name, ms in by_process.items())
        + f"; summed over {', '.join(summary['cpu_summed_over'])}:"
        f" {summary['cpu_ms_per_message']} (goal: <= {GOAL_CPU_MS_PER_MESSAGE}), of which"
        f" {summary['idle_cpu_ms_per_message']} is what they use idle over as long;"
        f" first accepted goal: <= {GOAL_FIRST_ACCEPTED_SECONDS}s"
    )
    print(
        "peak RSS MiB: "
        + ", ".join(f"{name} {mib}" for name, mib in summary["peak_rss_mib"].items())
        + f" (goal: each < {GOAL_PEAK_RSS_MIB})"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
