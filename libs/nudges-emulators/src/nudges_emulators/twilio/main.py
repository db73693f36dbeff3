"""``nudges-twilio-emulator``: serve the Twilio emulator."""

from __future__ import annotations

from nudges_emulators.twilio.app import build_app
from nudges_emulators.twilio.settings import TwilioEmulatorSettings
from nudges_kit.http import serve


def main() -> None:
    """Serve the Twilio emulator on its configured port (12112 by default)."""
    settings = TwilioEmulatorSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
