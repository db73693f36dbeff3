"""Kafka clients configured one way for the whole platform, and topic creation.

Every producer, consumer and admin client is built here from the settings, with the same
security: ``KAFKA_SECURITY_PROTOCOL`` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL),
``KAFKA_SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 with ``KAFKA_SASL_USERNAME`` /
``KAFKA_SASL_PASSWORD``, or OAUTHBEARER signed with the task's IAM role for MSK) and
``KAFKA_SSL_CAFILE``. Start clients with :func:`start_client`: credentials the broker
refuses stop the caller with :class:`KafkaCredentialsRefused` naming the setting, instead
of a retry loop."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import AbstractTokenProvider
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from nudges_kit.events import REGISTRY, EventRegistry, dlq_topic
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings

log = get_logger(__name__)


class KafkaCredentialsRefused(RuntimeError):
    """The broker refused this service's credentials or certificate trust: a
    configuration error that retrying cannot fix. The message names the setting."""


class MskIamTokenProvider(AbstractTokenProvider):  # type: ignore[misc]  # untyped base
    """OAUTHBEARER tokens for MSK IAM authentication: a SigV4-presigned
    ``kafka-cluster:Connect`` request for ``region``, signed with the credentials of
    botocore's default chain (the ECS task role in production, ``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY`` where set). A token is valid for 900 seconds from signing;
    one is reused until ``refresh_margin`` seconds before it expires."""

    def __init__(
        self,
        region: str,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.region = region
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self.expires_at_ms = 0
        self._credentials: Any = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A token valid for at least ``refresh_margin`` more seconds."""
        async with self._lock:
            if self._token is None or self._clock() * 1000 >= self.expires_at_ms - (
                self._margin * 1000
            ):
                # Signing reads credentials (the task role may be fetched over HTTP): off-loop.
                self._token, self.expires_at_ms = await asyncio.to_thread(self._sign)
            return str(self._token)

    def _sign(self) -> tuple[str, int]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        if self._credentials is None:
            self._credentials = _default_chain_credentials()
        token, expires_at_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
            self.region, self._credentials
        )
        return str(token), int(expires_at_ms)


def _default_chain_credentials() -> Any:
    """botocore's credentials provider over its default chain, kept for the life of a
    token provider (so that the task role's credentials are fetched again only when
    botocore refreshes them)."""
    import botocore.session
    from botocore.credentials import CredentialProvider

    class DefaultChain(CredentialProvider):  # type: ignore[misc]  # untyped base
        METHOD = "nudges-default-chain"

        def __init__(self) -> None:
            super().__init__()
            self._session = botocore.session.Session()

        def load(self) -> Any:
            credentials = self._session.get_credentials()
            if credentials is None:
                raise KafkaCredentialsRefused(
                    "KAFKA_SASL_MECHANISM=OAUTHBEARER signs with AWS credentials, and"
                    " botocore's default chain found none (the ECS task role, or"
                    " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
                )
            return credentials

    return DefaultChain()


def client_security(settings: NudgesSettings) -> dict[str, Any]:
    """The connection and security keyword arguments every aiokafka client gets."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_security_protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        if settings.kafka_sasl_mechanism == "OAUTHBEARER":
            options["sasl_oauth_token_provider"] = MskIamTokenProvider(settings.kafka_aws_region)
        else:
            options["sasl_plain_username"] = settings.kafka_sasl_username
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def make_producer(
    settings: NudgesSettings, request_timeout_ms: int = 10_000, linger_ms: int = 5
) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica; idempotence follows the settings
    (the local Tansu broker does not support idempotent producers). ``linger_ms`` 0 suits a
    producer whose every event is awaited by a request."""
    return AIOKafkaProducer(
        **client_security(settings),
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=request_timeout_ms,
        retry_backoff_ms=200,
    )


def make_consumer(settings: NudgesSettings, *topics: str, **options: Any) -> AIOKafkaConsumer:
    """A consumer of ``topics`` with the platform's security; ``options`` are passed on
    (``group_id``, ``enable_auto_commit``, ...)."""
    return AIOKafkaConsumer(*topics, **client_security(settings), **options)


