"""A supergraph SDL (Apollo Federation v2, join spec v0.2 to v0.5) read into what the planner
needs: the subgraphs and their URLs, which subgraph resolves each field, the keys of each
entity, ``@requires``/``@provides``/``@override``/``@interfaceObject``, and the API schema
clients see (everything ``@inaccessible`` removed)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    GraphQLDeferDirective,
    GraphQLError,
    GraphQLList,
    GraphQLSchema,
    GraphQLStreamDirective,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    IntValueNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectValueNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    validate_schema,
)

from nudges_gateway.domain.access import Access, AccessRules
from nudges_kit.federation_api import api_document

Kind = Literal["object", "interface", "union", "enum", "input", "scalar"]
JOIN_SPEC = "specs.apollo.dev/join/"
INACCESSIBLE_SPEC = "specs.apollo.dev/inaccessible/"


class InvalidSupergraph(ValueError):
    """The SDL is not a supergraph this gateway can serve."""


@dataclass(frozen=True)
class Graph:
    """One subgraph: its ``join__Graph`` value, name and ``/graphql`` URL."""

    enum: str
    name: str
    url: str


@dataclass(frozen=True)
class ListSize:
    """``@listSize`` of a field: how many items it returns, for the cost estimate."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] | None = None
    sized_fields: tuple[str, ...] | None = None
    require_one_slicing_argument: bool = True


@dataclass(frozen=True)
class ContextArgument:
    """An argument the gateway fills from a context (``@fromContext``): ``join__field``'s
    ``contextArguments`` entry."""

    context: str  # "subgraph__name", as ``@context`` on the types carrying it
    name: str
    type: str
    selection: str


@dataclass
class FieldInfo:
    """Where a field is resolved."""

    name: str
    resolvers: tuple[str, ...]
    external_in: frozenset[str] = frozenset()
    requires: dict[str, str] = field(default_factory=dict)
    provides: dict[str, str] = field(default_factory=dict)
    #: ``@authenticated``/``@requiresScopes``/``@policy`` of the field.
    access: Access = field(default_factory=Access)
    #: ``@cost(weight:)`` and ``@listSize`` of the field.
    cost: int | None = None
    list_size: ListSize | None = None
    #: A progressive override (``@override(from:, label:)``): the label, and the graphs
    #: taking the field over and giving it up; which resolves it is decided per request.
    override_label: str | None = None
    override_to: str | None = None
    override_from: str | None = None
    #: Arguments the gateway fills from a context, per graph resolving the field.
    context_arguments: dict[str, tuple[ContextArgument, ...]] = field(default_factory=dict)


@dataclass
class TypeInfo:
    """A type of the supergraph and where it lives."""

    name: str
    kind: Kind
    graphs: tuple[str, ...]
    keys: dict[str, list[str]] = field(default_factory=dict)  # resolvable keys per graph
    interface_object_in: frozenset[str] = frozenset()
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    interfaces: tuple[str, ...] = ()
    implements: dict[str, set[str]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    union_members: tuple[str, ...] = ()
    access: Access = field(default_factory=Access)
    cost: int | None = None
    #: The contexts (``@context(name:)``) this type carries.
    contexts: frozenset[str] = frozenset()


def _context_arguments(directive: DirectiveNode) -> tuple[ContextArgument, ...]:
    found: list[ContextArgument] = []
    for arg in directive.arguments or ():
        if arg.name.value != "contextArguments":
            continue
        values = arg.value.values if isinstance(arg.value, ListValueNode) else (arg.value,)
        for value in values:
            if not isinstance(value, ObjectValueNode):
                continue
            parts = {
                f.name.value: f.value.value
                for f in value.fields
                if isinstance(f.value, StringValueNode)
            }
            found.append(
                ContextArgument(
                    parts.get("context", ""),
                    parts.get("name", ""),
                    parts.get("type", ""),
                    parts.get("selection", ""),
                )
            )
    return tuple(found)


def _groups(directive: DirectiveNode, name: str) -> tuple[frozenset[str], ...]:
    found: list[frozenset[str]] = []
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, ListValueNode):
            for group in arg.value.values:
                inner = group.values if isinstance(group, ListValueNode) else (group,)
                found.append(frozenset(v.value for v in inner if isinstance(v, StringValueNode)))
    return tuple(found)


