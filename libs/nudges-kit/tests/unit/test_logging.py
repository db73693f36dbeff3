"""Log redaction: no phone number and no secret reaches a log line."""

from __future__ import annotations

import json
import logging

import pytest

from nudges_kit.logging import configure_logging, get_logger, redact_text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("otp sent to +14155550123", "+14155550123"),
        ("otp sent to +44 20 7946 0958", "+44 20 7946 0958"),
        ("call (415) 555-0123 now", "(415) 555-0123"),
        ("call 415-555-0123 now", "415-555-0123"),
        ("raw 14155550123 digits", "14155550123"),
    ],
)
def test_phone_numbers_are_redacted(text: str, number: str) -> None:
    assert redact_text(text) == text.replace(number, "[redacted]")


@pytest.mark.parametrize(
    "text",
    ["connect to 127.0.0.1:9092", "took 12.5 ms", "2026-11-22T03:38:48Z", "offset 12345"],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert redact_text(text) == text


def test_log_lines_carry_no_phone_or_secret(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO", json=True)
    get_logger("t").info(
        "login for +14155550123",
        phone="+14155550123",
        access_token="eyJhbGciOi",
        code="123456",
        status_code=200,
        nested={"client_secret": "s3cr3t", "to": "+14155550123"},
    )
    logging.getLogger("plain").warning("stdlib line about +14155550123")
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert len(lines) == 2
    text = json.dumps(lines)
    for secret in ("+14155550123", "eyJhbGciOi", "123456", "s3cr3t"):
        assert secret not in text
    assert lines[0]["status_code"] == 200
    assert lines[0]["service"] == "test"
