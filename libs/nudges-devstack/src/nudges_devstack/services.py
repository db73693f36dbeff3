"""The processes of the platform as ``make dev`` runs them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Service:
    """One process: its name, command and the URL a person or a check uses."""

    name: str
    command: str
    port: int
    url_path: str = "/readyz"

    @property
    def health_url(self) -> str:
        """Where the supervisor checks the service is healthy."""
        return f"http://127.0.0.1:{self.port}{self.url_path}"


SERVICES: tuple[Service, ...] = (
    Service("warpcache", "nudges-warpcache", 4011),
    Service("localization", "nudges-localization", 4012),
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


def runnable_services(root: Path) -> list[Service]:
    """Every service, and the UIs when the web/ workspace's ``node_modules`` exists under
    ``root``."""
    installed = (root / "web" / "node_modules").is_dir()
    return [*SERVICES, *(UIS if installed else ())]
