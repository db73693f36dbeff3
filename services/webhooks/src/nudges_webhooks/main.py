"""``nudges-webhooks``: serve Webhooks."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_webhooks.entrypoints.http import build_app
from nudges_webhooks.settings import WebhooksSettings


def main() -> None:
    """Serve Webhooks on its configured port."""
    settings = load_settings(WebhooksSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
