"""The caller's language, from ``Accept-Language`` (RFC 9110 with q-values)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def tag(value: str) -> str:
    """``es_mx`` -> ``es-MX``: language lower case, a region upper case."""
    parts = re.split(r"[-_]", value.strip())
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part)
    return "-".join(out)


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of ``header``, most preferred first (q=0 and malformed entries dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")):
        name, *params = (p.strip() for p in item.split(";"))
        if not name or name == "*" or not _TAG.match(name):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if 0 < quality <= 1:
            weighted.append((-quality, index, tag(name)))
    return [name for _, _, name in sorted(weighted)]


def choose_locale(header: str | None, supported: Iterable[str]) -> str | None:
    """The most preferred tag of ``header`` whose language is ``supported``, or None."""
    languages = {s.lower() for s in supported}
    for name in parse_accept_language(header):
        if name.split("-")[0] in languages:
            return name
    return None
