"""``nudges-product``: serve ProductApi."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_product.entrypoints.http import build_app
from nudges_product.settings import ProductSettings


def main() -> None:
    """Serve ProductApi on its configured port."""
    settings = load_settings(ProductSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
