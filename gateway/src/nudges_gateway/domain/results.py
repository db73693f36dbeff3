"""Results: subgraph answers merged into one tree, representations taken from it, and the
client's response shaped from it with GraphQL's null bubbling and error paths.

Subgraph answers keep the client's response keys, so entity results merge straight into the
objects they extend. Fields the gateway added for itself (keys, ``@requires`` inputs,
``__typename``) are left out when the response is shaped from the client's selection.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    is_abstract_type,
    is_leaf_type,
)

from nudges_gateway.domain.operation import FieldSel, FragmentSel, Selection, Stream
from nudges_gateway.domain.plan import Fetch, PathStep
from nudges_gateway.domain.supergraph import Supergraph

#: Marks an object whose fetch failed: the error to report for its missing fields.
FAILED = "\x00failed"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
#: At most this many errors in one response; the rest are counted in a last one.
MAX_ERRORS = 100

Json = dict[str, Any]


#: A response path as shaping goes: (the parent's path, key or index), None at the root;
#: made a list only for an error or an incremental part.
_Path = tuple[Any, str | int] | None


def _listed(path: _Path) -> list[str | int]:
    steps: list[str | int] = []
    while path is not None:
        path, step = path
        steps.append(step)
    steps.reverse()
    return steps


#: How a value of each kind of output type is completed.
_NON_NULL, _LIST, _LEAF, _OBJECT, _ABSTRACT = range(1, 6)
_KINDS: dict[type, int] = {
    GraphQLNonNull: _NON_NULL,
    GraphQLList: _LIST,
    GraphQLScalarType: _LEAF,
    GraphQLEnumType: _LEAF,
    GraphQLObjectType: _OBJECT,
    GraphQLInterfaceType: _ABSTRACT,
    GraphQLUnionType: _ABSTRACT,
}


def _kind_of(graphql_type: GraphQLOutputType) -> int:
    """The kind of an output type whose class is none of :data:`_KINDS` (a subclass)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _NON_NULL
    if isinstance(graphql_type, GraphQLList):
        return _LIST
    if is_leaf_type(graphql_type):
        return _LEAF
    return _ABSTRACT if is_abstract_type(graphql_type) else _OBJECT


_FieldTypes = tuple[dict[tuple[str, str], GraphQLOutputType], dict[tuple[str, str], bool]]
_FIELD_TYPES: weakref.WeakKeyDictionary[GraphQLSchema, _FieldTypes] = weakref.WeakKeyDictionary()


def _field_types(schema: GraphQLSchema) -> _FieldTypes:
    """The output type of each (parent, field) of ``schema`` looked up so far, and whether it
    is a leaf (kept while the schema is)."""
    found = _FIELD_TYPES.get(schema)
    if found is None:
        found = _FIELD_TYPES[schema] = ({}, {})
    return found


class _Bubble:
    """A null where the type forbids one: the nearest nullable parent becomes null."""


BUBBLE = _Bubble()


def _matches(value: Json, type_filter: str | None) -> bool:
    return type_filter is None or value.get("__typename", type_filter) == type_filter


def _extend(into: list[Json], value: Any, type_filter: str | None) -> None:
    if isinstance(value, dict):
        if _matches(value, type_filter):
            into.append(value)
    elif isinstance(value, list):
        for item in value:
            _extend(into, item, type_filter)


def objects_at(data: Json, path: tuple[PathStep, ...], type_filter: str | None) -> list[Json]:
    """The objects at ``path`` (lists flattened, nulls skipped) whose type is ``type_filter``."""
    current = [data]
    for key, step_filter in path:
        following: list[Json] = []
        for obj in current:
            value = obj.get(key)
            if value is not None:
                _extend(following, value, step_filter)
        current = following
    return [o for o in current if _matches(o, type_filter)]