def _strings(directive: DirectiveNode, name: str) -> tuple[str, ...] | None:
    for arg in directive.arguments or ():
        if arg.name.value == name:
            values = arg.value.values if isinstance(arg.value, ListValueNode) else (arg.value,)
            return tuple(v.value for v in values if isinstance(v, StringValueNode))
    return None


def _int(directive: DirectiveNode, name: str) -> int | None:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
    return None


def _demands(
    directives: tuple[DirectiveNode, ...] | None,
) -> tuple[Access, int | None, ListSize | None]:
    """What the access- and demand-control directives among ``directives`` say."""
    authenticated = False
    scopes: tuple[frozenset[str], ...] | None = None
    policies: tuple[frozenset[str], ...] | None = None
    cost: int | None = None
    list_size: ListSize | None = None
    for directive in directives or ():
        name = directive.name.value
        if name == "authenticated":
            authenticated = True
        elif name == "requiresScopes":
            scopes = _groups(directive, "scopes") or None
        elif name == "policy":
            policies = _groups(directive, "policies") or None
        elif name == "cost":
            cost = _int(directive, "weight")
        elif name == "listSize":
            one = _arg(directive, "requireOneSlicingArgument")
            list_size = ListSize(
                _int(directive, "assumedSize"),
                _strings(directive, "slicingArguments"),
                _strings(directive, "sizedFields"),
                one is not False,
            )
    return Access(authenticated, scopes, policies), cost, list_size


def _percent(label: str) -> float | None:
    """N of a ``percent(N)`` label (0 to 100, decimals allowed), None for another label."""
    text = label.strip()
    if not (text.startswith("percent(") and text.endswith(")")):
        return None
    try:
        value = float(text[len("percent(") : -1])
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


def _arg(directive: DirectiveNode, name: str) -> str | bool | None:
    for arg in directive.arguments or ():
        if arg.name.value == name:
            value = arg.value
            if isinstance(value, StringValueNode):
                return value.value
            if isinstance(value, EnumValueNode):
                return value.value
            if isinstance(value, BooleanValueNode):
                return value.value
    return None


