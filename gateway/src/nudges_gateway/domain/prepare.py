"""From the text of an operation to its plan: parse, validate against the API schema, check
the limits that do not depend on variables, plan. Results (and refusals) are cached per
(document, operation name) by :class:`PlanCache`."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from nudges_gateway.domain.access import TYPENAME, Caller
from nudges_gateway.domain.defer import initial_requests, without
from nudges_gateway.domain.operation import (
    FieldSel,
    Selection,
    iter_fields,
    list_size,
    normalize_operation,
)
from nudges_gateway.domain.plan import Plan
from nudges_gateway.domain.planner import PlanningError, build_plan
from nudges_gateway.domain.supergraph import Supergraph
from nudges_kit.graphql_limits import CONNECTION_LISTS

Json = dict[str, Any]
#: Plans kept per operation for callers who may not see all of it.
RESTRICTED_PLANS = 16
#: Demand-control measures kept per operation (one per set of variable values), for values
#: of at most DEMAND_KEY_BYTES in JSON.
DEMANDS = 32
DEMAND_KEY_BYTES = 512


@dataclass(frozen=True)
class Limits:
    """What one operation may ask for."""

    max_depth: int = 15
    max_cost: int = 10_000
    max_aliases: int = 30
    default_list_size: int = 10
    max_query_bytes: int = 64 * 1024
    introspection: bool = True


class RequestError(Exception):
    """The request is refused before execution: GraphQL errors with ``extensions.code``."""

    def __init__(self, errors: list[Json], status: int = 200) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = errors
        self.status = status

    @classmethod
    def of(cls, code: str, message: str, status: int = 200, **extensions: Any) -> RequestError:
        return cls([{"message": message, "extensions": {"code": code, **extensions}}], status)


@dataclass
class Prepared:
    """A planned operation."""

    plan: Plan
    operation: OperationDefinitionNode
    #: The client's document restricted to ``__schema``/``__type`` root fields, if any.
    introspection: DocumentNode | None = None
    variable_types: Mapping[str, Any] = field(default_factory=dict)
    #: Whether a field it asks requires some access (None: not known yet).
    guarded: bool | None = None
    #: Plans of the operation without fields some callers may not see, by those fields' ids.
    restricted: dict[frozenset[int], Plan] = field(default_factory=dict)
    #: The requests of the plan its initial part waits for (ids of batches), by the ids of
    #: the fragments deferred.
    initial: dict[frozenset[int], frozenset[int]] = field(default_factory=dict)
    #: What demand control measured of the operation, by :func:`demand_key` (the variable
    #: values and list size it depends on): (estimated cost, field count), or the message
    #: of a refusal that does not depend on the limit.
    demands: dict[bytes, tuple[int, int] | str] = field(default_factory=dict)

    def remember_demand(self, key: bytes, measured: tuple[int, int] | str) -> None:
        """Keep what demand control measured for ``key`` (the last :data:`DEMANDS` kept)."""
        if len(self.demands) >= DEMANDS:
            self.demands.pop(next(iter(self.demands)))
        self.demands[key] = measured

    def initial_requests(self, deferred: frozenset[int]) -> frozenset[int]:
        """The requests of the plan the initial part waits for, when the operation defers
        the fragments ``deferred`` (see :func:`initial_requests`)."""
        found = self.initial.get(deferred)
        if found is None:
            operation = self.plan.operation
            items = without(operation.items, deferred) or (TYPENAME,)
            found = initial_requests(self.plan, items)
            if len(self.initial) >= RESTRICTED_PLANS:
                self.initial.pop(next(iter(self.initial)))
            self.initial[deferred] = found
        return found

    def is_guarded(self, supergraph: Supergraph) -> bool:
        if self.guarded is None:
            rules = supergraph.access
            operation = self.plan.operation
            self.guarded = bool(rules) and rules.guards(self.plan.root_type, operation.items)
        return self.guarded

    def plan_for(
        self, supergraph: Supergraph, caller: Caller
    ) -> tuple[Plan, frozenset[int], tuple[tuple[str, ...], ...]]:
        """The plan to run for ``caller``, the ids of the fields it may not see, and their
        paths in the operation."""
        if not self.is_guarded(supergraph):
            return self.plan, frozenset(), ()
        operation = self.plan.operation
        items, removed, paths = supergraph.access.restrict(
            self.plan.root_type, operation.items, caller
        )
        if not removed:
            return self.plan, removed, paths
        plan = self.restricted.get(removed)
        if plan is None:
            try:
                plan = build_plan(supergraph, replace(operation, items=items))
            except PlanningError as exc:
                raise RequestError.of("QUERY_PLANNING_FAILED", str(exc)) from None
            if len(self.restricted) >= RESTRICTED_PLANS:
                self.restricted.pop(next(iter(self.restricted)))
            self.restricted[removed] = plan
        return plan, removed, paths


def _graphql_errors(errors: list[GraphQLError], code: str) -> list[Json]:
    out = []
    for error in errors:
        entry: Json = {"message": error.message, "extensions": {"code": code}}
        if error.locations:
            entry["locations"] = [
                {"line": loc.line, "column": loc.column} for loc in error.locations
            ]
        out.append(entry)
    return out


def _introspection_document(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DocumentNode:
    fields = tuple(
        s
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and s.name.value in ("__schema", "__type", "__typename")
    )
    only = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=fields),
    )
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    return DocumentNode(definitions=(only, *fragments))


def prepare(
    supergraph: Supergraph, query: str, operation_name: str | None, limits: Limits
) -> Prepared:
    """Plan ``query``'s operation ``operation_name`` (raises :class:`RequestError`)."""
    if len(query.encode()) > limits.max_query_bytes:
        raise RequestError.of(
            "QUERY_TOO_LARGE", f"the query is larger than {limits.max_query_bytes} bytes"
        )
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise RequestError(_graphql_errors([exc], "GRAPHQL_PARSE_FAILED")) from None
    rules = list(specified_rules)
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    problems = validate(supergraph.operation_schema, document, rules)
    if problems:
        raise RequestError(_graphql_errors(problems, "GRAPHQL_VALIDATION_FAILED"))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        chosen = [o for o in operations if o.name and o.name.value == operation_name]
        if not chosen:
            raise RequestError.of(
                "OPERATION_NOT_FOUND", f'Unknown operation named "{operation_name}".'
            )
        operation = chosen[0]
    elif len(operations) == 1:
        operation = operations[0]
    else:
        raise RequestError.of(
            "OPERATION_NAME_REQUIRED",
            "Must provide operation name if query contains multiple operations.",
        )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    normalized = normalize_operation(operation, fragments)
    if normalized.depth > limits.max_depth:
        raise RequestError.of(
            "QUERY_TOO_DEEP",
            f"the query is {normalized.depth} levels deep; at most {limits.max_depth} are allowed",
            depth=normalized.depth,
            limit=limits.max_depth,
        )
    if normalized.aliases > limits.max_aliases:
        raise RequestError.of(
            "TOO_MANY_ALIASES",
            f"the query uses {normalized.aliases} aliases; "
            f"at most {limits.max_aliases} are allowed",
            aliases=normalized.aliases,
            limit=limits.max_aliases,
        )
    try:
        plan = build_plan(supergraph, normalized)
    except PlanningError as exc:
        raise RequestError.of("QUERY_PLANNING_FAILED", str(exc)) from None
    except RecursionError:
        raise RequestError.of(
            "QUERY_PLANNING_FAILED", "the operation is too intricate to plan over this graph"
        ) from None
    return Prepared(
        plan,
        operation,
        _introspection_document(document, operation) if plan.introspection else None,
    )