def objects_with_ancestors(
    data: Json, path: tuple[PathStep, ...], type_filter: str | None
) -> list[tuple[Json, list[Json]]]:
    """Like :func:`objects_at`, each object with the objects on its way from the root (the
    root data first, one per step of ``path``; the object itself last)."""
    current: list[tuple[Json, list[Json]]] = [(data, [data])]
    for key, step_filter in path:
        following: list[tuple[Json, list[Json]]] = []
        for obj, chain in current:
            value = obj.get(key)
            if value is None:
                continue
            found: list[Json] = []
            _extend(found, value, step_filter)
            following.extend((item, [*chain, item]) for item in found)
        current = following
    return [(o, chain) for o, chain in current if _matches(o, type_filter)]


def context_value(value: Any, items: tuple[Selection, ...]) -> Any:
    """What a context's selection (one field per level) reads from ``value``."""
    fields = list(_all_fields(items))
    if not fields or value is None:
        return value
    if isinstance(value, list):
        return [context_value(v, items) for v in value]
    if isinstance(value, dict):
        return context_value(value.get(fields[0].key), fields[0].items)
    return value


def _walk_paths(
    value: Any, path: list[str | int], type_filter: str | None
) -> Iterator[tuple[Json, list[str | int]]]:
    if isinstance(value, dict):
        if _matches(value, type_filter):
            yield value, path
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_paths(item, [*path, index], type_filter)


def paths_of(data: Json, path: tuple[PathStep, ...]) -> dict[int, list[str | int]]:
    """The response path of every object at ``path``, by ``id()`` of the object."""
    current: list[tuple[Json, list[str | int]]] = [(data, [])]
    for key, step_filter in path:
        following: list[tuple[Json, list[str | int]]] = []
        for obj, at in current:
            value = obj.get(key)
            if value is not None:
                following.extend(_walk_paths(value, [*at, key], step_filter))
        current = following
    return {id(obj): at for obj, at in current}


def _project(value: Any, items: tuple[Selection, ...]) -> Any:
    if not items or value is None:
        return value
    if isinstance(value, list):
        return [_project(v, items) for v in value]
    if isinstance(value, dict):
        out: Json = {}
        for fsel in _all_fields(items):
            out[fsel.name] = _project(value.get(fsel.key), fsel.items)
        return out
    return value


def _all_fields(items: tuple[Selection, ...]) -> Iterator[FieldSel]:
    for item in items:
        if isinstance(item, FieldSel):
            yield item
        else:
            yield from _all_fields(item.items)


def representations(fetch: Fetch, objects: list[Json]) -> tuple[list[Json], list[list[Json]]]:
    """The distinct representations of ``objects`` for ``fetch``, and the objects of each.
    Objects missing a key field are left out (nothing can be fetched for them)."""
    reps: list[Json] = []
    targets: list[list[Json]] = []
    index: dict[bytes, int] = {}
    fields = fetch.representation
    for obj in objects:
        rep: Json = {"__typename": fetch.representation_typename}
        complete = True
        for position, fsel in enumerate(fields):
            if position == 0:
                continue
            value = obj.get(fsel.key)
            if value is None:
                if position < fetch.key_fields:
                    complete = False
                    break
            elif fsel.items:
                value = _project(value, fsel.items)
            rep[fsel.name] = value
        if not complete:
            continue
        identity = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
        found = index.get(identity)
        if found is None:
            index[identity] = len(reps)
            reps.append(rep)
            targets.append([obj])
        else:
            targets[found].append(obj)
    return reps, targets


def merge_into(target: Json, source: Json) -> None:
    """Merge ``source`` into ``target`` (objects deeply, lists item by item)."""
    for key, value in source.items():
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            merge_into(existing, value)
        elif (
            isinstance(existing, list)
            and isinstance(value, list)
            and len(existing) == len(value)
            and any(isinstance(v, dict | list) for v in value)
        ):
            for mine, theirs in zip(existing, value, strict=True):
                if isinstance(mine, dict) and isinstance(theirs, dict):
                    merge_into(mine, theirs)
        else:
            target[key] = value


