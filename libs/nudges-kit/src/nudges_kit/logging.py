"""structlog logs with trace ids, and redaction of phone numbers and secrets: JSON lines for
machines, coloured readable lines when a person watches a terminal."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import orjson
import structlog
from opentelemetry import trace

#: Phone numbers: E.164 (``+14155550123``), North-American written forms
#: (``(415) 555-0123``, ``415-555-0123``) and bare runs of 10 to 15 digits.
PHONE_PATTERN = re.compile(
    r"\+\d[\d ()-]{6,18}\d"
    r"|(?<![\w.])\(?\d{3}\)?[ -]\d{3}-\d{4}(?![\w])"
    r"|(?<![\w.:])\d{10,15}(?![\w.:])"
)
#: Keys whose values are never logged.
SECRET_KEYS = re.compile(
    r"(password|secret|token|authorization|cookie|api_?key|signature|private_?key|"
    r"ciphertext|phone|^code$|^otp(_code)?$)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    """``text`` with anything that looks like a phone number replaced."""
    return PHONE_PATTERN.sub(REDACTED, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEYS.search(k) else _redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redaction_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Remove phone numbers and secret-looking fields from a log event."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _redact(event_dict[key])
        elif SECRET_KEYS.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def _trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event_dict["trace_id"] = format(span.trace_id, "032x")
        event_dict["span_id"] = format(span.span_id, "016x")
    return event_dict


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def wants_json(stream: TextIO, json: bool | None = None) -> bool:
    """JSON when ``json`` says so (``LOG_JSON``), else unless ``stream`` is a terminal."""
    if json is not None:
        return json
    return not _is_terminal(stream)


def wants_colours(stream: TextIO) -> bool:
    """Colours on a terminal, or where ``FORCE_COLOR`` asks (the supervisor of ``make dev``
    sets it for services writing into its pipe); never when ``NO_COLOR`` is set."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


#: Lines written at INFO by libraries for every routine call (the gateway polls the registry's
#: supergraph every few seconds): debug lines here, so that what a person needs stands out.
ROUTINE = (("httpx", "HTTP Request:"), ("httpcore", "HTTP Request:"))


class RoutineAtDebug(logging.Filter):
    """Lowers :data:`ROUTINE` lines to DEBUG, and drops them below ``level``."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and any(
            record.name == name and str(record.msg).startswith(prefix) for name, prefix in ROUTINE
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def configure_logging(service: str, level: str = "INFO", json: bool | None = None) -> None:
    """Route structlog and standard logging to one stream on stdout: JSON lines when ``json``
    is true, or when it is ``None`` and stdout is not a terminal; readable (coloured on a
    terminal) lines otherwise. Routine polls and health checks are DEBUG lines."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
        structlog.processors.format_exc_info,
        redaction_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if wants_json(sys.stdout, json)
        else structlog.dev.ConsoleRenderer(colors=wants_colours(sys.stdout))
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler.addFilter(RoutineAtDebug(root.level))
    root.handlers[:] = [handler]
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structured logger."""
    return structlog.stdlib.get_logger(name)  # type: ignore[no-any-return]
