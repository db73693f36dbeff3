"""What Twilio's answer to a send means for that message: accepted, refused for good, or to be
tried again later, and whether Twilio may have taken a message it did not confirm (then it is
looked for before it is sent again).

- 429: retry; Twilio did not take the message.
- 5xx, a timeout, a lost connection, or a success without a message sid: retry; Twilio may
  have taken it.
- 401, 403, 404: the account or its configuration, not this message: retry (and, past the
  attempts, the dead-letter topic), Twilio did not take it.
- any other 4xx (21211 invalid number, 21610 unsubscribed recipient, 21614 not a mobile...):
  refused for good, with Twilio's error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nudges_kit.sms_text import count_segments

#: Errors of the account or its configuration, not of one message: retried, then dead-lettered.
ACCOUNT_ERRORS = frozenset({401, 403, 404})


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    RETRY = "retry"


@dataclass(frozen=True)
class Verdict:
    """What to do with a message after Twilio's answer; ``code`` is Twilio's error code (or the
    HTTP status when Twilio gave none) and ``reason`` says what happened, for logs and errors."""

    outcome: Outcome
    code: str = ""
    reason: str = ""
    maybe_accepted: bool = False


def classify_answer(
    status: int, error_code: int | str | None, message: str, *, has_sid: bool
) -> Verdict:
    """The verdict on Twilio's HTTP answer ``status`` (its JSON ``code`` and ``message`` for an
    error; ``has_sid`` when the answer names the message created)."""
    code = str(error_code or status)
    if status >= 400:
        if status == 429:
            return Verdict(Outcome.RETRY, code, f"Twilio 429 ({code})", maybe_accepted=False)
        if status >= 500:
            return Verdict(Outcome.RETRY, code, f"Twilio {status} ({code})", maybe_accepted=True)
        if status in ACCOUNT_ERRORS:
            return Verdict(
                Outcome.RETRY, code, f"Twilio {status} ({code}): {message}", maybe_accepted=False
            )
        return Verdict(Outcome.REFUSED, code, message)
    if status >= 300 or not has_sid:
        return Verdict(
            Outcome.RETRY,
            code,
            f"Twilio answered {status} without a message",
            maybe_accepted=True,
        )
    return Verdict(Outcome.ACCEPTED)


def classify_transport_failure(error: BaseException) -> Verdict:
    """The verdict on a send whose answer never came (timeout, connection lost): Twilio may
    have the message."""
    return Verdict(Outcome.RETRY, reason=f"Twilio: {type(error).__name__}", maybe_accepted=True)


def segments_billed(reported: object, body: str) -> int:
    """The segments a sent message is charged for: what Twilio reports (``num_segments``), or,
    when it reports nothing readable, what the body takes by the kit's count (at least 1)."""
    if isinstance(reported, int | str) and reported != "":
        try:
            return max(1, int(reported))
        except ValueError:
            pass
    return max(1, count_segments(body).segments)
