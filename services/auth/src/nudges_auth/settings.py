"""AuthApi settings, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from nudges_kit.auth import REGISTRY_WRITE_SCOPE
from nudges_kit.client_address import ClientAddressPolicy, Topology
from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_PHONES,
    NudgesSettings,
)

#: Development secrets of the machine accounts; production sets ``MACHINE_SECRETS``.
DEV_MACHINE_SECRETS = {
    "consumers": SecretStr("dev-only-consumers-secret"),
    "webhooks": SecretStr("dev-only-webhooks-secret"),
    "user": SecretStr("dev-only-user-secret"),
    "product": SecretStr("dev-only-product-secret"),
    "payment": SecretStr("dev-only-payment-secret"),
}

#: The subgraphs' machine accounts register their SDL with GraphMonitor.
DEV_MACHINE_SCOPES: dict[str, tuple[str, ...]] = {
    name: (REGISTRY_WRITE_SCOPE,) for name in ("user", "product", "payment")
}


class InsecureSetting(RuntimeError):
    """A setting meant for development only was turned on in production."""


class AuthSettings(NudgesSettings):
    """Settings of AuthApi. Every duration is in seconds."""

    service_name: str = "auth"
    http_port: int = 4001
    #: Login, refresh and token requests are a few hundred bytes.
    max_request_body_bytes: int = Field(default=16 * 1024, ge=1)

    # One-time codes.
    otp_ttl_seconds: int = Field(default=300, ge=1)
    otp_max_attempts: int = Field(default=5, ge=1)
    #: Key of the HMAC-SHA256 under which codes are kept (never the code itself).
    otp_hmac_secret: SecretStr = SecretStr("dev-only-otp-hmac-secret")
    #: Development only: the response to ``POST /auth/otp`` carries the code.
    otp_echo: bool = False
    otp_per_phone_limit: int = Field(default=3, ge=1)
    otp_per_phone_window_seconds: int = Field(default=600, ge=1)
    otp_per_ip_limit: int = Field(default=20, ge=1)
    otp_per_ip_window_seconds: int = Field(default=600, ge=1)
    #: What stands between callers and AuthApi (``direct``, ``alb``, ``cloudfront_alb``), so
    #: which ``X-Forwarded-For`` entry is the caller (nudges_kit.client_address). The
    #: per-address limit depends on it, so production must name it.
    client_address_topology: Topology = Topology.DIRECT
    #: With ``cloudfront_alb``: the value of the ``X-Origin-Verify`` header CloudFront sends.
    edge_origin_secret: SecretStr = SecretStr("")
    #: Region assumed for numbers written without a country code.
    default_phone_region: str = "US"
    #: Languages of the SMS texts; Accept-Language picks among these.
    supported_locales: tuple[str, ...] = ("en", "es", "fr", "de")
    default_locale: str = "en"

    # Tokens and sessions.
    access_token_ttl_seconds: int = Field(default=900, ge=1)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=1)
    #: Production signing keys: a JSON list of ``{"kid", "private_key" (PEM), "not_before"}``.
    jwt_signing_keys: SecretStr = SecretStr("")
    #: Development: generated keys shared by every local process and kept across restarts.
    jwt_keys_file: Path = Path(".nudges/jwt-keys.json")
    #: A signing key older than this is replaced (the previous one stays published).
    jwt_key_rotation_seconds: int = Field(default=30 * 86400, ge=60)
    #: Cookies get ``Secure`` always (else on HTTPS requests; always in production).
    cookie_secure: bool = False
    #: Machine accounts of the client-credentials grant: name -> secret.
    machine_secrets: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEV_MACHINE_SECRETS))
    #: Scopes each machine account's tokens carry (claim ``scope``): the subgraphs write to the
    #: schema registry; an account not named here gets the ``service`` role alone.
    machine_scopes: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEV_MACHINE_SCOPES)
    )

    # Other systems.
    user_url: str = "http://127.0.0.1:4002/graphql"
    kafka_publish_timeout_seconds: float = Field(default=5.0, gt=0)
    warpcache_timeout_seconds: float = Field(default=1.0, gt=0)

    # Keycloak (empty URL: the built-in issuer only, no OIDC login).
    keycloak_url: str = ""
    keycloak_realm: str = "nudges"
    keycloak_client_id: str = "nudges-auth"
    keycloak_client_secret: SecretStr = SecretStr("")
    #: Where Keycloak sends the admin back (this service's ``/auth/callback``).
    oidc_redirect_url: str = "http://127.0.0.1:4001/auth/callback"
    oidc_state_ttl_seconds: int = Field(default=600, ge=1)
    #: Where a signed-in admin lands.
    admin_ui_url: str = "http://127.0.0.1:5173/"

    #: AuthApi has no database and is the issuer (it reads no JWKS): its production settings
    #: are the broker, the other services, the keys and the secrets.
    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_BROKER,
        *REQUIRES_PHONES,
        "jwt_issuer",
        "warpcache_url",
        "warpcache_token",
        "localization_url",
        "user_url",
        "otp_hmac_secret",
        "jwt_signing_keys",
        "machine_secrets",
        "admin_ui_url",
        "client_address_topology",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AuthSettings:
        if self.environment == "production" and self.otp_echo:
            raise InsecureSetting("auth: OTP_ECHO must not be set in production")
        if self.jwt_key_rotation_seconds <= self.access_token_ttl_seconds:
            raise ValueError("JWT_KEY_ROTATION_SECONDS must exceed ACCESS_TOKEN_TTL_SECONDS")
        if self.keycloak_url and not self.keycloak_client_secret.get_secret_value():
            raise ValueError("KEYCLOAK_CLIENT_SECRET is required with KEYCLOAK_URL")
        if (
            self.client_address_topology is Topology.CLOUDFRONT_ALB
            and not self.edge_origin_secret.get_secret_value()
        ):
            raise ValueError(
                "EDGE_ORIGIN_SECRET is required with CLIENT_ADDRESS_TOPOLOGY=cloudfront_alb"
            )
        return self

    def client_address_policy(self) -> ClientAddressPolicy:
        """How AuthApi reads its callers' addresses."""
        return ClientAddressPolicy(
            self.client_address_topology, self.edge_origin_secret.get_secret_value()
        )
