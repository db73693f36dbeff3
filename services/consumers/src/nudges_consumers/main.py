"""``nudges-consumers``: serve Consumers."""

from __future__ import annotations

from nudges_consumers.entrypoints.http import build_app
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.http import serve
from nudges_kit.settings import load_settings


def main() -> None:
    """Serve Consumers on its configured port."""
    settings = load_settings(ConsumersSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
