"""Kafka security against real brokers: each test module starts its own Tansu on free ports,
over TLS (a self-signed CA made here), with SASL authentication required, or both.

Publishing and consuming go through the kit: the outbox relay publishes, the consumer loop
handles. Credentials the broker refuses stop start-up with one error naming the setting."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from nudges_devstack.infra import TansuBroker, TlsIdentity, free_port, make_tls_identity
from nudges_devstack.testing import Counted, eventually, fresh_event_type, running_consumer
from nudges_kit import cli
from nudges_kit.consumer import EventConsumer, HandlerContext
from nudges_kit.events import Envelope, EventRegistry
from nudges_kit.kafka import (
    KafkaCredentialsRefused,
    all_topics,
    make_admin,
    make_producer,
    start_client,
)
from nudges_kit.outbox import OutboxRelay, add_event
from nudges_kit.settings import NudgesSettings

#: Refusal must come at start-up, not after a retry loop; generous for a loaded machine.
REFUSAL_WITHIN = 30.0


@pytest.fixture(scope="module")
def tls_identity(tmp_path_factory: pytest.TempPathFactory) -> TlsIdentity:
    return make_tls_identity(tmp_path_factory.mktemp("tls"))


def _broker(log_dir: Path, **options: Any) -> Iterator[TansuBroker]:
    broker = TansuBroker(free_port(), log_path=log_dir / "tansu.log", **options)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def tls_broker(
    tls_identity: TlsIdentity, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TansuBroker]:
    yield from _broker(tmp_path_factory.mktemp("tls-broker"), tls=tls_identity)


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    yield from _broker(tmp_path_factory.mktemp("sasl-broker"), authentication=True)


@pytest.fixture(scope="module")
def sasl_tls_broker(
    tls_identity: TlsIdentity, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TansuBroker]:
    yield from _broker(
        tmp_path_factory.mktemp("sasl-tls-broker"), authentication=True, tls=tls_identity
    )


def _service(settings: NudgesSettings, broker: TansuBroker, **kafka: Any) -> NudgesSettings:
    """``settings`` on ``broker`` with ``kafka`` security settings, validated as at start-up."""
    return NudgesSettings(
        **{
            **settings.model_dump(exclude_unset=True),
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            **kafka,
        }
    )


async def test_events_published_and_consumed_over_tls(
    pool: asyncpg.Pool,
    settings: NudgesSettings,
    tls_broker: TansuBroker,
    tls_identity: TlsIdentity,
) -> None:
    tls = _service(
        settings,
        tls_broker,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(tls_identity.ca_path),
    )
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    seen: list[int] = []

    async def record(envelope: Envelope, data: Any, _ctx: HandlerContext) -> None:
        seen.append(data.seq)

    for seq in range(20):
        async with pool.acquire() as conn, conn.transaction():
            await add_event(conn, counted, "member-1", Counted(seq=seq))
    stop = asyncio.Event()
    relay = OutboxRelay(pool, tls, idle_interval=0.05, max_backoff=0.5)
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
        )
        async with running_consumer(tls, pool, registry, {counted: record}):
            await eventually(lambda: len(seen) == 20)
    finally:
        stop.set()
        await relay_task
    assert seen == list(range(20))
    assert relay.published == 20


async def test_a_broker_certificate_not_signed_by_the_ca_file_is_refused_at_startup(
    settings: NudgesSettings, tls_broker: TansuBroker, tmp_path: Path
) -> None:
    other_ca = make_tls_identity(tmp_path / "other").ca_path
    untrusted = _service(
        settings, tls_broker, kafka_security_protocol="SSL", kafka_ssl_cafile=str(other_ca)
    )
    producer = make_producer(untrusted)
    try:
        with pytest.raises(KafkaCredentialsRefused) as refused:
            await asyncio.wait_for(start_client(producer, untrusted), REFUSAL_WITHIN)
    finally:
        await producer.stop()
    assert f"KAFKA_SSL_CAFILE={other_ca}" in str(refused.value)
    assert "not trusted" in str(refused.value)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
async def test_a_refused_password_stops_the_consumer_at_startup_naming_the_setting(
    pool: asyncpg.Pool,
    settings: NudgesSettings,
    sasl_broker: TansuBroker,
    sasl_tls_broker: TansuBroker,
    tls_identity: TlsIdentity,
    protocol: str,
    mechanism: str,
) -> None:
    broker = sasl_broker if protocol == "SASL_PLAINTEXT" else sasl_tls_broker
    wrong = _service(
        settings,
        broker,
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="user-service",
        kafka_sasl_password="not-the-password",
        kafka_ssl_cafile=str(tls_identity.ca_path),
    )
    consumer = EventConsumer(
        group="refused", settings=wrong, pool=pool, handlers={}, registry=EventRegistry()
    )
    started = time.monotonic()
    with pytest.raises(KafkaCredentialsRefused) as refused:
        await asyncio.wait_for(consumer.run(asyncio.Event()), REFUSAL_WITHIN)
    message = str(refused.value)
    assert message.startswith(
        f"KAFKA_SASL_PASSWORD refused by the broker for KAFKA_SASL_USERNAME=user-service"
        f" ({mechanism})"
    )
    assert "not-the-password" not in message
    # One attempt, no backoff loop (the loop waits 0.5 s, 1 s, 2 s ... between attempts).
    assert time.monotonic() - started < REFUSAL_WITHIN


async def test_a_refused_password_stops_the_outbox_relay(
    pool: asyncpg.Pool, settings: NudgesSettings, sasl_broker: TansuBroker
) -> None:
    wrong = _service(
        settings,
        sasl_broker,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="user-service",
        kafka_sasl_password="not-the-password",
    )
    async with pool.acquire() as conn, conn.transaction():
        await add_event(conn, fresh_event_type(EventRegistry()), "k", Counted(seq=1))
    relay = OutboxRelay(pool, wrong, idle_interval=0.05, max_backoff=0.5)
    with pytest.raises(KafkaCredentialsRefused, match="KAFKA_SASL_PASSWORD refused by the broker"):
        await asyncio.wait_for(relay.run(asyncio.Event()), REFUSAL_WITHIN)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1


async def test_a_client_without_sasl_is_told_the_broker_requires_it(
    settings: NudgesSettings, sasl_broker: TansuBroker
) -> None:
    plaintext = _service(settings, sasl_broker, kafka_security_protocol="PLAINTEXT")
    producer = make_producer(plaintext)
    try:
        with pytest.raises(KafkaCredentialsRefused) as refused:
            await asyncio.wait_for(start_client(producer, plaintext), REFUSAL_WITHIN)
    finally:
        await producer.stop()
    assert str(refused.value).endswith("it requires SASL, and KAFKA_SECURITY_PROTOCOL is PLAINTEXT")


SERVICE = """
from nudges_kit.http import create_app, database_resources, serve
from nudges_kit.settings import NudgesSettings

