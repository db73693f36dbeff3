"""``nudges-registry``: serve GraphMonitor."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings


def main() -> None:
    """Serve GraphMonitor on its configured port."""
    settings = load_settings(RegistrySettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
