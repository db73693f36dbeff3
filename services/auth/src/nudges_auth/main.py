"""``nudges-auth``: serve AuthApi."""

from __future__ import annotations

from nudges_auth.entrypoints.http import build_app
from nudges_auth.settings import AuthSettings
from nudges_kit.http import serve
from nudges_kit.settings import load_settings


def main() -> None:
    """Serve AuthApi on its configured port."""
    settings = load_settings(AuthSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
