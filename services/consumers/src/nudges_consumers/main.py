"""``nudges-consumers``: serve Consumers."""

from __future__ import annotations

from nudges_consumers.entrypoints.http import build_app
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.http import serve


def main() -> None:
    """Serve Consumers on its configured port."""
    settings = ConsumersSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
