"""Kafka client security from the settings: the exact keyword arguments each aiokafka client
is built with in every mode, the settings that must come together, and the MSK IAM token."""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from nudges_kit import kafka
from nudges_kit.kafka import MskIamTokenProvider, make_admin, make_consumer, make_producer
from nudges_kit.settings import NudgesSettings

BROKERS = "b-1.example:9096,b-2.example:9096"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Record the kwargs of every client the kit builds; the real client is still built
    (so aiokafka's own checks of those kwargs run)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def recording(base: type[Any]) -> type[Any]:
        class Recording(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                calls.append((base.__name__, kwargs))
                super().__init__(*args, **kwargs)

        return Recording

    monkeypatch.setattr(kafka, "AIOKafkaProducer", recording(AIOKafkaProducer))
    monkeypatch.setattr(kafka, "AIOKafkaConsumer", recording(AIOKafkaConsumer))
    monkeypatch.setattr(kafka, "AIOKafkaAdminClient", recording(AIOKafkaAdminClient))
    return calls


async def _build_all(settings: NudgesSettings) -> None:
    make_producer(settings)
    make_consumer(settings, "user.clients", group_id="g")
    make_admin(settings)


SECURITY_KEYS = {
    "security_protocol",
    "ssl_context",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
    "sasl_oauth_token_provider",
}


def _security(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k in SECURITY_KEYS}


async def test_plaintext_is_the_development_default(
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    await _build_all(NudgesSettings(kafka_bootstrap_servers=BROKERS))
    assert [name for name, _ in recorded] == [
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AIOKafkaAdminClient",
    ]
    for _, kwargs in recorded:
        assert kwargs["bootstrap_servers"] == BROKERS
        assert _security(kwargs) == {"security_protocol": "PLAINTEXT"}


async def test_producer_waits_for_all_replicas_and_idempotence_follows_the_setting(
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    make_producer(NudgesSettings(kafka_enable_idempotence=True))
    make_producer(NudgesSettings(kafka_enable_idempotence=False))
    assert [(k["acks"], k["enable_idempotence"]) for _, k in recorded] == [
        ("all", True),
        ("all", False),
    ]


async def test_ssl_verifies_the_broker_with_the_ca_file(
    recorded: list[tuple[str, dict[str, Any]]], tmp_path: Any
) -> None:
    cafile = _self_signed_ca(tmp_path)
    await _build_all(NudgesSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=cafile))
    for _, kwargs in recorded:
        security = _security(kwargs)
        assert set(security) == {"security_protocol", "ssl_context"}
        assert security["security_protocol"] == "SSL"
        context: ssl.SSLContext = security["ssl_context"]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "Test CA"),),)]


async def test_ssl_without_a_ca_file_uses_the_system_trust_store(
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    make_admin(NudgesSettings(kafka_security_protocol="SSL"))
    context: ssl.SSLContext = recorded[0][1]["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
async def test_sasl_with_username_and_password(
    recorded: list[tuple[str, dict[str, Any]]], protocol: str, mechanism: str
) -> None:
    settings = NudgesSettings(
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="user-service",
        kafka_sasl_password="s3cret",
    )
    await _build_all(settings)
    assert len(recorded) == 3
    for _, kwargs in recorded:
        security = _security(kwargs)
        expected = {
            "security_protocol": protocol,
            "sasl_mechanism": mechanism,
            "sasl_plain_username": "user-service",
            "sasl_plain_password": "s3cret",
        }
        if protocol == "SASL_SSL":
            assert isinstance(security.pop("ssl_context"), ssl.SSLContext)
        assert security == expected


async def test_msk_iam_uses_oauthbearer_with_the_token_provider(
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    settings = NudgesSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="OAUTHBEARER",
        kafka_aws_region="eu-west-1",
    )
    await _build_all(settings)
    for _, kwargs in recorded:
        security = _security(kwargs)
        assert isinstance(security.pop("ssl_context"), ssl.SSLContext)
        provider = security.pop("sasl_oauth_token_provider")
        assert isinstance(provider, MskIamTokenProvider)
        assert provider.region == "eu-west-1"
        assert security == {"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER"}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"},
            "KAFKA_SASL_PASSWORD required",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
            "KAFKA_AWS_REGION is required",
        ),
        (
            {"KAFKA_TOPIC_REPLICATION_FACTOR": "1", "KAFKA_MIN_INSYNC_REPLICAS": "2"},
            "KAFKA_MIN_INSYNC_REPLICAS=2 exceeds KAFKA_TOPIC_REPLICATION_FACTOR=1",
        ),
    ],
)
def test_incomplete_kafka_security_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=named):
        NudgesSettings()


def test_topics_follow_replication_and_min_insync_replicas_settings() -> None:
    settings = NudgesSettings(kafka_topic_replication_factor=3, kafka_min_insync_replicas=2)
    topic = kafka.new_topic(settings, "user.clients", 6, settings.kafka_topic_replication_factor)
    assert (topic.name, topic.num_partitions, topic.replication_factor) == ("user.clients", 6, 3)
    assert topic.topic_configs == {"min.insync.replicas": "2"}


def _decoded(token: str) -> tuple[str, dict[str, list[str]]]:
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    return url, parse_qs(urlsplit(url).query)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: signing must need no network."""
    import socket

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the token provider opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
async def test_msk_iam_token_is_a_presigned_connect_request_for_the_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Static credentials from the environment: botocore's chain needs no network for them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY0000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    provider = MskIamTokenProvider("eu-west-1")
    before = int(time.time())
    token = await provider.token()
    url, query = _decoded(token)
    assert not set(token) & set("=+/")  # base64url, unpadded
    assert url.startswith("https://kafka.eu-west-1.amazonaws.com/?")
    assert "Action=kafka-cluster%3AConnect" in url
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    credential = query["X-Amz-Credential"][0].split("/")
    assert credential[0] == "AKIATESTKEY0000000001"
    assert credential[2:] == ["eu-west-1", "kafka-cluster", "aws4_request"]
    assert query["X-Amz-Expires"] == ["900"]
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert len(query["X-Amz-Signature"][0]) == 64
    # The documented lifetime: 900 seconds from the signing time (X-Amz-Date).
    signed = int(
        time.mktime(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")) - time.timezone
    )
    assert provider.expires_at_ms == (signed + 900) * 1000
    assert before - 1 <= signed <= int(time.time()) + 1


@pytest.mark.usefixtures("no_network")
async def test_msk_iam_token_is_reused_until_shortly_before_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY0000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    now = [time.time()]
    provider = MskIamTokenProvider("us-east-1", refresh_margin=60, clock=lambda: now[0])
    first = await provider.token()
    expiry = provider.expires_at_ms
    now[0] = expiry / 1000 - 61
    assert await provider.token() == first
    await asyncio.sleep(1.1)  # a new signature carries a later X-Amz-Date (1 s resolution)
    now[0] = expiry / 1000 - 59
    renewed = await provider.token()
    assert renewed != first
    assert _decoded(renewed)[1]["X-Amz-Date"] > _decoded(first)[1]["X-Amz-Date"]
    assert provider.expires_at_ms > expiry


def _self_signed_ca(tmp_path: Any) -> str:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


async def test_msk_iam_without_any_aws_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(kafka.KafkaCredentialsRefused, match="KAFKA_SASL_MECHANISM=OAUTHBEARER"):
        await MskIamTokenProvider("eu-west-1").token()
