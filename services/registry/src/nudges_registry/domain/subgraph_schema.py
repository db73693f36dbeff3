"""A subgraph's SDL read into plain objects: its types, fields and federation directives.

Federation v2 subgraphs name their directives through ``@link(url: ".../federation/v2.x",
import: [...])``: imported names are used as written (or renamed with ``as``), the others
carry the ``federation__`` prefix. A subgraph without that link is read as Federation v1
(plain names, ``extend type`` marking entity extensions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldNode,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    ValueNode,
    parse,
    print_ast,
)

Kind = Literal["object", "interface", "union", "enum", "input", "scalar"]

FEDERATION_SPEC = "specs.apollo.dev/federation/"
#: Directives of the federation spec this composition understands.
FEDERATION_DIRECTIVES = (
    "key",
    "external",
    "requires",
    "provides",
    "shareable",
    "override",
    "inaccessible",
    "interfaceObject",
    "extends",
    "tag",
    "context",
    "fromContext",
    "authenticated",
    "requiresScopes",
    "policy",
    "cost",
    "listSize",
)
#: Types and root fields every subgraph serves for the router, never part of the graph.
FEDERATION_INTERNAL_TYPES = frozenset(
    {"_Service", "_Any", "_Entity", "FieldSet", "_FieldSet", "link__Import", "link__Purpose"}
)
FEDERATION_INTERNAL_FIELDS = frozenset({"_service", "_entities"})
ROOT_OPERATIONS = ("query", "mutation", "subscription")
ROOT_DEFAULT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


#: Directives the supergraph carries for the gateway: access control and demand control.
DEMAND_DIRECTIVES = frozenset({"authenticated", "requiresScopes", "policy", "cost", "listSize"})
#: A requirement in disjunctive form: any one inner group, all of whose names hold.
Alternatives = tuple[tuple[str, ...], ...]


class SubgraphSchemaError(ValueError):
    """The SDL of a subgraph cannot be read."""


@dataclass
class Argument:
    name: str
    type: TypeNode
    default: ValueNode | None
    description: str | None
    inaccessible: bool = False
    #: ``@cost(weight:)`` on the argument or input field: added when it is given.
    cost: int | None = None
    #: ``@fromContext(field:)`` on a field argument: "$context { selection }".
    from_context: str | None = None


@dataclass(frozen=True)
class ListSize:
    """``@listSize``: how many items a list field returns."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] | None = None
    sized_fields: tuple[str, ...] | None = None
    require_one_slicing_argument: bool = True


@dataclass
class Demands:
    """What ``@authenticated``, ``@requiresScopes``, ``@policy``, ``@cost`` and ``@listSize``
    say of a type or field."""

    authenticated: bool = False
    scopes: Alternatives | None = None
    policies: Alternatives | None = None
    cost: int | None = None
    list_size: ListSize | None = None

    def any(self) -> bool:
        return bool(
            self.authenticated
            or self.scopes is not None
            or self.policies is not None
            or self.cost is not None
            or self.list_size is not None
        )


@dataclass
class Field:
    name: str
    type: TypeNode
    arguments: dict[str, Argument]
    description: str | None = None
    external: bool = False
    shareable: bool = False
    requires: str | None = None
    provides: str | None = None
    override: str | None = None
    override_label: str | None = None  # progressive override: "percent(N)" or a custom label
    inaccessible: bool = False
    deprecation: DirectiveNode | None = None
    demands: Demands = field(default_factory=Demands)


@dataclass
class Key:
    fields: str
    resolvable: bool = True


@dataclass
class EnumValue:
    name: str
    description: str | None = None
    inaccessible: bool = False
    deprecation: DirectiveNode | None = None


