"""The processes of the platform as ``make dev`` runs them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Service:
    """One process: its name, command and the URL a person or a check uses."""

    name: str
    command: str
    port: int
    url_path: str = "/readyz"
    grpc_port: int | None = None

    @property
    def url(self) -> str:
        """Where a person reaches the service."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        """Where the supervisor checks the service is healthy."""
        return f"{self.url}{self.url_path}"

    def shifted(self, offset: int) -> Service:
        """The same service with every port moved by ``offset``."""
        grpc = None if self.grpc_port is None else self.grpc_port + offset
        return replace(self, port=self.port + offset, grpc_port=grpc)

    def own_env(self) -> dict[str, str]:
        """The environment only this service gets: its ports."""
        env = {"HTTP_PORT": str(self.port)}
        if self.grpc_port is not None:
            env["GRPC_PORT"] = str(self.grpc_port)
        return env


SERVICES: tuple[Service, ...] = (
    Service("warpcache", "nudges-warpcache", 4011, grpc_port=50051),
    Service("localization", "nudges-localization", 4012, grpc_port=50052),
    Service("auth", "nudges-auth", 4001),
    Service("user", "nudges-user", 4002),
    Service("product", "nudges-product", 4003),
    Service("payment", "nudges-payment", 4004),
    Service("webhooks", "nudges-webhooks", 4005),
    Service("consumers", "nudges-consumers", 4006),
    Service("registry", "nudges-registry", 4010),
    Service("gateway", "nudges-gateway", 4000),
    Service("stripe-emulator", "nudges-stripe-emulator", 12111),
    Service("twilio-emulator", "nudges-twilio-emulator", 12112),
)

#: The web UIs, served by Vite (proxying /graphql and /auth), run when the web/ npm workspace
#: is installed (``make dev`` installs it with ``make web-deps``).
UIS: tuple[Service, ...] = (
    Service("admin-ui", "npm --prefix web/admin run dev", 5173, "/"),
    Service("signup-ui", "npm --prefix web/signup run dev", 5174, "/"),
)


def runnable_services(root: Path, port_offset: int = 0) -> list[Service]:
    """Every service (its ports moved by ``port_offset``), and the UIs when the web/ workspace's
    ``node_modules`` exists under ``root`` (only on the default ports: their dev servers proxy
    to those)."""
    if port_offset:
        return [s.shifted(port_offset) for s in SERVICES]
    installed = (root / "web" / "node_modules").is_dir()
    return [*SERVICES, *(UIS if installed else ())]


def wiring_env(services: Iterable[Service]) -> dict[str, str]:
    """Where every service finds the others, for ``services`` (all of them) moved off their
    default ports: the variables the test platform sets (see :mod:`nudges_devstack.platform`)."""
    by_name = {s.name: s for s in services}

    def url(name: str, path: str = "") -> str:
        return f"{by_name[name].url}{path}"

    auth = url("auth", "/auth")
    return {
        "JWT_ISSUER": auth,
        "JWKS_URL": f"{auth}/.well-known/jwks.json",
        "AUTH_TOKEN_URL": f"{auth}/token",
        "OIDC_REDIRECT_URL": f"{auth}/callback",
        "WARPCACHE_URL": f"127.0.0.1:{by_name['warpcache'].grpc_port}",
        "LOCALIZATION_URL": f"127.0.0.1:{by_name['localization'].grpc_port}",
        "USER_URL": url("user", "/graphql"),
        "PRODUCT_URL": url("product", "/graphql"),
        "PAYMENT_URL": url("payment", "/graphql"),
        "REGISTRY_URL": url("registry"),
        "STRIPE_API_BASE": url("stripe-emulator"),
        "STRIPE_WEBHOOK_URL": url("webhooks", "/webhooks/stripe"),
        "TWILIO_API_URL": url("twilio-emulator"),
        "TWILIO_SMS_WEBHOOK_URL": url("webhooks", "/webhooks/twilio/sms"),
        "TWILIO_STATUS_CALLBACK_URL": url("webhooks", "/webhooks/twilio/status"),
    }