def relocate_errors(
    errors: list[Json], calls: Mapping[str, tuple[list[Fetch], list[list[Json]]]], data: Json
) -> list[Json]:
    """Subgraph errors of an entity request, with paths rewritten to the client's response
    (``["_e3", 5, "name"]`` becomes the path of the object of representation 5, + ``name``)."""
    relocated: list[Json] = []
    paths_cache: dict[str, dict[int, list[str | int]]] = {}
    for error in errors:
        clean = _clean_error(error)
        path = error.get("path") if isinstance(error, dict) else None
        if isinstance(path, list) and len(path) >= 2 and path[0] in calls:
            fetches, targets = calls[path[0]]
            index = path[1]
            where = None
            if isinstance(index, int) and 0 <= index < len(targets) and targets[index]:
                if path[0] not in paths_cache:
                    paths_cache[path[0]] = {}
                    for fetch in fetches:
                        paths_cache[path[0]].update(paths_of(data, fetch.path))
                where = paths_cache[path[0]].get(id(targets[index][0]))
            if where is not None:
                clean["path"] = [*where, *path[2:]]
            else:
                clean.pop("path", None)
        relocated.append(clean)
    return relocated


def _clean_error(error: Any) -> Json:
    if not isinstance(error, dict):
        return {"message": str(error)}
    clean: Json = {"message": str(error.get("message", "subgraph error"))}
    if isinstance(error.get("path"), list):
        clean["path"] = error["path"]
    if isinstance(error.get("extensions"), dict):
        clean["extensions"] = error["extensions"]
    return clean


def root_errors(errors: Any) -> list[Json]:
    """Errors of a root request, as the client sees them."""
    return [_clean_error(e) for e in errors] if isinstance(errors, list) else []