@dataclass
class TypeDef:
    """One named type as a subgraph declares it."""

    kind: Kind
    name: str
    description: str | None = None
    keys: list[Key] = field(default_factory=list)
    shareable: bool = False
    extension: bool = False
    interface_object: bool = False
    inaccessible: bool = False
    extends_only: bool = False  # declared only with `extend type` (or @extends) here
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    input_fields: dict[str, Argument] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValue] = field(default_factory=dict)
    demands: Demands = field(default_factory=Demands)
    #: Names of the ``@context`` set on this object, interface or union.
    contexts: list[str] = field(default_factory=list)

    @property
    def is_entity(self) -> bool:
        return bool(self.keys)


@dataclass
class SubgraphSchema:
    """The types of one subgraph, with root types renamed to Query, Mutation, Subscription."""

    name: str
    url: str
    types: dict[str, TypeDef]
    federation_version: str

    def type(self, name: str) -> TypeDef | None:
        return self.types.get(name)


def named_type(type_node: TypeNode) -> str:
    """The name at the bottom of a (list / non-null) type."""
    while isinstance(type_node, ListTypeNode | NonNullTypeNode):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def type_str(type_node: TypeNode) -> str:
    return print_ast(type_node)


def _string_arg(directive: DirectiveNode, name: str) -> str | None:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, StringValueNode):
            return arg.value.value
    return None


def _bool_arg(directive: DirectiveNode, name: str, default: bool) -> bool:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, BooleanValueNode):
            return arg.value.value
    return default


def _alternatives(directive: DirectiveNode, name: str) -> Alternatives:
    found: list[tuple[str, ...]] = []
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, ListValueNode):
            for group in arg.value.values:
                inner = group.values if isinstance(group, ListValueNode) else (group,)
                found.append(tuple(v.value for v in inner if isinstance(v, StringValueNode)))
    return tuple(found)


def _strings(directive: DirectiveNode, name: str) -> tuple[str, ...] | None:
    for arg in directive.arguments or ():
        if arg.name.value == name:
            values = arg.value.values if isinstance(arg.value, ListValueNode) else (arg.value,)
            return tuple(v.value for v in values if isinstance(v, StringValueNode))
    return None


def _int_arg(directive: DirectiveNode, name: str) -> int | None:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
    return None


def all_of(first: Alternatives | None, second: Alternatives | None) -> Alternatives | None:
    """Both requirements at once, in disjunctive form (each group of one with each of the
    other), without repeated names or groups."""
    if first is None:
        return second
    if second is None:
        return first
    found: list[tuple[str, ...]] = []
    for a in first:
        for b in second:
            group = tuple(dict.fromkeys((*a, *b)))
            if group not in found:
                found.append(group)
    return tuple(found)


