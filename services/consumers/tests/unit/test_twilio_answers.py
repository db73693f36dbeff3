"""What Twilio's answer to a send means: accepted, refused for good, or retried (and whether
Twilio may have the message anyway)."""

from __future__ import annotations

import pytest

from nudges_consumers.domain.twilio_answers import (
    Outcome,
    classify_answer,
    classify_transport_failure,
    segments_billed,
)


def test_an_answer_with_a_sid_is_accepted() -> None:
    assert classify_answer(201, None, "", has_sid=True).outcome is Outcome.ACCEPTED


def test_429_is_retried_and_twilio_did_not_take_the_message() -> None:
    verdict = classify_answer(429, 20429, "Too Many Requests", has_sid=False)
    assert (verdict.outcome, verdict.maybe_accepted) == (Outcome.RETRY, False)
    assert verdict.reason == "Twilio 429 (20429)"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_and_twilio_may_have_the_message(status: int) -> None:
    verdict = classify_answer(status, None, "Internal error", has_sid=False)
    assert (verdict.outcome, verdict.maybe_accepted) == (Outcome.RETRY, True)
    assert verdict.code == str(status)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_account_errors_are_retried_not_refused(status: int) -> None:
    verdict = classify_answer(status, 20003, "Authenticate", has_sid=False)
    assert (verdict.outcome, verdict.maybe_accepted) == (Outcome.RETRY, False)
    assert verdict.reason == f"Twilio {status} (20003): Authenticate"


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21612, 21614])
def test_refusal_codes_are_permanent_with_twilios_code(code: int) -> None:
    verdict = classify_answer(400, code, "Invalid 'To' Phone Number", has_sid=False)
    assert verdict.outcome is Outcome.REFUSED
    assert verdict.code == str(code)
    assert verdict.reason == "Invalid 'To' Phone Number"


def test_a_4xx_without_a_code_is_refused_with_the_status() -> None:
    assert classify_answer(422, None, "bad", has_sid=False).code == "422"


@pytest.mark.parametrize(("status", "has_sid"), [(200, False), (201, False), (302, True)])
def test_a_success_without_a_message_is_in_doubt(status: int, has_sid: bool) -> None:
    verdict = classify_answer(status, None, "", has_sid=has_sid)
    assert (verdict.outcome, verdict.maybe_accepted) == (Outcome.RETRY, True)


def test_a_timeout_is_in_doubt() -> None:
    verdict = classify_transport_failure(TimeoutError())
    assert (verdict.outcome, verdict.maybe_accepted) == (Outcome.RETRY, True)
    assert verdict.reason == "Twilio: TimeoutError"


@pytest.mark.parametrize(
    ("reported", "body", "billed"),
    [
        ("2", "short", 2),  # Twilio's figure wins
        (3, "short", 3),
        ("0", "short", 1),
        (None, "a" * 161, 2),  # no figure: the body's own count
        ("", "ж" * 71, 2),
        ("n/a", "short", 1),
        (None, "", 1),
    ],
)
def test_the_segments_billed_are_twilios_else_the_bodys(
    reported: object, body: str, billed: int
) -> None:
    assert segments_billed(reported, body) == billed