def make_admin(settings: NudgesSettings, request_timeout_ms: int = 10_000) -> AIOKafkaAdminClient:
    """An admin client with the platform's security."""
    return AIOKafkaAdminClient(
        **client_security(settings),
        client_id=f"{settings.service_name}-admin",
        request_timeout_ms=request_timeout_ms,
    )


async def start_client(
    client: AIOKafkaProducer | AIOKafkaConsumer | AIOKafkaAdminClient, settings: NudgesSettings
) -> None:
    """Start ``client``; raises :class:`KafkaCredentialsRefused` naming the setting when the
    broker refuses the credentials (aiokafka reports that only as "unable to bootstrap", or
    as a malformed SCRAM answer), else what starting raised."""
    try:
        await client.start()
    except Exception:
        refusal = await credentials_refusal(settings)
        if refusal is not None:
            raise KafkaCredentialsRefused(refusal) from None
        raise


async def credentials_refusal(settings: NudgesSettings) -> str | None:
    """Why the first reachable bootstrap broker refuses this service's credentials or
    certificate trust, naming the setting; None when it accepts them or none answers."""
    security = client_security(settings)
    for server in settings.kafka_bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await create_conn(
                host,
                int(port),
                client_id=f"{settings.service_name}-credentials-check",
                request_timeout_ms=10_000,
                ssl_context=security.get("ssl_context"),
                security_protocol=settings.kafka_security_protocol,
                sasl_mechanism=settings.kafka_sasl_mechanism,
                sasl_plain_username=security.get("sasl_plain_username"),
                sasl_plain_password=security.get("sasl_plain_password"),
                sasl_oauth_token_provider=security.get("sasl_oauth_token_provider"),
            )
        except ssl.SSLCertVerificationError as exc:
            return (
                f"the certificate of Kafka broker {server} is not trusted"
                f" (KAFKA_SSL_CAFILE={settings.kafka_ssl_cafile or '<system trust store>'}):"
                f" {exc.verify_message}"
            )
        except UnsupportedSaslMechanismError as exc:
            return (
                f"KAFKA_SASL_MECHANISM={settings.kafka_sasl_mechanism} refused by the broker: {exc}"
            )
        except (SaslAuthenticationFailed, KeyError, ValueError) as exc:
            # aiokafka's SCRAM client fails on a server-final message carrying an error
            # ("e=unknown-user", "e=invalid-proof") with KeyError 'v' instead of an error.
            if settings.kafka_sasl_mechanism == "OAUTHBEARER":
                return (
                    "the IAM credentials of the task role (KAFKA_SASL_MECHANISM=OAUTHBEARER,"
                    f" KAFKA_AWS_REGION={settings.kafka_aws_region}) refused by the broker: {exc}"
                )
            reason = exc if isinstance(exc, SaslAuthenticationFailed) else "authentication failed"
            return (
                f"KAFKA_SASL_PASSWORD refused by the broker for KAFKA_SASL_USERNAME="
                f"{settings.kafka_sasl_username} ({settings.kafka_sasl_mechanism}): {reason}"
            )
        except (TimeoutError, OSError, KafkaConnectionError):
            continue
        try:
            if not settings.kafka_security_protocol.startswith("SASL_"):
                # A SASL listener answers ApiVersions, then drops a client that skips SASL.
                await conn.send(MetadataRequest([]))
        except KafkaConnectionError:
            return (
                f"Kafka broker {server} closed the connection on a request without"
                f" authentication: it requires SASL, and KAFKA_SECURITY_PROTOCOL is"
                f" {settings.kafka_security_protocol}"
            )
        except (TimeoutError, OSError):
            continue
        finally:
            conn.close()
        return None
    return None


def topic_settings(target: NudgesSettings | str) -> NudgesSettings:
    """``target`` itself, or settings for the broker at ``host:port`` ``target``."""
    if isinstance(target, NudgesSettings):
        return target
    return NudgesSettings(kafka_bootstrap_servers=target)


def new_topic(settings: NudgesSettings, topic: str, partitions: int, replication: int) -> NewTopic:
    """``topic`` declared with ``min.insync.replicas`` from the settings."""
    return NewTopic(
        topic,
        partitions,
        replication,
        topic_configs={"min.insync.replicas": str(settings.kafka_min_insync_replicas)},
    )