class Supergraph:
    """A parsed supergraph: its subgraphs, type placement, full and API schemas."""

    def __init__(self, sdl: str) -> None:
        try:
            document = parse(sdl, no_location=True)
        except GraphQLError as exc:
            raise InvalidSupergraph(f"the supergraph does not parse: {exc.message}") from None
        self.sdl = sdl
        self.join, self.inaccessible = self._spec_prefixes(document)
        self.graphs: dict[str, Graph] = {}
        by_enum: dict[str, Graph] = {}
        for d in document.definitions:
            if isinstance(d, EnumTypeDefinitionNode) and d.name.value == f"{self.join}__Graph":
                for value in d.values or ():
                    for directive in value.directives or ():
                        if directive.name.value == f"{self.join}__graph":
                            graph = Graph(
                                value.name.value,
                                str(_arg(directive, "name") or value.name.value.lower()),
                                str(_arg(directive, "url") or ""),
                            )
                            by_enum[graph.enum] = graph
                            self.graphs[graph.name] = graph
        if not self.graphs:
            raise InvalidSupergraph("the supergraph has no join__Graph enum: not a supergraph")
        self.graph_order = {name: i for i, name in enumerate(self.graphs)}
        self.root_types = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
        for d in document.definitions:
            if isinstance(d, SchemaDefinitionNode):
                for op in d.operation_types:
                    self.root_types[op.operation.value] = op.type.name.value
        self.types: dict[str, TypeInfo] = {}
        for d in document.definitions:
            if isinstance(d, TypeDefinitionNode) and not d.name.value.startswith(
                (f"{self.join}__", "link__", "core__", f"{self.inaccessible}__", "context__")
            ):
                self.types[d.name.value] = self._type_info(d, by_enum)
        self._possible: dict[tuple[str, str], tuple[str, ...]] = {}
        self._variants: dict[frozenset[str], Supergraph] = {}
        self._implementations: dict[str, list[str]] = {}
        for info in self.types.values():
            for iface in info.interfaces:
                self._implementations.setdefault(iface, []).append(info.name)
        try:
            self.schema: GraphQLSchema = build_ast_schema(
                document, assume_valid=True, assume_valid_sdl=True
            )
            self.api_schema: GraphQLSchema = build_ast_schema(api_document(document))
        except (GraphQLError, TypeError) as exc:
            raise InvalidSupergraph(f"the supergraph is not a valid schema: {exc}") from None
        problems = validate_schema(self.api_schema)
        if problems:
            raise InvalidSupergraph(
                "the API schema is not valid: " + "; ".join(p.message for p in problems)
            )

    @staticmethod
    def _spec_prefixes(document: DocumentNode) -> tuple[str, str]:
        join, inaccessible = "join", "inaccessible"
        for d in document.definitions:
            if not isinstance(d, SchemaDefinitionNode):
                continue
            for directive in d.directives or ():
                if directive.name.value not in ("link", "core"):
                    continue
                url = str(_arg(directive, "url") or _arg(directive, "feature") or "")
                alias = _arg(directive, "as")
                if JOIN_SPEC in url and isinstance(alias, str):
                    join = alias
                if INACCESSIBLE_SPEC in url and isinstance(alias, str):
                    inaccessible = alias
        return join, inaccessible

    def _type_info(self, d: TypeDefinitionNode, by_enum: dict[str, Graph]) -> TypeInfo:
        j = self.join
        kind: Kind
        if isinstance(d, ObjectTypeDefinitionNode):
            kind = "object"
        elif isinstance(d, InterfaceTypeDefinitionNode):
            kind = "interface"
        elif isinstance(d, UnionTypeDefinitionNode):
            kind = "union"
        elif isinstance(d, EnumTypeDefinitionNode):
            kind = "enum"
        elif isinstance(d, InputObjectTypeDefinitionNode):
            kind = "input"
        elif isinstance(d, ScalarTypeDefinitionNode):
            kind = "scalar"
        else:  # pragma: no cover - every type definition is one of the above
            raise InvalidSupergraph(f"unexpected definition {d.name.value}")
        graphs: list[str] = []
        keys: dict[str, list[str]] = {}
        interface_object: set[str] = set()
        implements: dict[str, set[str]] = {}
        members: dict[str, set[str]] = {}
        for directive in d.directives or ():
            name = directive.name.value
            graph_enum = _arg(directive, "graph")
            graph = by_enum.get(str(graph_enum)) if graph_enum is not None else None
            if graph is None:
                continue
            if name == f"{j}__type":
                if graph.name not in graphs:
                    graphs.append(graph.name)
                key = _arg(directive, "key")
                resolvable = _arg(directive, "resolvable")
                if isinstance(key, str) and resolvable is not False:
                    keys.setdefault(graph.name, []).append(key)
                if _arg(directive, "isInterfaceObject") is True:
                    interface_object.add(graph.name)
            elif name == f"{j}__implements":
                implements.setdefault(graph.name, set()).add(str(_arg(directive, "interface")))
            elif name == f"{j}__unionMember":
                members.setdefault(graph.name, set()).add(str(_arg(directive, "member")))
        if not graphs:
            # Types the join spec leaves unannotated (value types of older supergraphs) are
            # taken to live everywhere.
            graphs = list(self.graphs)
        info = TypeInfo(
            d.name.value,
            kind,
            tuple(graphs),
            keys,
            frozenset(interface_object),
            implements=implements,
            members=members,
        )
        info.access, info.cost, _ = _demands(d.directives)
        info.contexts = frozenset(
            str(_arg(directive, "name"))
            for directive in d.directives or ()
            if directive.name.value == "context" and isinstance(_arg(directive, "name"), str)
        )
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            info.interfaces = tuple(i.name.value for i in d.interfaces or ())
            for f in d.fields or ():
                info.fields[f.name.value] = self._field_info(
                    f.name.value, f.directives, info, by_enum
                )
        if isinstance(d, UnionTypeDefinitionNode):
            info.union_members = tuple(m.name.value for m in d.types or ())
        return info

    def _field_info(
        self,
        name: str,
        directives: tuple[DirectiveNode, ...] | None,
        parent: TypeInfo,
        by_enum: dict[str, Graph],
    ) -> FieldInfo:
        joins = [d for d in directives or () if d.name.value == f"{self.join}__field"]
        access, cost, list_size = _demands(directives)
        if not joins:
            return FieldInfo(name, parent.graphs, access=access, cost=cost, list_size=list_size)
        resolvers: list[str] = []
        external: set[str] = set()
        info = FieldInfo(name, (), access=access, cost=cost, list_size=list_size)
        for join in joins:
            graph_enum = _arg(join, "graph")
            graph = by_enum.get(str(graph_enum)) if graph_enum is not None else None
            if graph is None:
                continue
            requires, provides = _arg(join, "requires"), _arg(join, "provides")
            if isinstance(requires, str):
                info.requires[graph.name] = requires
            if isinstance(provides, str):
                info.provides[graph.name] = provides
            contextual = _context_arguments(join)
            if contextual:
                info.context_arguments[graph.name] = contextual
            label = _arg(join, "overrideLabel")
            if isinstance(label, str):
                info.override_label = label
                overridden = _arg(join, "override")
                if isinstance(overridden, str):
                    info.override_to = graph.name
                    info.override_from = overridden
            if _arg(join, "external") is True:
                external.add(graph.name)
            elif _arg(join, "usedOverridden") is True:
                continue
            elif graph.name not in resolvers:
                resolvers.append(graph.name)
        info.resolvers = tuple(resolvers)
        info.external_in = frozenset(external)
        return info

    @functools.cached_property
    def operation_schema(self) -> GraphQLSchema:
        """The API schema with ``@defer`` and ``@stream``: operations are validated against it
        (introspection answers from the API schema as composed)."""
        api = self.api_schema
        added = [
            directive
            for directive in (GraphQLDeferDirective, GraphQLStreamDirective)
            if api.get_directive(directive.name) is None
        ]
        if not added:
            return api
        return GraphQLSchema(
            query=api.query_type,
            mutation=api.mutation_type,
            subscription=api.subscription_type,
            types=list(api.type_map.values()),
            directives=[*api.directives, *added],
            description=api.description,
        )

    @functools.cached_property
    def override_labels(self) -> dict[str, float | None]:
        """The labels of progressive overrides, with the percentage of requests each takes
        over (``percent(N)``; None for other labels, which no request takes over)."""
        labels: dict[str, float | None] = {}
        for info in self.types.values():
            for f in info.fields.values():
                if f.override_label is not None and f.override_to is not None:
                    labels[f.override_label] = _percent(f.override_label)
        return labels

    def with_overrides(self, active: frozenset[str]) -> Supergraph:
        """This supergraph as a request sees it: the fields of progressive overrides whose
        label is in ``active`` resolved by the graph taking them over, the others by the
        graph they come from."""
        if not self.override_labels:
            return self
        found = self._variants.get(active)
        if found is not None:
            return found
        variant = copy.copy(self)
        variant.types = dict(self.types)
        for name, info in self.types.items():
            changed: dict[str, FieldInfo] = {}
            for fname, f in info.fields.items():
                if f.override_label is None or f.override_to is None:
                    continue
                dropped = f.override_from if f.override_label in active else f.override_to
                changed[fname] = replace(f, resolvers=tuple(g for g in f.resolvers if g != dropped))
            if changed:
                variant.types[name] = replace(info, fields={**info.fields, **changed})
        variant._variants = {}
        self._variants[active] = variant
        return variant

    @functools.cached_property
    def access(self) -> AccessRules:
        """What each type and field requires of the caller."""
        return AccessRules(
            {name: info.access for name, info in self.types.items()},
            {
                (name, fname): f.access
                for name, info in self.types.items()
                for fname, f in info.fields.items()
            },
            self.possible_types,
            self.field_type_name,
            self.field_list_depth,
        )

    def field_list_depth(self, parent: str, name: str) -> int:
        """How many lists ``parent.name`` nests its values in (``[[T]]``: 2)."""
        for candidate in (parent, *self.possible_types(parent)):
            fields = getattr(self.schema.get_type(candidate), "fields", None)
            if fields and name in fields:
                depth = 0
                graphql_type: Any = fields[name].type
                while hasattr(graphql_type, "of_type"):
                    depth += isinstance(graphql_type, GraphQLList)
                    graphql_type = graphql_type.of_type
                return depth
        return 0

    def field_type_name(self, parent: str, name: str) -> str | None:
        """The named type ``parent.name`` returns (on an abstract parent, the field of one of
        its possible types), None when there is no such field."""
        for candidate in (parent, *self.possible_types(parent)):
            fields = getattr(self.schema.get_type(candidate), "fields", None)
            if fields and name in fields:
                graphql_type: Any = fields[name].type
                while hasattr(graphql_type, "of_type"):
                    graphql_type = graphql_type.of_type
                return str(graphql_type.name)
        return None

    # --- questions the planner asks ------------------------------------------------------

    def type(self, name: str) -> TypeInfo:
        return self.types[name]

    def is_abstract(self, name: str) -> bool:
        info = self.types.get(name)
        return info is not None and info.kind in ("interface", "union")

    def is_composite(self, name: str) -> bool:
        info = self.types.get(name)
        return info is not None and info.kind in ("object", "interface", "union")

    def possible_types(self, name: str) -> tuple[str, ...]:
        """Every object type a value of ``name`` may be, in the supergraph."""
        info = self.types[name]
        if info.kind == "object":
            return (name,)
        if info.kind == "union":
            return info.union_members
        found: list[str] = []
        for implementation in self._implementations.get(name, ()):
            if self.types[implementation].kind == "object":
                found.append(implementation)
            else:
                found.extend(t for t in self.possible_types(implementation) if t not in found)
        return tuple(found)

    def possible_types_in(self, graph: str, name: str) -> tuple[str, ...]:
        """The object types a value of abstract type ``name`` may be when ``graph`` returns it."""
        cache_key = (graph, name)
        if cache_key in self._possible:
            return self._possible[cache_key]
        info = self.types[name]
        result: list[str] = []
        for candidate in self.possible_types(name):
            ctype = self.types[candidate]
            if graph not in ctype.graphs:
                continue
            if info.kind == "union":
                if info.members and graph not in info.members:
                    continue
                if info.members.get(graph) is not None and candidate not in info.members[graph]:
                    continue
            elif ctype.implements and name not in ctype.implements.get(graph, set()):
                continue
            result.append(candidate)
        self._possible[cache_key] = tuple(result)
        return self._possible[cache_key]

    def applies(self, condition: str, runtime_type: str) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``runtime_type``."""
        if condition == runtime_type:
            return True
        info = self.types.get(condition)
        if info is None or info.kind == "object":
            return False
        return runtime_type in self.possible_types(condition)

    def key_of(self, graph: str, type_name: str) -> list[str]:
        return self.types[type_name].keys.get(graph, [])

    def carries(self, type_name: str, context: str) -> bool:
        """Whether an object of ``type_name`` sets ``context``: itself, one of its interfaces
        or a union it belongs to carries it."""
        info = self.types.get(type_name)
        if info is None:
            return False
        if context in info.contexts:
            return True
        return any(
            context in other.contexts
            and (
                (other.kind == "interface" and type_name in self.possible_types(other.name))
                or (other.kind == "union" and type_name in other.union_members)
            )
            for other in self.types.values()
            if other.contexts
        )