def demand_key(prepared: Prepared, variables: Mapping[str, Any], list_default: int) -> bytes | None:
    """What the demand of ``prepared`` depends on besides the operation itself: the variable
    values (with defaults) and the default list size. None (nothing is remembered) when the
    values are large or cannot be told apart by their JSON."""
    if not prepared.operation.variable_definitions:
        return b"%d" % list_default
    try:
        values = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return b"%d:%s" % (list_default, values) if len(values) <= DEMAND_KEY_BYTES else None


def operation_cost(
    supergraph: Supergraph, prepared: Prepared, variables: Mapping[str, Any], list_default: int
) -> int:
    """The cost of the operation: each field counts once per object it is asked of, a list
    field multiplying its children by the page size it asks for (``first``...) or else
    ``list_default``. The page size asked of a connection (a field whose type has ``nodes``
    or ``edges``) is the size of the ``nodes`` and ``edges`` lists beneath it."""
    plan = prepared.plan

    def walk(
        parent: str, items: tuple[Selection, ...], multiplier: int, page: int | None = None
    ) -> int:
        total = 0
        for fsel in iter_fields(items):
            if fsel.name.startswith("__"):
                continue
            total += multiplier
            if not fsel.items:
                continue
            graphql_type = _field_type(supergraph, parent, fsel)
            if graphql_type is None:
                continue
            inner, is_list = _unwrap(graphql_type)
            if is_list:
                default = page if page is not None and fsel.name in CONNECTION_LISTS else None
                size = list_size(fsel, variables, list_default if default is None else default)
                total += walk(inner, fsel.items, multiplier * max(size, 1))
            elif _is_connection(supergraph, inner):
                asked = list_size(fsel, variables, -1)
                total += walk(inner, fsel.items, multiplier, asked if asked >= 0 else None)
            else:
                total += walk(inner, fsel.items, multiplier)
        return total

    return walk(plan.root_type, plan.operation.items, 1)


def _is_connection(supergraph: Supergraph, type_name: str) -> bool:
    fields = getattr(supergraph.schema.get_type(type_name), "fields", None) or {}
    return any(name in fields for name in CONNECTION_LISTS)


def _field_type(supergraph: Supergraph, parent: str, fsel: FieldSel) -> GraphQLOutputType | None:
    # On an abstract type, a field of a fragment belongs to one of its possible types.
    for candidate in (parent, *supergraph.possible_types(parent)):
        fields = getattr(supergraph.schema.get_type(candidate), "fields", None)
        if fields and fsel.name in fields:
            return fields[fsel.name].type  # type: ignore[no-any-return]
    return None


def _unwrap(graphql_type: GraphQLOutputType) -> tuple[str, bool]:
    is_list = False
    current: Any = graphql_type
    while isinstance(current, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(current, GraphQLList)
        current = current.of_type
    return str(current.name), is_list


class PlanCache:
    """The last ``size`` prepared operations (and refusals), per (document, operation, labels
    of the progressive overrides taken over)."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._entries: OrderedDict[
            tuple[str, str | None, frozenset[str]], Prepared | RequestError
        ] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get_or_prepare(
        self,
        supergraph: Supergraph,
        query: str,
        operation_name: str | None,
        limits: Limits,
        overrides: frozenset[str] = frozenset(),
    ) -> Prepared:
        """The operation prepared on ``supergraph`` (seen with the progressive overrides of
        the labels ``overrides``)."""
        key = (query, operation_name, overrides)
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            try:
                found = prepare(supergraph.with_overrides(overrides), query, operation_name, limits)
            except RequestError as exc:
                found = exc
            self._entries[key] = found
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self.hits += 1
            self._entries.move_to_end(key)
        if isinstance(found, RequestError):
            raise found
        return found