class Shaper:
    """Builds the client's response from the merged tree."""

    def __init__(
        self,
        supergraph: Supergraph,
        variables: Mapping[str, Any],
        errors: list[Json],
        unauthorized: frozenset[int] = frozenset(),
        deferred: frozenset[int] = frozenset(),
        record_deferred: bool = False,
        streamed: Mapping[int, Stream] | None = None,
    ) -> None:
        self.sg = supergraph
        self.variables = variables
        self.errors = errors
        #: The ids of the client's fields taken out of the operation by access control.
        self.unauthorized = unauthorized
        #: The ids of the fragments the client deferred: left out of the response, or (with
        #: ``record_deferred``) shaped and also noted in ``incremental`` with their path.
        self.deferred = deferred
        self.record_deferred = record_deferred
        self.incremental: list[Json] = []
        #: The ``@stream`` of the client's streamed list fields, by their ids: such a list
        #: is answered with its first ``initialCount`` items, the others noted in
        #: ``streams`` (``items`` and the ``path`` of the first of them). Lists within those
        #: later items come whole.
        self.streamed = streamed or {}
        self.streams: list[Json] = []
        self._whole = 0
        self._noting: list[FragmentSel] | None = None
        self._reported: set[int] = set()
        self._types, self._leaves = _field_types(supergraph.schema)
        #: The fields of a selection on a runtime type, by (id of the selection, type): the
        #: objects of a list share their selection. The selection is kept with them, so that
        #: its id stays its own.
        self._grouped: dict[
            tuple[int, str], tuple[tuple[Selection, ...], dict[str, list[FieldSel]]]
        ] = {}

    def shape(
        self, root: str, items: tuple[Selection, ...], data: Json, introspection: Json | None
    ) -> Json | None:
        """The ``data`` of the response (None when a non-null root field is null)."""
        result: Json = {}
        noted = self._start_noting()
        grouped = self.collect(items, root)
        self._noting = None
        for key, fields in grouped.items():
            name = fields[0].name
            if name == "__typename":
                result[key] = root
            elif name in INTROSPECTION_FIELDS:
                result[key] = (introspection or {}).get(key)
            else:
                value = self.complete_field(root, fields, data, (None, key))
                if value is BUBBLE:
                    return None
                result[key] = value
        self._note(noted, root, result, [])
        return result

    def _start_noting(self) -> list[FragmentSel]:
        noted: list[FragmentSel] = []
        if self.record_deferred and self.deferred:
            self._noting = noted
        return noted

    def _note(
        self, noted: list[FragmentSel], runtime: str, result: Json, path: list[str | int]
    ) -> None:
        """The deferred fragments applying to ``result`` (at ``path``), as incremental parts."""
        for fragment in noted:
            keys = self.collect(fragment.items, runtime)
            part: Json = {"data": {k: result[k] for k in keys if k in result}, "path": path}
            if fragment.defer is not None and fragment.defer.label is not None:
                part["label"] = fragment.defer.label
            self.incremental.append(part)

    def collect(self, items: tuple[Selection, ...], runtime: str) -> dict[str, list[FieldSel]]:
        if self.deferred:  # collecting notes the deferred fragments met: never skipped
            grouped: dict[str, list[FieldSel]] = {}
            self._collect(items, runtime, grouped)
            return grouped
        key = (id(items), runtime)
        found = self._grouped.get(key)
        if found is not None and found[0] is items:
            return found[1]
        grouped = {}
        self._collect(items, runtime, grouped)
        self._grouped[key] = (items, grouped)
        return grouped

    def _collect(
        self, items: tuple[Selection, ...], runtime: str, grouped: dict[str, list[FieldSel]]
    ) -> None:
        for item in items:
            if isinstance(item, FieldSel):
                if not item.conditions or item.included(self.variables):
                    grouped.setdefault(item.key, []).append(item)
            elif isinstance(item, FragmentSel) and (
                item.type_condition is None or self.sg.applies(item.type_condition, runtime)
            ):
                if self.deferred and id(item) in self.deferred:
                    if not self.record_deferred:
                        continue
                    if self._noting is not None:
                        self._noting.append(item)
                self._collect(item.items, runtime, grouped)

    def field_type(self, parent: str, name: str) -> GraphQLOutputType:
        found = self._types.get((parent, name))
        if found is None:
            graphql_type = self.sg.schema.get_type(parent)
            found = graphql_type.fields[name].type  # type: ignore[union-attr]
            self._types[(parent, name)] = found
        return found

    def complete_field(self, parent: str, fields: list[FieldSel], obj: Json, path: _Path) -> Any:
        first = fields[0]
        if self.unauthorized and all(id(f) in self.unauthorized for f in fields):
            # Null, its error given once for the operation's path (a non-null one nulls its
            # parent without another error).
            graphql_type = self.field_type(parent, first.name)
            return BUBBLE if isinstance(graphql_type, GraphQLNonNull) else None
        key = first.key
        if key in obj:
            value = obj[key]
            if value is not None and self.leaf(parent, first.name):
                return value  # a scalar or enum (non-null or not) is answered as it came
        else:
            value = None
            if FAILED in obj:
                self.report_failure(obj, _listed(path))
        return self.complete(self.field_type(parent, first.name), fields, value, path, parent)

    def leaf(self, parent: str, name: str) -> bool:
        """Whether ``parent.name`` is a scalar or an enum, nullable or not."""
        found = self._leaves.get((parent, name))
        if found is None:
            graphql_type = self.field_type(parent, name)
            if isinstance(graphql_type, GraphQLNonNull):
                graphql_type = graphql_type.of_type
            found = self._leaves[(parent, name)] = is_leaf_type(graphql_type)
        return found

    def complete(
        self,
        graphql_type: GraphQLOutputType,
        fields: list[FieldSel],
        value: Any,
        path: _Path,
        parent: str,
    ) -> Any:
        kind = _KINDS.get(type(graphql_type)) or _kind_of(graphql_type)
        if kind == _NON_NULL:
            inner = self.complete(
                graphql_type.of_type,  # type: ignore[union-attr]
                fields,
                value,
                path,
                parent,
            )
            if inner is None:
                self.null_error(_listed(path), parent, fields[0].name)
                return BUBBLE
            return inner
        if value is None:
            return None
        if kind == _LEAF:
            return value
        if kind == _LIST:
            if not isinstance(value, list):
                self.add_error(f"expected a list for {parent}.{fields[0].name}", _listed(path))
                return None
            of_type = graphql_type.of_type  # type: ignore[union-attr]
            stream = self._stream_of(fields) if self.streamed and not self._whole else None
            if stream is None:
                return self.complete_items(of_type, fields, value, path, parent, 0)
            first = stream.count(self.variables)
            items = self.complete_items(of_type, fields, value[:first], path, parent, 0)
            if items is None or len(value) <= first:
                return items
            self._whole += 1
            try:
                later = self.complete_items(of_type, fields, value[first:], path, parent, first)
            finally:
                self._whole -= 1
            if later is None:
                return None
            entry: Json = {"items": later, "path": [*_listed(path), first]}
            if stream.label is not None:
                entry["label"] = stream.label
            self.streams.append(entry)
            return items
        if not isinstance(value, dict):
            self.add_error(f"expected an object for {parent}.{fields[0].name}", _listed(path))
            return None
        name = graphql_type.name  # type: ignore[union-attr]
        runtime = value.get("__typename", name) if kind == _ABSTRACT else name
        if runtime not in self.sg.types:
            runtime = name
        if len(fields) == 1:
            selections = fields[0].items
        else:
            selections = tuple(item for fsel in fields for item in fsel.items)
        result: Json = {}
        noted = self._start_noting()
        grouped = self.collect(selections, runtime)
        self._noting = None
        for key, subfields in grouped.items():
            if subfields[0].name == "__typename":
                result[key] = runtime
                continue
            done = self.complete_field(runtime, subfields, value, (path, key))
            if done is BUBBLE:
                return None
            result[key] = done
        if noted:
            self._note(noted, runtime, result, _listed(path))
        return result

    def complete_items(
        self,
        of_type: GraphQLOutputType,
        fields: list[FieldSel],
        values: list[Any],
        path: _Path,
        parent: str,
        start: int,
    ) -> list[Any] | None:
        """The items ``values`` of a list (the first at index ``start``) completed; None when
        a null bubbles up to the list."""
        items = []
        for index, item in enumerate(values, start):
            done = self.complete(of_type, fields, item, (path, index), parent)
            if done is BUBBLE:
                return None
            items.append(done)
        return items

    def _stream_of(self, fields: list[FieldSel]) -> Stream | None:
        for fsel in fields:
            found = self.streamed.get(id(fsel))
            if found is not None:
                return found
        return None

    # --- errors ----------------------------------------------------------------------------

    def add_error(self, message: str, path: list[str | int], **extensions: Any) -> None:
        if len(self.errors) > MAX_ERRORS:
            return
        if len(self.errors) == MAX_ERRORS:
            self.errors.append({"message": "more errors were left out"})
            return
        error: Json = {"message": message, "path": path}
        if extensions:
            error["extensions"] = extensions
        self.errors.append(error)

    def null_error(self, path: list[str | int], parent: str, name: str) -> None:
        for error in self.errors:
            at = error.get("path")
            if isinstance(at, list) and (at[: len(path)] == path or path[: len(at)] == at):
                return
        self.add_error(f"Cannot return null for non-nullable field {parent}.{name}.", path)

    def report_failure(self, obj: Json, path: list[str | int]) -> None:
        if id(obj) in self._reported:
            return
        self._reported.add(id(obj))
        failure: Json = obj[FAILED]
        self.add_error(failure["message"], path, **failure.get("extensions", {}))