def _union(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if a is None and b is None else tuple(dict.fromkeys((*(a or ()), *(b or ()))))


def merge_demands(all_demands: list[Demands]) -> Demands:
    """What several subgraphs say of one element, together: every access requirement holds,
    the highest weight, the largest assumed size and every slicing argument and sized field."""
    merged = Demands()
    for demands in all_demands:
        merged.authenticated = merged.authenticated or demands.authenticated
        merged.scopes = all_of(merged.scopes, demands.scopes)
        merged.policies = all_of(merged.policies, demands.policies)
        if demands.cost is not None:
            merged.cost = max(merged.cost or demands.cost, demands.cost)
        size = demands.list_size
        if size is None:
            continue
        if merged.list_size is None:
            merged.list_size = size
            continue
        old = merged.list_size
        sizes = [s for s in (old.assumed_size, size.assumed_size) if s is not None]

        merged.list_size = ListSize(
            max(sizes) if sizes else None,
            _union(old.slicing_arguments, size.slicing_arguments),
            _union(old.sized_fields, size.sized_fields),
            old.require_one_slicing_argument and size.require_one_slicing_argument,
        )
    return merged


def read_demand(what: str | None, directive: DirectiveNode, demands: Demands) -> None:
    """Note in ``demands`` what ``directive`` (the federation directive ``what``) says."""
    if what == "authenticated":
        demands.authenticated = True
    elif what == "requiresScopes":
        # A directive of that name without the spec's argument is not the spec's.
        demands.scopes = all_of(demands.scopes, _alternatives(directive, "scopes") or None)
    elif what == "policy":
        demands.policies = all_of(demands.policies, _alternatives(directive, "policies") or None)
    elif what == "cost":
        demands.cost = _int_arg(directive, "weight")
    elif what == "listSize":
        demands.list_size = ListSize(
            _int_arg(directive, "assumedSize"),
            _strings(directive, "slicingArguments"),
            _strings(directive, "sizedFields"),
            _bool_arg(directive, "requireOneSlicingArgument", True),
        )


def _description(node: object) -> str | None:
    desc = getattr(node, "description", None)
    return desc.value if isinstance(desc, StringValueNode) else None


class _Names:
    """Maps the federation directives to the names this subgraph uses for them."""

    def __init__(self, document: DocumentNode) -> None:
        self.version = "1"
        self.by_used_name: dict[str, str] = {}
        link = self._federation_link(document)
        if link is None:
            self.by_used_name = {name: name for name in FEDERATION_DIRECTIVES}
            return
        url = _string_arg(link, "url") or ""
        self.version = url.rsplit("/v", 1)[-1] if "/v" in url else "2"
        prefix = (_string_arg(link, "as") or "federation") + "__"
        for name in FEDERATION_DIRECTIVES:
            self.by_used_name[prefix + name] = name
        for arg in link.arguments or ():
            if arg.name.value != "import" or not isinstance(arg.value, ListValueNode):
                continue
            for item in arg.value.values:
                if isinstance(item, StringValueNode):
                    original = used = item.value
                elif isinstance(item, ObjectValueNode):
                    parts = {
                        f.name.value: f.value.value
                        for f in item.fields
                        if isinstance(f.value, StringValueNode)
                    }
                    original = parts.get("name", "")
                    used = parts.get("as", original)
                else:
                    continue
                if original.startswith("@"):
                    self.by_used_name[used.lstrip("@")] = original.lstrip("@")
        # Plain names of directives not imported still mean the standard ones in practice
        # (@inaccessible, @tag are often left unimported); accept them unless shadowed.
        for name in FEDERATION_DIRECTIVES:
            self.by_used_name.setdefault(name, name)

    @staticmethod
    def _federation_link(document: DocumentNode) -> DirectiveNode | None:
        for definition in document.definitions:
            if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
                for directive in definition.directives or ():
                    if directive.name.value == "link" and FEDERATION_SPEC in (
                        _string_arg(directive, "url") or ""
                    ):
                        return directive
        return None

    def of(self, directive: DirectiveNode) -> str | None:
        return self.by_used_name.get(directive.name.value)


def parse_subgraph(name: str, url: str, sdl: str) -> SubgraphSchema:
    """Read ``sdl`` (a subgraph's ``_service { sdl }``) into a :class:`SubgraphSchema`."""
    try:
        document = parse(sdl, no_location=True)
    except GraphQLSyntaxError as exc:
        raise SubgraphSchemaError(f"[{name}] the SDL does not parse: {exc.message}") from None
    names = _Names(document)
    roots = dict(ROOT_DEFAULT_NAMES)
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                roots[op.operation.value] = op.type.name.value
    rename = {roots[op]: ROOT_DEFAULT_NAMES[op] for op in ROOT_OPERATIONS}

    def renamed(type_name: str) -> str:
        return rename.get(type_name, type_name)

    def rename_type(type_node: TypeNode) -> TypeNode:
        if isinstance(type_node, NonNullTypeNode):
            inner = rename_type(type_node.type)
            assert isinstance(inner, NamedTypeNode | ListTypeNode)
            return NonNullTypeNode(type=inner)
        if isinstance(type_node, ListTypeNode):
            return ListTypeNode(type=rename_type(type_node.type))
        assert isinstance(type_node, NamedTypeNode)
        if type_node.name.value in rename:
            return NamedTypeNode(name=NameNode(value=renamed(type_node.name.value)))
        return type_node

    def argument(node: InputValueDefinitionNode) -> Argument:
        inaccessible = any(names.of(d) == "inaccessible" for d in node.directives or ())
        cost = next(
            (_int_arg(d, "weight") for d in node.directives or () if names.of(d) == "cost"), None
        )
        from_context = next(
            (
                _string_arg(d, "field") or ""
                for d in node.directives or ()
                if names.of(d) == "fromContext"
            ),
            None,
        )
        return Argument(
            node.name.value,
            rename_type(node.type),
            node.default_value,
            _description(node),
            inaccessible,
            cost,
            from_context,
        )

    types: dict[str, TypeDef] = {}
    for definition in document.definitions:
        if not hasattr(definition, "name") or definition.name is None:
            continue
        type_name = definition.name.value
        if (
            type_name in FEDERATION_INTERNAL_TYPES
            or type_name.startswith(("federation__", "link__", "join__"))
            or not isinstance(
                definition,
                ObjectTypeDefinitionNode
                | ObjectTypeExtensionNode
                | InterfaceTypeDefinitionNode
                | InterfaceTypeExtensionNode
                | UnionTypeDefinitionNode
                | UnionTypeExtensionNode
                | EnumTypeDefinitionNode
                | EnumTypeExtensionNode
                | InputObjectTypeDefinitionNode
                | InputObjectTypeExtensionNode
                | ScalarTypeDefinitionNode
                | ScalarTypeExtensionNode,
            )
        ):
            continue
        kind: Kind
        if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            kind = "object"
        elif isinstance(definition, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
            kind = "interface"
        elif isinstance(definition, UnionTypeDefinitionNode | UnionTypeExtensionNode):
            kind = "union"
        elif isinstance(definition, EnumTypeDefinitionNode | EnumTypeExtensionNode):
            kind = "enum"
        elif isinstance(definition, InputObjectTypeDefinitionNode | InputObjectTypeExtensionNode):
            kind = "input"
        else:
            kind = "scalar"
        type_name = renamed(type_name)
        typedef = types.get(type_name)
        typedef_is_new = typedef is None
        if typedef is None:
            typedef = types[type_name] = TypeDef(kind, type_name, _description(definition))
        elif typedef.kind != kind:
            raise SubgraphSchemaError(
                f'[{name}] type "{type_name}" is declared both as {typedef.kind} and as {kind}'
            )
        is_extension = "Extension" in type(definition).__name__
        if typedef_is_new:
            typedef.extends_only = is_extension
        elif not is_extension:
            typedef.extends_only = False
        for directive in definition.directives or ():
            what = names.of(directive)
            if what == "key":
                fields = _string_arg(directive, "fields")
                if fields is None:
                    raise SubgraphSchemaError(f'[{name}] @key on "{type_name}" has no fields')
                typedef.keys.append(Key(fields, _bool_arg(directive, "resolvable", True)))
            elif what == "shareable":
                typedef.shareable = True
            elif what == "extends":
                typedef.extension = True
                typedef.extends_only = True
            elif what == "interfaceObject":
                typedef.interface_object = True
            elif what == "inaccessible":
                typedef.inaccessible = True
            elif what == "context" and kind in ("object", "interface", "union"):
                context_name = _string_arg(directive, "name")
                if context_name is not None and context_name not in typedef.contexts:
                    typedef.contexts.append(context_name)
            elif what in DEMAND_DIRECTIVES:
                read_demand(what, directive, typedef.demands)
        # Federation 2 marks `extend type` in the supergraph; Federation 1 used it for every
        # entity it did not own, which Federation 2 reads as an ordinary definition.
        if is_extension and names.version != "1" and type_name not in ROOT_DEFAULT_NAMES.values():
            typedef.extension = True
        for iface in getattr(definition, "interfaces", None) or ():
            if iface.name.value not in typedef.interfaces:
                typedef.interfaces.append(iface.name.value)
        if kind in ("object", "interface"):
            for node in getattr(definition, "fields", None) or ():
                if node.name.value in FEDERATION_INTERNAL_FIELDS and type_name == "Query":
                    continue
                fld = Field(
                    node.name.value,
                    rename_type(node.type),
                    {a.name.value: argument(a) for a in node.arguments or ()},
                    _description(node),
                )
                for directive in node.directives or ():
                    what = names.of(directive)
                    if what == "external":
                        fld.external = True
                    elif what == "shareable":
                        fld.shareable = True
                    elif what == "requires":
                        fld.requires = _string_arg(directive, "fields")
                    elif what == "provides":
                        fld.provides = _string_arg(directive, "fields")
                    elif what == "override":
                        fld.override = _string_arg(directive, "from")
                        fld.override_label = _string_arg(directive, "label")
                    elif what == "inaccessible":
                        fld.inaccessible = True
                    elif what in DEMAND_DIRECTIVES:
                        read_demand(what, directive, fld.demands)
                    elif directive.name.value == "deprecated":
                        fld.deprecation = directive
                typedef.fields[fld.name] = fld
        elif kind == "input":
            for node in getattr(definition, "fields", None) or ():
                typedef.input_fields[node.name.value] = argument(node)
        elif kind == "union":
            for member in getattr(definition, "types", None) or ():
                if member.name.value not in typedef.members:
                    typedef.members.append(renamed(member.name.value))
        elif kind == "enum":
            for node in getattr(definition, "values", None) or ():
                value = EnumValue(node.name.value, _description(node))
                for directive in node.directives or ():
                    if names.of(directive) == "inaccessible":
                        value.inaccessible = True
                    elif directive.name.value == "deprecated":
                        value.deprecation = directive
                typedef.values[value.name] = value
    if names.version == "1":
        _upgrade_federation_1(types)
    else:
        # Extensions written for Federation 1 mark their key fields @external; those fields
        # are the subgraph's own.
        for typedef in types.values():
            if typedef.extends_only and typedef.keys:
                keys = {n for key in typedef.keys for n in _key_field_names(key.fields)}
                for fld in typedef.fields.values():
                    if fld.name in keys:
                        fld.external = False
    # Mutation and Subscription types without fields are not part of the graph. Every
    # subgraph answers queries (at least `_service` and `_entities`), so it keeps its Query.
    for root in ("Mutation", "Subscription"):
        if root in types and types[root].kind == "object" and not types[root].fields:
            del types[root]
    if "Query" not in types:
        types["Query"] = TypeDef("object", "Query")
    return SubgraphSchema(name, url, types, names.version)


def _upgrade_federation_1(types: dict[str, TypeDef]) -> None:
    """Read a Federation 1 subgraph the way Federation 2 composes it: every field it resolves
    may be resolved elsewhere too (Federation 1 had no @shareable), and key fields it marks
    @external are its own (Federation 1 required @external on the keys of type extensions).
    """
    for typedef in types.values():
        if typedef.kind != "object":
            continue
        key_fields = {name for key in typedef.keys for name in _key_field_names(key.fields)}
        for fld in typedef.fields.values():
            if fld.external and fld.name in key_fields:
                fld.external = False
            if not fld.external:
                fld.shareable = True


def _key_field_names(text: str) -> set[str]:
    """The top-level field names of a field set ("id sku", "org { id } id")."""
    try:
        operation = parse("{" + text + "}", no_location=True).definitions[0]
    except GraphQLSyntaxError:
        return set()
    selections = operation.selection_set.selections  # type: ignore[attr-defined]
    return {s.name.value for s in selections if isinstance(s, FieldNode)}
