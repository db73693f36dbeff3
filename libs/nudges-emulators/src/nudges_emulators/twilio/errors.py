"""Twilio's REST errors: ``{"code", "message", "more_info", "status"}``, which the ``twilio``
library raises as ``TwilioRestException``."""

from __future__ import annotations

from typing import Any

#: Texts of the error codes the emulator answers with (Twilio's own wording).
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource {detail} was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again",
    21211: "Invalid 'To' Phone Number: {detail}",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number: {detail}",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}


class TwilioError(Exception):
    """An error answered as Twilio answers it."""

    def __init__(self, status: int, code: int, detail: str = "") -> None:
        self.status = status
        self.code = code
        self.message = MESSAGES.get(code, "Error").format(detail=detail)
        super().__init__(self.message)

    def as_json(self) -> dict[str, Any]:
        """The response body."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def forced(status: int) -> TwilioError:
    """The error a configured failure answers with: 429, 500, 503 or another status."""
    code = {429: 20429, 500: 20500, 503: 20503}.get(status, 20500)
    return TwilioError(status, code)
