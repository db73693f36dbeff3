"""One typed settings object per service, read from environment variables.

Every field has a development default. Fields listed in ``production_required``
must be set explicitly when ``ENVIRONMENT=production``; startup fails with a
message naming each missing one.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MissingProductionSettings(RuntimeError):
    """Raised at startup when production settings are left at their defaults."""


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
    log_json: bool = True
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: Largest request body the HTTP app reads; larger ones are answered 413.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1)

    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_name: str = ""
    #: Connections of the service's pool (several services share one PostgreSQL server).
    db_pool_max_size: int = 5
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_enable_idempotence: bool = False
    kafka_topic_partitions: int = 3
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

    phone_encryption_key: SecretStr = SecretStr("ZGV2LW9ubHktcGhvbmUta2V5LTMyLWJ5dGVzLWxvbmc=")
    phone_hash_key: SecretStr = SecretStr("dev-only-phone-hash-key")

    #: Names of fields that must be set explicitly in production.
    production_required: ClassVar[tuple[str, ...]] = (
        "postgres_url",
        "kafka_bootstrap_servers",
        "jwt_issuer",
        "jwks_url",
        "phone_encryption_key",
        "phone_hash_key",
    )

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


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead, keeping host, user and query."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))
