"""``nudges-localization``: serve LocalizationApi."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_localization.entrypoints.http import build_app
from nudges_localization.settings import LocalizationSettings


def main() -> None:
    """Serve LocalizationApi: gRPC on ``GRPC_PORT`` and HTTP (health, metrics) on
    ``HTTP_PORT``, in one process and on one event loop (the app's lifespan runs gRPC)."""
    settings = load_settings(LocalizationSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