def all_topics(registry: EventRegistry = REGISTRY) -> list[str]:
    """Every declared topic and its dead-letter topic."""
    import nudges_kit.events.catalog  # noqa: F401  (declares the catalog)

    topics = registry.topics()
    return sorted({*topics, *(dlq_topic(t) for t in topics)})


async def ensure_topics(
    target: NudgesSettings | str,
    topics: Iterable[str],
    partitions: int | None = None,
    replication: int | None = None,
) -> list[str]:
    """Create the missing ``topics``; returns the ones created.

    ``target`` is the settings (their security, partitions, replication factor and
    ``min.insync.replicas``), or the ``host:port`` of a development broker."""
    settings = topic_settings(target)
    partitions = partitions or settings.kafka_topic_partitions
    replication = replication or settings.kafka_topic_replication_factor
    admin = make_admin(settings)
    await start_client(admin, settings)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        created: list[str] = []
        for topic in missing:
            try:
                await admin.create_topics([new_topic(settings, topic, partitions, replication)])
                created.append(topic)
            except TopicAlreadyExistsError:
                continue
        if created:
            log.info("topics created", topics=created)
        return created
    finally:
        await admin.close()


class TopicKeeper:
    """Makes sure the topics a producer sends to exist, declared with their partitions.

    A broker that restarted without storage (the development broker keeps topics in memory)
    has lost them, and a send to a missing topic lets the broker create it implicitly; the
    development broker does so without registering the topic, so it is not listed and its
    consumers' offsets cannot be committed. A producer therefore calls :meth:`ensure` before
    sending (a topic seen less than ``recheck_seconds`` ago is trusted) and, where a send
    may have spanned a restart, ``ensure(..., fresh=True)`` after it: a topic it has to
    create then was lost during the send, and what was sent must be sent again."""

    def __init__(
        self,
        target: NudgesSettings | str,
        partitions: int | None = None,
        replication: int | None = None,
        recheck_seconds: float = 1.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = topic_settings(target)
        self._partitions = partitions or self._settings.kafka_topic_partitions
        self._replication = replication or self._settings.kafka_topic_replication_factor
        self._recheck = recheck_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    async def ensure(self, topics: Iterable[str], *, fresh: bool = False) -> list[str]:
        """Create those of ``topics`` the broker does not have; returns the ones created."""
        wanted = sorted(set(topics))
        asked = self._clock()
        if not fresh and self._recent(wanted, asked):
            return []
        async with self._lock:
            # Callers that waited for the lock share the check that ran meanwhile: a check
            # begun after this call was made (fresh) or within the last ``recheck_seconds``
            # answers it, so that concurrent senders make one admin round trip, not one each.
            if all(self._seen.get(t, float("-inf")) >= asked for t in wanted) or (
                not fresh and self._recent(wanted, self._clock())
            ):
                return []
            try:
                return await asyncio.wait_for(self._ensure(wanted), self._timeout)
            except BaseException:
                await self._close_admin()
                raise

    def _recent(self, topics: list[str], now: float) -> bool:
        return all(now - self._seen.get(t, float("-inf")) < self._recheck for t in topics)

    async def _ensure(self, topics: list[str]) -> list[str]:
        started = self._clock()
        if self._admin is None:
            admin = make_admin(self._settings, request_timeout_ms=int(self._timeout * 1000))
            await start_client(admin, self._settings)
            self._admin = admin
        existing = set(await self._admin.list_topics())
        created: list[str] = []
        for topic in topics:
            if topic in existing:
                continue
            try:
                await self._admin.create_topics(
                    [new_topic(self._settings, topic, self._partitions, self._replication)]
                )
                created.append(topic)
            except TopicAlreadyExistsError:
                continue
            except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError) as exc:
                # Topics managed elsewhere: sending is still allowed.
                log.warning("not allowed to create a topic", topic=topic, error=repr(exc))
        # As of when the check began: a topic lost after that is not vouched for.
        self._seen.update({t: started for t in topics})
        if created:
            log.info("topics created", topics=created)
        return created

    async def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        self._seen.clear()
        if admin is not None:
            try:
                await admin.close()
            except Exception as exc:  # a broker gone away cannot be told goodbye
                log.debug("admin client close failed", error=repr(exc))

    async def close(self) -> None:
        """Close the admin connection."""
        async with self._lock:
            await self._close_admin()
