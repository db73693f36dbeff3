"""Incremental delivery: the fragments an operation defers (``@defer``), the list fields it
streams (``@stream``), the operation without its deferred fragments (its initial part), and
which subgraph requests of the whole plan that initial part waits for. A fragment deferred
inside another deferred fragment is delivered with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nudges_gateway.domain.access import TYPENAME
from nudges_gateway.domain.operation import FieldSel, FragmentSel, Selection, Stream
from nudges_gateway.domain.plan import OutField, OutSelection, Plan

#: Response keys beneath response keys: what a selection asks for, through fragments.
KeyTree = dict[str, "KeyTree"]


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


def streamed_fields(
    items: tuple[Selection, ...], variables: Mapping[str, Any]
) -> dict[int, Stream]:
    """The ``@stream`` of every field of ``items`` streamed with these variables, by the
    field's id."""
    found: dict[int, Stream] = {}

    def walk(selections: tuple[Selection, ...]) -> None:
        for item in selections:
            stream = item.stream if isinstance(item, FieldSel) else None
            if stream is not None and stream.holds(variables):
                found[id(item)] = stream
            walk(item.items)

    walk(items)
    return found


def key_tree(items: tuple[Selection, ...]) -> KeyTree:
    """The response keys ``items`` ask for, level by level (fragments merged)."""
    tree: KeyTree = {}

    def walk(selections: tuple[Selection, ...], into: KeyTree) -> None:
        for item in selections:
            if isinstance(item, FieldSel):
                walk(item.items, into.setdefault(item.key, {}))
            else:
                walk(item.items, into)

    walk(items, tree)
    return tree


def _supplies(selection: OutSelection, wanted: KeyTree, root: bool) -> bool:
    """Whether ``selection`` answers a key of ``wanted`` (``__typename`` counts for an entity
    request: it may give an object's real type)."""
    for item in selection.items:
        if isinstance(item, OutField):
            if item.key in wanted or (not root and item.name == "__typename"):
                return True
        elif _supplies(item.selection, wanted, root):
            return True
    return False


def initial_requests(plan: Plan, initial: tuple[Selection, ...]) -> frozenset[int]:
    """The ids of the requests (batches) of ``plan`` that answer some field of ``initial``
    (the operation without its deferred fragments): once they are done, the initial part
    can be shaped from what the whole plan fetched so far. A request is counted when one of
    its fetches selects, at its path, a response key the initial part asks for there."""
    wanted = key_tree(initial)
    needed: set[int] = set()
    for stage in plan.stages:
        for batch in [*stage.roots, *(b for level in stage.levels for b in level)]:
            for fetch in batch.fetches:
                at: KeyTree | None = wanted
                for key, _ in fetch.path:
                    at = at.get(key) if at is not None else None
                if at is not None and _supplies(fetch.selection, at, fetch.root):
                    needed.add(id(batch))
                    break
    return frozenset(needed)
