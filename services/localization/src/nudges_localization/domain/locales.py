"""Locale tags as callers send them, and the fallback chain from a tag to a catalog."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_]")


def normalize(tag: str) -> str:
    """``tag`` in the catalogs' spelling: ``es-mx``, ``ES_MX``, ``es_MX.UTF-8`` -> ``es_MX``.

    Language lower case, a four-letter script title case, a region upper case; an empty or
    unreadable tag gives ``""``.
    """
    tag = tag.strip().split(".", 1)[0].split("@", 1)[0]
    parts = [p for p in _SEPARATORS.split(tag) if p]
    if not parts or not parts[0].isalpha():
        return ""
    normalized = [parts[0].lower()]
    for part in parts[1:]:
        if not part.isalnum():
            break
        normalized.append(part.title() if len(part) == 4 else part.upper())
    return "_".join(normalized)


def fallback_chain(tag: str, default: str) -> tuple[str, ...]:
    """Locales to try for ``tag``, most specific first, ending with ``default``.

    ``es-MX`` -> ``(es_MX, es, en)``; ``zh-Hant-TW`` -> ``(zh_Hant_TW, zh_Hant, zh, en)``;
    ``""`` -> ``(en,)``.
    """
    parts = normalize(tag).split("_") if normalize(tag) else []
    chain = ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]
    return tuple(dict.fromkeys([*chain, default]))
