"""``nudges-payment``: serve PaymentApi."""

from __future__ import annotations

from nudges_kit.http import serve
from nudges_kit.settings import load_settings
from nudges_payment.entrypoints.http import build_app
from nudges_payment.settings import PaymentSettings


def main() -> None:
    """Serve PaymentApi on its configured port."""
    settings = load_settings(PaymentSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
