"""``nudges-gateway``: serve Gateway."""

from __future__ import annotations

import uvicorn

from nudges_gateway.entrypoints.http import build_app
from nudges_gateway.settings import GatewaySettings


def main() -> None:
    """Serve Gateway on its configured port: one process, on uvloop with the httptools parser
    (what uvicorn picks when they are installed, as they are with ``uvicorn[standard]``)."""
    settings = GatewaySettings()
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
