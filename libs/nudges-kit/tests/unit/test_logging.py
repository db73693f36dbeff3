"""Log redaction: no phone number and no secret reaches a log line."""

from __future__ import annotations

import io
import json
import logging
import sys
from typing import Any

import pytest

from nudges_kit.logging import configure_logging, get_logger, redact_text, wants_json
from nudges_kit.settings import NudgesSettings


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


class Terminal(io.StringIO):
    """An output stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _log_through(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> str:
    monkeypatch.setattr(sys, "stdout", stream)
    configure_logging("test", kwargs.pop("level", "INFO"), **kwargs)
    get_logger("t").info("subscriber added", plan="gold")
    logging.getLogger("httpx").info('HTTP Request: GET http://127.0.0.1:4010/supergraph "304"')
    return stream.getvalue()


def test_a_terminal_gets_coloured_readable_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _log_through(Terminal(), monkeypatch)
    assert not out.lstrip().startswith("{")
    assert "subscriber added" in out
    assert "\x1b[" in out  # ANSI colours


def test_a_pipe_gets_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    out = _log_through(io.StringIO(), monkeypatch)
    [line] = [json.loads(x) for x in out.splitlines()]
    assert line["event"] == "subscriber added"
    assert line["plan"] == "gold"


def test_log_json_forces_json_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _log_through(Terminal(), monkeypatch, json=True)
    assert json.loads(out.splitlines()[0])["event"] == "subscriber added"


def test_log_json_false_gives_readable_lines_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _log_through(io.StringIO(), monkeypatch, json=False)
    assert "subscriber added" in out
    assert not out.startswith("{")
    assert "\x1b[" not in out  # no colours where nobody asked for them


def test_force_color_colours_a_pipe_and_no_color_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in _log_through(io.StringIO(), monkeypatch, json=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _log_through(io.StringIO(), monkeypatch, json=False)


def test_routine_polls_are_debug_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = _log_through(io.StringIO(), monkeypatch, json=True)
    assert "supergraph" not in quiet
    verbose = _log_through(io.StringIO(), monkeypatch, json=True, level="DEBUG")
    [poll] = [json.loads(x) for x in verbose.splitlines() if "supergraph" in x]
    assert poll["level"] == "debug"


def test_settings_leave_the_choice_to_the_terminal_unless_log_json_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOG_JSON", raising=False)
    assert NudgesSettings().log_json is None
    monkeypatch.setenv("LOG_JSON", "false")
    assert NudgesSettings().log_json is False
    assert wants_json(Terminal(), None) is False
    assert wants_json(io.StringIO(), None) is True
