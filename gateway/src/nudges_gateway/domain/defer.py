"""``@defer``: the fragments an operation defers, and the operation without them (its initial
part). A fragment deferred inside another deferred fragment is delivered with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nudges_gateway.domain.access import TYPENAME
from nudges_gateway.domain.operation import FragmentSel, Selection


def deferred_fragments(
    items: tuple[Selection, ...], variables: Mapping[str, Any]
) -> frozenset[int]:
    """The ids of the fragments of ``items`` deferred with these variables (outermost ones)."""
    found: set[int] = set()

    def walk(selections: tuple[Selection, ...]) -> None:
        for item in selections:
            if isinstance(item, FragmentSel):
                if item.defer is not None and item.defer.holds(variables):
                    found.add(id(item))
                else:
                    walk(item.items)
            elif item.items:
                walk(item.items)

    walk(items)
    return frozenset(found)


def without(items: tuple[Selection, ...], deferred: frozenset[int]) -> tuple[Selection, ...]:
    """``items`` without the fragments ``deferred`` (a selection left empty keeps
    ``__typename``, so that its object is answered)."""
    kept: list[Selection] = []
    for item in items:
        if isinstance(item, FragmentSel):
            if id(item) in deferred:
                continue
            inner = without(item.items, deferred)
            if inner:
                kept.append(FragmentSel(item.type_condition, inner, item.defer))
        elif item.items:
            inner = without(item.items, deferred) or (TYPENAME,)
            kept.append(replace(item, items=inner))
        else:
            kept.append(item)
    return tuple(kept)
