"""One typed settings object per service, read from environment variables.

Every field has a development default. Fields listed in ``production_required``
must be set explicitly when ``ENVIRONMENT=production``; startup fails with a
message naming each missing one. Each service lists exactly what it uses, from the
groups below (``REQUIRES_DATABASE``...) and its own fields. In production, a secret
equal to its development default is refused too, whoever set it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProductionSettingsRefused(RuntimeError):
    """Raised at startup when the settings are not fit for production."""


class MissingProductionSettings(ProductionSettingsRefused):
    """Raised at startup when production settings are left at their defaults."""


class DevelopmentSecretsInProduction(ProductionSettingsRefused):
    """Raised at startup when a secret in production is its development default."""


#: Groups of settings a service requires in production when it uses what they name.
REQUIRES_DATABASE: tuple[str, ...] = ("postgres_url",)
REQUIRES_BROKER: tuple[str, ...] = ("kafka_bootstrap_servers",)
#: Verifying the JWTs AuthApi issues.
REQUIRES_TOKENS: tuple[str, ...] = ("jwt_issuer", "jwks_url")
#: Encrypting and looking up phone numbers.
REQUIRES_PHONES: tuple[str, ...] = ("phone_encryption_key", "phone_hash_key")


def development_warpcache_token(caller: str) -> str:
    """The token of ``caller`` (a service name) at WarpCache outside production, which
    WarpCache's development defaults accept; production sets ``WARPCACHE_TOKEN`` on each
    caller and ``WARPCACHE_CALLERS`` on WarpCache."""
    return f"development-warpcache-{caller}"


class NudgesSettings(BaseSettings):
    """Settings common to every service; services subclass it and add their own."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "nudges"
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    #: JSON log lines; unset: JSON unless stdout is a terminal (readable coloured lines there).
    log_json: bool | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: Largest request body the HTTP app reads; larger ones are answered 413.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1)

    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_name: str = ""
    #: Connections of the service's pool (several services share one PostgreSQL server).
    db_pool_max_size: int = 5
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    #: Idempotent producers; the local Tansu broker does not support them, Kafka and MSK do.
    kafka_enable_idempotence: bool = False
    kafka_topic_partitions: int = 3
    #: Replicas of each topic the platform creates, and how many must be in sync for a
    #: write with ``acks=all`` to succeed (topic config ``min.insync.replicas``).
    kafka_topic_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    #: Used with SASL_PLAINTEXT / SASL_SSL; OAUTHBEARER signs in with the task's IAM role (MSK).
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] = (
        "SCRAM-SHA-512"
    )
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    #: CA bundle that signed the brokers' certificates (empty: the system trust store).
    kafka_ssl_cafile: str = ""
    #: Region of the MSK cluster whose IAM tokens OAUTHBEARER signs.
    kafka_aws_region: str = ""
    otel_exporter_otlp_endpoint: str = ""
    localization_url: str = "127.0.0.1:50052"
    warpcache_url: str = "127.0.0.1:50051"
    #: This service's token at WarpCache (empty outside production: the development token of
    #: ``service_name``); services calling WarpCache require it in production.
    warpcache_token: SecretStr = SecretStr("")
    registry_url: str = "http://127.0.0.1:4010"
    #: A subgraph registers its SDL with the registry at start-up (GraphQL services only).
    register_subgraph: bool = True
    #: Where the gateway reaches this subgraph (default: this host and ``http_port``).
    subgraph_url: str = ""

    #: AuthApi's client-credentials endpoint, where a machine account gets its tokens.
    auth_token_url: str = "http://127.0.0.1:4001/auth/token"  # noqa: S105 - a URL
    #: This service's machine account (empty: ``service_name``) and its secret; a subgraph
    #: needs them to register with GraphMonitor, which takes writes only with a token.
    service_client_id: str = ""
    service_client_secret: SecretStr = SecretStr("")

    jwt_issuer: str = "http://127.0.0.1:4001/auth"
    jwt_audience: str = "nudges"
    jwks_url: str = "http://127.0.0.1:4001/auth/.well-known/jwks.json"
    #: Least time between two fetches of the JWKS caused by tokens with an unknown ``kid``.
    jwks_refetch_seconds: float = Field(default=30.0, gt=0)

    #: Limits of one GraphQL operation, the same at the gateway and in every subgraph: how
    #: deep fields nest, how many aliases, the cost (fields times the list sizes they multiply
    #: by), the size of the query text, and the list size assumed where no ``first``/``limit``
    #: says one.
    max_depth: int = 15
    max_cost: int = 10_000
    max_aliases: int = 30
    default_list_size: int = 10
    max_query_bytes: int = 64 * 1024
    #: Most representations one subgraph operation may ask ``_entities`` to resolve. The
    #: gateway's cost limit admits at most ``max_cost / 2`` objects at one level (each object
    #: counts once, and at least one field of it is asked), so no operation it lets through
    #: needs more.
    max_entities: int = 5_000
    #: Deadline of the execution of one operation in a subgraph (below the gateway's
    #: ``subgraph_timeout_seconds``, so that the subgraph stops working before the gateway
    #: gives up on it).
    graphql_execution_timeout_seconds: float = 8.0

    phone_encryption_key: SecretStr = SecretStr("ZGV2LW9ubHktcGhvbmUta2V5LTMyLWJ5dGVzLWxvbmc=")
    phone_hash_key: SecretStr = SecretStr("dev-only-phone-hash-key")

    #: Names of fields that must be set explicitly in production: each service lists what it
    #: uses (nothing here, so that a service never requires what it does not use).
    production_required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> NudgesSettings:
        if self.kafka_min_insync_replicas > self.kafka_topic_replication_factor:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS={self.kafka_min_insync_replicas} exceeds"
                f" KAFKA_TOPIC_REPLICATION_FACTOR={self.kafka_topic_replication_factor}:"
                " no write with acks=all could succeed"
            )
        if not self.kafka_security_protocol.startswith("SASL_"):
            return self
        if self.kafka_sasl_mechanism == "OAUTHBEARER":
            if not self.kafka_aws_region:
                raise ValueError(
                    "KAFKA_AWS_REGION is required with KAFKA_SASL_MECHANISM=OAUTHBEARER"
                )
            return self
        missing = [
            name
            for name, value in (
                ("KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password.get_secret_value()),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} required with"
                f" KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}"
                f" and KAFKA_SASL_MECHANISM={self.kafka_sasl_mechanism}"
            )
        return self

    @model_validator(mode="after")
    def _production_settings_are_explicit(self) -> NudgesSettings:
        if self.environment != "production":
            return self
        missing = [
            name.upper()
            for name in self.production_required
            if name in type(self).model_fields and name not in self.model_fields_set
        ]
        if missing:
            raise MissingProductionSettings(
                f"{self.service_name}: missing production settings: {', '.join(missing)}"
            )
        # A secret counts when the service uses it (required) or someone set it: an unused
        # secret of the base class left at its default protects nothing.
        development = [
            name.upper()
            for name, field in type(self).model_fields.items()
            if (name in self.production_required or name in self.model_fields_set)
            and _is_development_secret(
                getattr(self, name), field.get_default(call_default_factory=True)
            )
        ]
        if development:
            raise DevelopmentSecretsInProduction(
                f"{self.service_name}: development secrets in production: {', '.join(development)}"
            )
        return self

    @property
    def machine_account(self) -> str:
        """The client id of this service's machine account."""
        return self.service_client_id or self.service_name

    def warpcache_caller_token(self) -> str:
        """The token this service presents to WarpCache: ``WARPCACHE_TOKEN``, else (outside
        production) the development token WarpCache's defaults grant to ``service_name``."""
        token = self.warpcache_token.get_secret_value()
        if token or self.environment == "production":
            return token
        return development_warpcache_token(self.service_name)

    def database_url(self, database: str | None = None) -> str:
        """The PostgreSQL URL of ``database`` (default: this service's own database)."""
        name = database or self.database_name
        if not name:
            return self.postgres_url
        return with_database(self.postgres_url, name)


def _is_development_secret(value: Any, default: Any) -> bool:
    """True when ``value`` is (or, for a map of secrets, holds) a non-empty development default
    secret."""
    if isinstance(default, SecretStr):
        return bool(default.get_secret_value()) and value == default
    if isinstance(default, dict) and isinstance(value, dict):
        return any(
            isinstance(secret, SecretStr)
            and bool(secret.get_secret_value())
            and value.get(key) == secret
            for key, secret in default.items()
        )
    return False


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead, keeping host, user and query."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


SettingsT = TypeVar("SettingsT", bound=NudgesSettings)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """The settings of a service from its environment; when they are refused (a missing or
    development setting in production, a value of the wrong shape), the process ends with
    status 1 and one line naming what is wrong, instead of a traceback."""
    try:
        return cls()
    except ProductionSettingsRefused as refused:
        raise SystemExit(str(refused)) from None
    except ValidationError as invalid:
        service = cls.model_fields["service_name"].default
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise SystemExit(f"{service}: invalid settings: {problems}") from None
