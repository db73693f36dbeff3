"""``nudges-gateway``: serve Gateway."""

from __future__ import annotations

import uvicorn

from nudges_gateway.entrypoints.http import build_app
from nudges_gateway.settings import GatewaySettings
from nudges_kit.http import server_options
from nudges_kit.settings import load_settings


def main() -> None:
    """Serve Gateway on its configured port: one process, on uvloop with the httptools parser
    (what uvicorn picks when they are installed, as they are with ``uvicorn[standard]``)."""
    settings = load_settings(GatewaySettings)
    uvicorn.run(build_app(settings), **server_options(settings))


if __name__ == "__main__":
    main()