settings = NudgesSettings(service_name="kit-service")
serve(create_app(settings, title="kit-service", lifespan=database_resources), settings)
"""


def test_a_service_whose_password_is_refused_exits_at_startup_with_one_line(
    kit_database: str, sasl_broker: TansuBroker, tmp_path: Path
) -> None:
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    env = {
        **os.environ,
        "POSTGRES_URL": kit_database,
        "HTTP_PORT": str(free_port()),
        "LOG_JSON": "false",
        "KAFKA_BOOTSTRAP_SERVERS": sasl_broker.bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "user-service",
        "KAFKA_SASL_PASSWORD": "not-the-password",
    }
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr.decode()[-2000:]
    assert result.stderr.decode().strip().splitlines()[-1] == (
        "kit-service: KAFKA_SASL_PASSWORD refused by the broker for"
        " KAFKA_SASL_USERNAME=user-service (SCRAM-SHA-512): authentication failed"
    )


def test_nudges_topics_create_declares_min_insync_replicas_and_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    # A broker of its own: every topic is new to it.
    broker = TansuBroker(free_port(), log_path=tmp_path / "tansu.log")
    broker.start()
    try:
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
        monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "2")
        monkeypatch.setenv("KAFKA_TOPIC_REPLICATION_FACTOR", "1")
        monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "1")
        assert cli.main(["topics", "create"]) == 0
        topic = all_topics()[0]

        async def described() -> tuple[Any, Any]:
            settings = NudgesSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
            admin = make_admin(settings)
            await start_client(admin, settings)
            try:
                configs = await admin.describe_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, topic)]
                )
                return configs, await admin.describe_topics([topic])
            finally:
                await admin.close()

        configs, topics = asyncio.run(described())
        (resource,) = configs[0].to_object()["resources"]
        entries = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
        assert entries.get("min.insync.replicas") == "1"
        assert len(topics[0]["partitions"]) == 2
        assert all(len(p["replicas"]) == 1 for p in topics[0]["partitions"])
    finally:
        broker.stop()


def test_nudges_topics_create_with_a_refused_password_prints_one_line(
    sasl_broker: TansuBroker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", sasl_broker.bootstrap_servers)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "topics-job")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "not-the-password")
    assert cli.main(["topics", "create"]) == 1
    assert capsys.readouterr().err == (
        "nudges: KAFKA_SASL_PASSWORD refused by the broker for KAFKA_SASL_USERNAME=topics-job"
        " (SCRAM-SHA-256): authentication failed\n"
    )
