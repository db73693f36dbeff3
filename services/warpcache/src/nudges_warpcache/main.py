"""``nudges-warpcache``: serve WarpCache."""

from __future__ import annotations

from nudges_kit.http import serve

from nudges_warpcache.entrypoints.http import build_app
from nudges_warpcache.settings import WarpcacheSettings


def main() -> None:
    """Serve WarpCache on its configured port."""
    settings = WarpcacheSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
