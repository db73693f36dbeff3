"""``nudges-stripe-emulator``: serve the Stripe emulator."""

from __future__ import annotations

from nudges_emulators.stripe.app import build_app
from nudges_emulators.stripe.settings import StripeEmulatorSettings
from nudges_kit.http import serve


def main() -> None:
    """Serve the Stripe emulator on its configured port (12111 by default)."""
    settings = StripeEmulatorSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
