"""The limits of one GraphQL operation in a subgraph, measured before it executes (the
strawberry extension applying them is :class:`nudges_kit.graphql.SubgraphLimits`).

A subgraph answers the gateway, but it can also be reached directly; it refuses on its own
what the gateway refuses: a query text over ``max_query_bytes``, fields nested deeper than
``max_depth``, more than ``max_aliases`` aliases, a cost over ``max_cost``, more than
``max_entities`` representations given to ``_entities``, and an execution running past its
deadline. Refusals carry the gateway's codes (``QUERY_TOO_LARGE``, ``QUERY_TOO_DEEP``,
``TOO_MANY_ALIASES``, ``QUERY_TOO_COMPLEX``) and, for the two the gateway has no need of,
``TOO_MANY_ENTITIES`` and ``OPERATION_TIMEOUT``.

The measures here walk graphql-core's AST and are not shared with the gateway: the gateway
measures depth and aliases while it normalises an operation for planning (fragments expanded
once into its own selection model, the result cached with the plan), and costs that model
against the supergraph on every request. Walking the AST a second time there would only add
work to its measured fast path. What both read alike is shared: the arguments that give a
list its size (:data:`PAGE_ARGUMENTS`) and the connection lists (:data:`CONNECTION_LISTS`).

Here named fragments are measured once each (memoised), so a document whose fragments spread
one another many times costs no more to measure than its size, and a fragment cycle (which
validation refuses afterwards) stops the walk instead of looping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)

from nudges_kit.settings import NudgesSettings

#: Arguments whose integer value sets the size of a list a field returns.
PAGE_ARGUMENTS = ("first", "last", "limit", "pageSize", "take")
#: The list fields of a connection type whose size is the page size asked of the connection.
CONNECTION_LISTS = ("nodes", "edges")

QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
TOO_MANY_ENTITIES = "TOO_MANY_ENTITIES"
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"


@dataclass(frozen=True)
class OperationLimits:
    """What one operation may ask of a subgraph."""

    max_depth: int
    max_aliases: int
    max_cost: int
    default_list_size: int
    max_query_bytes: int
    max_entities: int
    timeout_seconds: float

    @classmethod
    def of(cls, settings: NudgesSettings) -> OperationLimits:
        """The limits ``settings`` give."""
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_cost,
            default_list_size=settings.default_list_size,
            max_query_bytes=settings.max_query_bytes,
            max_entities=settings.max_entities,
            timeout_seconds=settings.graphql_execution_timeout_seconds,
        )


#: The limits of the settings' defaults (no environment read), for a caller without context.
DEFAULT_LIMITS = OperationLimits.of(NudgesSettings.model_construct())


def refusal(code: str, message: str, **extensions: Any) -> GraphQLError:
    """A refusal given before execution, shaped as the gateway gives it."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def too_large(limits: OperationLimits) -> GraphQLError:
    return refusal(QUERY_TOO_LARGE, f"the query is larger than {limits.max_query_bytes} bytes")


def check_query_size(query: str | None, limits: OperationLimits) -> GraphQLError | None:
    """The refusal of a query text over ``max_query_bytes`` (None when it is not)."""
    if query is None:
        return None
    # A character takes at least one byte: most texts are decided without encoding them.
    if len(query) > limits.max_query_bytes or len(query.encode()) > limits.max_query_bytes:
        return too_large(limits)
    return None


@dataclass(frozen=True)
class OperationMeasure:
    """What one operation asks for, measured as the gateway measures it."""

    depth: int
    aliases: int
    representations: int
    cost: int


