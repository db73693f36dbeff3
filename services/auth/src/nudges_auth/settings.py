"""AuthApi settings, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from nudges_kit.settings import NudgesSettings

#: Development secrets of the machine accounts; production sets ``MACHINE_SECRETS``.
DEV_MACHINE_SECRETS = {
    "consumers": SecretStr("dev-only-consumers-secret"),
    "webhooks": SecretStr("dev-only-webhooks-secret"),
    "payment": SecretStr("dev-only-payment-secret"),
}


class InsecureSetting(RuntimeError):
    """A setting meant for development only was turned on in production."""


class AuthSettings(NudgesSettings):
    """Settings of AuthApi. Every duration is in seconds."""

    service_name: str = "auth"
    http_port: int = 4001

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
    #: Proxies in front of AuthApi that append to ``X-Forwarded-For`` (0: use the peer). The
    #: per-address limit depends on it, so production must say how many there are.
    trusted_proxy_hops: int = Field(default=0, ge=0)
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
        *(
            name
            for name in NudgesSettings.production_required
            if name not in ("postgres_url", "jwks_url")
        ),
        "warpcache_url",
        "localization_url",
        "user_url",
        "otp_hmac_secret",
        "jwt_signing_keys",
        "machine_secrets",
        "admin_ui_url",
        "trusted_proxy_hops",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AuthSettings:
        if self.environment == "production" and self.otp_echo:
            raise InsecureSetting("auth: OTP_ECHO must not be set in production")
        if self.jwt_key_rotation_seconds <= self.access_token_ttl_seconds:
            raise ValueError("JWT_KEY_ROTATION_SECONDS must exceed ACCESS_TOKEN_TTL_SECONDS")
        if self.keycloak_url and not self.keycloak_client_secret.get_secret_value():
            raise ValueError("KEYCLOAK_CLIENT_SECRET is required with KEYCLOAK_URL")
        return self
