"""``nudges-gateway``: serve Gateway."""

from __future__ import annotations

from nudges_gateway.entrypoints.http import build_app
from nudges_gateway.settings import GatewaySettings
from nudges_kit.http import serve


def main() -> None:
    """Serve Gateway on its configured port."""
    settings = GatewaySettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