def measure_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    default_list_size: int,
) -> OperationMeasure:
    """The depth, aliases, ``_entities`` representations and cost of ``operation`` (see
    :meth:`_Measure.cost`); raises RecursionError for fragments nested thousands deep."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measure = _Measure(schema, fragments, operation, variables or {}, default_list_size)
    root = schema.get_root_type(operation.operation)
    return OperationMeasure(
        depth=measure.depth(operation.selection_set),
        aliases=measure.aliases(operation.selection_set),
        representations=measure.representations(operation.selection_set, set()),
        cost=measure.cost(operation.selection_set, root.name if root else "", None),
    )


def check_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: OperationLimits,
) -> GraphQLError | None:
    """The refusal of the operation ``operation_name`` of ``document`` when it asks for more
    than ``limits`` allow (None when it does not, or when no single operation is named:
    validation and execution refuse that)."""
    operation = _chosen_operation(document, operation_name)
    if operation is None:
        return None
    try:
        measured = measure_operation(
            schema, document, operation, variables, limits.default_list_size
        )
    except RecursionError:
        # Fragments spreading fragments thousands of times over, within the size limit.
        return refusal(QUERY_TOO_DEEP, "the query nests its fragments too deeply")
    if measured.depth > limits.max_depth:
        return refusal(
            QUERY_TOO_DEEP,
            f"the query is {measured.depth} levels deep; at most {limits.max_depth} are allowed",
            depth=measured.depth,
            limit=limits.max_depth,
        )
    if measured.aliases > limits.max_aliases:
        return refusal(
            TOO_MANY_ALIASES,
            f"the query uses {measured.aliases} aliases; at most {limits.max_aliases} are allowed",
            aliases=measured.aliases,
            limit=limits.max_aliases,
        )
    if measured.representations > limits.max_entities:
        return refusal(
            TOO_MANY_ENTITIES,
            f"the query asks for {measured.representations} entities; "
            f"at most {limits.max_entities} are allowed",
            representations=measured.representations,
            limit=limits.max_entities,
        )
    if measured.cost > limits.max_cost:
        return refusal(
            QUERY_TOO_COMPLEX,
            f"the query costs {measured.cost}; at most {limits.max_cost} is allowed",
            cost=measured.cost,
            limit=limits.max_cost,
        )
    return None


def _chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        named = [o for o in operations if o.name and o.name.value == operation_name]
        return named[0] if named else None
    return operations[0] if len(operations) == 1 else None


class _Measure:
    """Depth, aliases, representations and cost of one operation (see the module doc)."""

    _IN_PROGRESS = -1

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.default_list_size = default_list_size
        # A variable the request leaves out takes its default from the operation.
        defaults = {
            v.variable.name.value: v.default_value
            for v in operation.variable_definitions or ()
            if v.default_value is not None
        }
        self.variables = {**defaults, **variables}
        self._depths: dict[str, int] = {}
        self._aliases: dict[str, int] = {}
        self._costs: dict[tuple[str, int | None], int] = {}

    def _fields(self, selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        """The fields of one level: through inline fragments, not through named ones."""
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                yield from self._fields(node.selection_set)

    def _spreads(self, selection_set: SelectionSetNode | None) -> Iterator[FragmentDefinitionNode]:
        """The named fragments spread at one level (through inline fragments)."""
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    yield fragment
            elif isinstance(node, InlineFragmentNode):
                yield from self._spreads(node.selection_set)

    def _memo(self, memo: dict[Any, int], key: Any, compute: Callable[[], int]) -> int:
        found = memo.get(key)
        if found == self._IN_PROGRESS:
            return 0  # a fragment cycle: validation refuses the document
        if found is not None:
            return found
        memo[key] = self._IN_PROGRESS
        memo[key] = value = compute()
        return value

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        """How deep fields nest beneath ``selection_set`` (a root field alone is 1;
        ``__typename`` does not count)."""
        deepest = 0
        for field in self._fields(selection_set):
            if field.name.value != "__typename":
                deepest = max(deepest, 1 + self.depth(field.selection_set))
        for fragment in self._spreads(selection_set):
            # A fragment's depth does not depend on where it is spread.
            deepest = max(
                deepest,
                self._memo(
                    self._depths,
                    fragment.name.value,
                    partial(self.depth, fragment.selection_set),
                ),
            )
        return deepest

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        """How many fields are renamed by an alias, a fragment counting at each spread (not
        those the gateway's planner writes into its own requests)."""
        count = 0
        for field in self._fields(selection_set):
            alias, name = field.alias.value if field.alias else None, field.name.value
            renamed = alias is not None and alias != name and not _planner_alias(alias, name)
            count += renamed + self.aliases(field.selection_set)
        for fragment in self._spreads(selection_set):
            count += self._memo(
                self._aliases,
                fragment.name.value,
                partial(self.aliases, fragment.selection_set),
            )
        return count

    def representations(self, selection_set: SelectionSetNode | None, seen: set[str]) -> int:
        """How many representations the root ``_entities`` fields are given."""
        total = 0
        for field in self._fields(selection_set):
            if field.name.value == "_entities":
                total += self._entity_count(field)
        for fragment in self._spreads(selection_set):
            if fragment.name.value not in seen:
                seen.add(fragment.name.value)
                total += self.representations(fragment.selection_set, seen)
        return total

    def _entity_count(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value != "representations":
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            if isinstance(value, ListValueNode):
                return len(value.values)
            if isinstance(value, list):
                return len(value)
            return 1
        return 0

    def cost(self, selection_set: SelectionSetNode | None, parent: str, page: int | None) -> int:
        """The cost of ``selection_set`` on one object of type ``parent``: each field counts
        once per object it is asked of, a list field multiplying its children by the size it
        asks for (``first``...; for ``_entities`` the representations given) or else
        ``default_list_size``. The page size asked of a connection (a type with ``nodes`` or
        ``edges``) is the size of the ``nodes`` and ``edges`` lists beneath it. Fields of
        introspection (``__schema``...) do not count, as at the gateway: graphql-core's
        ``MaxIntrospectionDepthRule``, one of its specified rules, bounds them."""
        total = 0
        for field in self._fields(selection_set):
            total += self._field_cost(field, parent, page)
        for fragment in self._spreads(selection_set):
            condition = fragment.type_condition.name.value
            total += self._memo(
                self._costs,
                (fragment.name.value, page),
                partial(self.cost, fragment.selection_set, condition, page),
            )
        return total

    def _field_cost(self, field: FieldNode, parent: str, page: int | None) -> int:
        name = field.name.value
        if name.startswith("__"):
            return 0
        if field.selection_set is None:
            return 1
        field_type = self._field_type(parent, name)
        if field_type is None:
            return 1  # an unknown field: validation refuses it
        inner, is_list = _unwrap(field_type)
        children = field.selection_set
        if name == "_entities":
            size = self._entity_count(field)
            return 1 + max(size, 1) * self.cost(children, inner, None)
        if is_list:
            default = self.default_list_size
            if page is not None and name in CONNECTION_LISTS:
                default = page
            size = self._list_size(field, default)
            return 1 + max(size, 1) * self.cost(children, inner, None)
        if self._is_connection(inner):
            asked = self._list_size(field, -1)
            return 1 + self.cost(children, inner, asked if asked >= 0 else None)
        return 1 + self.cost(children, inner, None)

    def _list_size(self, field: FieldNode, default: int) -> int:
        """The size a list field announces through ``first``/``limit``..., else ``default``."""
        for argument in field.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return default

    def _field_type(self, parent: str, name: str) -> Any:
        parent_type = self.schema.get_type(parent)
        if parent_type is None:
            return None
        # On an abstract type, a field of a fragment belongs to one of its possible types.
        candidates = [parent_type]
        if is_abstract_type(parent_type):
            candidates += list(self.schema.get_possible_types(parent_type))  # type: ignore[arg-type]
        for candidate in candidates:
            fields = getattr(candidate, "fields", None)
            if fields and name in fields:
                return fields[name].type
        return None

    def _is_connection(self, type_name: str) -> bool:
        fields = getattr(self.schema.get_type(type_name), "fields", None) or {}
        return any(name in fields for name in CONNECTION_LISTS)


def _planner_alias(alias: str, name: str) -> bool:
    """An alias the gateway adds to the operations it sends a subgraph: ``_e<n>`` naming each
    ``_entities`` call, ``_gw_<field>`` where a client's alias took a key field's name. The
    gateway counted the client's own; what these rename is bounded by the cost."""
    if name == "_entities":
        return alias.startswith("_e") and alias[2:].isdigit()
    return alias == f"_gw_{name}"


def _unwrap(graphql_type: Any) -> tuple[str, bool]:
    is_list = False
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(graphql_type, GraphQLList)
        graphql_type = graphql_type.of_type
    return str(graphql_type.name), is_list
