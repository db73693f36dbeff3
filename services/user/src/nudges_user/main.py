"""``nudges-user``: serve UserApi."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_user.entrypoints.http import build_app
from nudges_user.settings import UserSettings


def main() -> None:
    """Serve UserApi on its configured port."""
    settings = load_settings(UserSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
