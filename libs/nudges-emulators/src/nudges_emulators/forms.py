"""Form bodies as Stripe and Twilio send them: flat pairs, or Stripe's bracketed nesting."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
#: Maps whose keys are the caller's own: ``metadata[0]=x`` is a key "0", not a list.
_FREE_FORM = frozenset({"metadata"})


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """The ``key=value`` pairs of a form body or query string, blanks kept."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    return parse_qsl(text, keep_blank_values=True)


def parse_flat(raw: bytes | str) -> dict[str, str]:
    """A form body as one value per key (the last one wins), as Twilio reads it."""
    return dict(parse_pairs(raw))


def parse_nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Pairs with bracketed keys as nested objects, as Stripe reads them.

    ``metadata[plan]=gold`` becomes ``{"metadata": {"plan": "gold"}}``,
    ``line_items[0][price]=p`` becomes ``{"line_items": [{"price": "p"}]}`` and
    ``expand[]=a&expand[]=b`` becomes ``{"expand": ["a", "b"]}``.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            root[key] = value
            continue
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            name = part or str(len(node))
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        node[path[-1] or str(len(node))] = value
    nested: dict[str, Any] = _with_lists(root)
    return nested


def _with_lists(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _with_lists(v, k) for k, v in node.items()}
    if key not in _FREE_FORM and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
