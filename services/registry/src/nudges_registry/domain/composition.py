"""Composition: subgraph SDLs in, an Apollo Federation v2 supergraph SDL out (join spec v0.3),
or the errors that refuse it, each naming the subgraphs and the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    SelectionSetNode,
    TypeNode,
    parse,
    parse_type,
    print_ast,
    validate_schema,
)
from graphql.language.block_string import print_block_string
from graphql.language.print_string import print_string

from nudges_kit.federation_api import api_schema
from nudges_registry.domain.contexts import (
    ContextCheck,
    parse_context_reference,
    required_argument,
)
from nudges_registry.domain.subgraph_schema import (
    ROOT_DEFAULT_NAMES,
    Argument,
    Demands,
    Field,
    SubgraphSchema,
    SubgraphSchemaError,
    TypeDef,
    merge_demands,
    named_type,
    parse_subgraph,
    type_str,
)

JOIN_URL = "https://specs.apollo.dev/join/v0.3"
#: The join version with progressive override labels, used only when a subgraph sets one.
JOIN_URL_LABELS = "https://specs.apollo.dev/join/v0.4"
#: The join version with contextual arguments (Federation 2.8 @context / @fromContext).
JOIN_URL_CONTEXTS = "https://specs.apollo.dev/join/v0.5"
CONTEXT_LINK = '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)'
CONTEXT_DEFINITIONS = """input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__FieldValue

directive @context(name: String!) repeatable on OBJECT | INTERFACE | UNION

directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION

scalar context__ContextFieldValue"""
INACCESSIBLE_URL = "https://specs.apollo.dev/inaccessible/v0.2"
LINK_URL = "https://specs.apollo.dev/link/v1.0"
BUILTIN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})

HEADER = f"""schema
  @link(url: "{LINK_URL}")
  @link(url: "{JOIN_URL}", for: EXECUTION)
  @link(url: "{INACCESSIBLE_URL}", for: SECURITY)
{{{{
{{roots}}
}}}}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION \
| SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, \
type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on \
FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT \
| INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, \
resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT \
| INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) \
repeatable on SCHEMA

scalar join__FieldSet

scalar link__Import

enum link__Purpose {{{{
  \"\"\"`SECURITY` features provide metadata necessary to securely resolve fields.\"\"\"
  SECURITY

  \"\"\"`EXECUTION` features provide metadata necessary for operation execution.\"\"\"
  EXECUTION
}}}}
"""


#: The specs of the directives kept for the gateway: their @link and definitions, added to
#: the supergraph when some subgraph uses them (as Apollo's and Hive's compositions print them).
DEMAND_SPECS: dict[str, tuple[str, str]] = {
    "requiresScopes": (
        '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION "
        "| OBJECT | INTERFACE | SCALAR | ENUM\n\nscalar requiresScopes__Scope",
    ),
    "authenticated": (
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    ),
    "policy": (
        '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
        "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT "
        "| INTERFACE | SCALAR | ENUM\n\nscalar policy__Policy",
    ),
    "cost": (
        '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])',
        "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION "
        "| INPUT_FIELD_DEFINITION | OBJECT | SCALAR\n\n"
        "directive @listSize(assumedSize: Int, slicingArguments: [String!], "
        "sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    ),
}


def _highest(costs: Iterable[int | None]) -> int | None:
    """The highest of the ``@cost`` weights given (None: none), as for fields."""
    given = [c for c in costs if c is not None]
    return max(given) if given else None


def _alternatives_text(groups: tuple[tuple[str, ...], ...]) -> str:
    return "[" + ", ".join("[" + _quoted(g) + "]" for g in groups) + "]"


def _demand_directives(demands: Demands) -> list[str]:
    """The access- and demand-control directives of an element, as the supergraph prints them."""
    found: list[str] = []
    if demands.authenticated:
        found.append("@authenticated")
    if demands.scopes is not None:
        found.append(f"@requiresScopes(scopes: {_alternatives_text(demands.scopes)})")
    if demands.policies is not None:
        found.append(f"@policy(policies: {_alternatives_text(demands.policies)})")
    if demands.cost is not None:
        found.append(f"@cost(weight: {demands.cost})")
    size = demands.list_size
    if size is not None:
        args = []
        if size.assumed_size is not None:
            args.append(f"assumedSize: {size.assumed_size}")
        if size.slicing_arguments is not None:
            args.append(f"slicingArguments: [{_quoted(size.slicing_arguments)}]")
        if size.sized_fields is not None:
            args.append(f"sizedFields: [{_quoted(size.sized_fields)}]")
        if not size.require_one_slicing_argument:
            args.append("requireOneSlicingArgument: false")
        found.append("@listSize" + (f"({', '.join(args)})" if args else ""))
    return found


def _access(demands: Demands) -> Demands:
    """The access-control part of ``demands``."""
    return Demands(demands.authenticated, demands.scopes, demands.policies)


def _with_access(demands: Demands, access: Demands) -> Demands:
    merged = merge_demands([demands, access])
    return Demands(
        merged.authenticated, merged.scopes, merged.policies, demands.cost, demands.list_size
    )


def _specs_used(demands: Iterable[Demands]) -> list[str]:
    used: set[str] = set()
    for d in demands:
        if d.authenticated:
            used.add("authenticated")
        if d.scopes is not None:
            used.add("requiresScopes")
        if d.policies is not None:
            used.add("policy")
        if d.cost is not None or d.list_size is not None:
            used.add("cost")
    return [name for name in DEMAND_SPECS if name in used]


@dataclass(frozen=True)
class SubgraphSource:
    """What a subgraph registers: its name, the URL of its ``/graphql`` and its SDL."""

    name: str
    url: str
    sdl: str


@dataclass(frozen=True)
class CompositionError:
    """Why a composition is refused: a stable ``code`` and a message naming the subgraphs."""

    code: str
    message: str
    subgraphs: tuple[str, ...] = ()
    coordinate: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "subgraphs": list(self.subgraphs),
            "coordinate": self.coordinate,
        }


@dataclass
class Composition:
    """The supergraph SDL, or the errors when there is none."""

    supergraph_sdl: str | None
    errors: list[CompositionError]

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None and not self.errors


@dataclass
class _JoinField:
    graph: str
    requires: str | None = None
    provides: str | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    used_overridden: bool = False
    override_label: str | None = None
    #: (context, argument name, argument type, selection) of each contextual argument.
    context_arguments: tuple[tuple[str, str, str, str], ...] = ()


@dataclass
class _Field:
    name: str
    type: TypeNode
    arguments: dict[str, Argument]
    description: str | None
    inaccessible: bool
    deprecation: str | None
    joins: list[_JoinField] | None  # None: resolvable in every graph of the type
    bare_join: bool = False  # resolvable through an @interfaceObject only
    demands: Demands = field(default_factory=Demands)


@dataclass
class _Type:
    kind: str
    name: str
    description: str | None = None
    inaccessible: bool = False
    join_types: list[str] = field(default_factory=list)  # printed arguments of @join__type
    interfaces: list[str] = field(default_factory=list)
    implements: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, _Field] = field(default_factory=dict)
    members: list[tuple[str, list[str]]] = field(default_factory=list)
    values: dict[str, tuple[str | None, bool, str | None, list[str]]] = field(default_factory=dict)
    input_fields: dict[str, tuple[Argument, bool]] = field(default_factory=dict)
    demands: Demands = field(default_factory=Demands)
    contexts: list[str] = field(default_factory=list)  # "subgraph__name" of each @context


def graph_enum_names(names: Iterable[str]) -> dict[str, str]:
    """The ``join__Graph`` value of each subgraph name (upper case, unique)."""
    taken: set[str] = set()
    result: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name).upper() or "GRAPH"
        if base[0].isdigit():
            base = "_" + base
        candidate, n = base, 1
        while candidate in taken:
            candidate = f"{base}_{n}"
            n += 1
        taken.add(candidate)
        result[name] = candidate
    return result


def _shape(type_node: TypeNode) -> tuple[str, list[bool]]:
    """The named type and, per list level from the outside in, whether it is non-null."""
    levels: list[bool] = []
    node: TypeNode = type_node
    while True:
        non_null = isinstance(node, NonNullTypeNode)
        if isinstance(node, NonNullTypeNode):
            node = node.type
        levels.append(non_null)
        if isinstance(node, ListTypeNode):
            node = node.type
            continue
        assert isinstance(node, NamedTypeNode)
        return node.name.value, levels


def _type_text(name: str, levels: list[bool]) -> str:
    text = name + ("!" if levels[-1] else "")
    for non_null in reversed(levels[:-1]):
        text = f"[{text}]" + ("!" if non_null else "")
    return text


def _quoted(names: Iterable[str], separator: str = ", ") -> str:
    return separator.join(f'"{name}"' for name in names)


def _field_set(text: str) -> SelectionSetNode:
    document = parse("{" + text + "}", no_location=True)
    return document.definitions[0].selection_set  # type: ignore[attr-defined, no-any-return]


def _top_fields(text: str) -> set[str]:
    try:
        return {s.name.value for s in _field_set(text).selections if isinstance(s, FieldNode)}
    except GraphQLSyntaxError:
        return set()


class _Composer:
    def __init__(self, sources: Sequence[SubgraphSource]) -> None:
        self.errors: list[CompositionError] = []
        self.subgraphs: list[SubgraphSchema] = []
        for source in sorted(sources, key=lambda s: s.name):
            try:
                self.subgraphs.append(parse_subgraph(source.name, source.url, source.sdl))
            except SubgraphSchemaError as exc:
                self.errors.append(CompositionError("INVALID_GRAPHQL", str(exc), (source.name,)))
        self.graph_names = graph_enum_names(s.name for s in self.subgraphs)
        self.types: dict[str, _Type] = {}
        self._provided_cache: set[tuple[str, str, str]] | None = None
        self.override_labels = False  # join v0.4's overrideLabel is used
        self.contexts_used = False  # join v0.5's contextArguments and @context are used

    def error(
        self, code: str, message: str, subgraphs: Iterable[str] = (), coordinate: str | None = None
    ) -> None:
        self.errors.append(CompositionError(code, message, tuple(subgraphs), coordinate))

    def g(self, subgraph: str) -> str:
        return self.graph_names[subgraph]

    # --- the steps ------------------------------------------------------------------------

    def compose(self) -> Composition:
        if not self.subgraphs and not self.errors:
            self.error("NO_SUBGRAPHS", "there is no subgraph to compose")
        if self.errors:
            return Composition(None, self.errors)
        definitions = self._definitions()
        self._check_extensions_have_base(definitions)
        for name, defs in definitions.items():
            self._merge(name, defs)
        self._interface_objects(definitions)
        self._interface_access()
        self._check_inaccessible_references()
        self._check_reachability(definitions)
        if "Query" not in self.types or not self.types["Query"].fields:
            self.error("NO_QUERIES", "no subgraph defines a field of the Query type")
        if self.errors:
            return Composition(None, self.errors)
        sdl = self._print()
        try:
            schema = api_schema(sdl)
            problems = validate_schema(schema)
        except (GraphQLError, TypeError) as exc:
            problems = [GraphQLError(str(exc))]
        for problem in problems:
            self.error("INVALID_SUPERGRAPH", f"the composed schema is not valid: {problem.message}")
        return Composition(None if self.errors else sdl, self.errors)

    def _definitions(self) -> dict[str, list[tuple[SubgraphSchema, TypeDef]]]:
        definitions: dict[str, list[tuple[SubgraphSchema, TypeDef]]] = {}
        for subgraph in self.subgraphs:
            for typedef in subgraph.types.values():
                definitions.setdefault(typedef.name, []).append((subgraph, typedef))
                self._check_field_sets(subgraph, typedef)
            ContextCheck(subgraph, self.error).run()
        return definitions

    def _check_extensions_have_base(
        self, definitions: dict[str, list[tuple[SubgraphSchema, TypeDef]]]
    ) -> None:
        """A Federation 1 ``extend type`` extends a type some subgraph defines."""
        for name, defs in definitions.items():
            if name in ROOT_DEFAULT_NAMES.values() or not all(td.extends_only for _, td in defs):
                continue
            for sg, _ in defs:
                if sg.federation_version == "1":
                    self.error(
                        "EXTENSION_WITH_NO_BASE",
                        f'[{sg.name}] Type "{name}" is an extension type, but there is no type '
                        f'definition for "{name}" in any subgraph.',
                        (sg.name,),
                        name,
                    )

    def _check_field_sets(self, subgraph: SubgraphSchema, typedef: TypeDef) -> None:
        for key in typedef.keys:
            self._check_selection(
                subgraph,
                typedef.name,
                key.fields,
                "KEY_INVALID_FIELDS",
                f'@key(fields: "{key.fields}")',
            )
        for fld in typedef.fields.values():
            coordinate = f"{typedef.name}.{fld.name}"
            if typedef.kind == "interface":
                self._check_interface_field(subgraph, coordinate, fld)
            if fld.requires is not None and self._check_selection(
                subgraph,
                typedef.name,
                fld.requires,
                "REQUIRES_INVALID_FIELDS",
                f'@requires(fields: "{fld.requires}") on "{coordinate}"',
            ):
                for name in _top_fields(fld.requires):
                    required = typedef.fields.get(name)
                    if required is not None and not required.external:
                        self.error(
                            "REQUIRES_FIELDS_MISSING_EXTERNAL",
                            f'[{subgraph.name}] On field "{coordinate}", for @requires(fields: '
                            f'"{fld.requires}"): field "{typedef.name}.{name}" should not be '
                            "part of a @requires since it is already provided by this "
                            "subgraph (it is not marked @external)",
                            (subgraph.name,),
                            coordinate,
                        )
            if fld.provides is not None:
                self._check_selection(
                    subgraph,
                    named_type(fld.type),
                    fld.provides,
                    "PROVIDES_INVALID_FIELDS",
                    f'@provides(fields: "{fld.provides}") on "{coordinate}"',
                )
            if fld.override is not None and fld.override == subgraph.name:
                self.error(
                    "OVERRIDE_FROM_SELF_ERROR",
                    f'[{subgraph.name}] Source and destination subgraphs "{subgraph.name}" are the '
                    f'same for overridden field "{coordinate}"',
                    (subgraph.name,),
                    coordinate,
                )

    def _check_interface_field(self, subgraph: SubgraphSchema, coordinate: str, fld: Field) -> None:
        """Interface fields are resolved by their implementations: the directives that say how
        a subgraph resolves a field have no meaning there."""
        for used, code in (
            (fld.requires is not None, "REQUIRES_UNSUPPORTED_ON_INTERFACE"),
            (fld.provides is not None, "PROVIDES_UNSUPPORTED_ON_INTERFACE"),
            (fld.external, "EXTERNAL_ON_INTERFACE"),
        ):
            if used:
                directive = code.split("_", 1)[0].lower()
                self.error(
                    code,
                    f'[{subgraph.name}] Cannot use @{directive} on field "{coordinate}" of an '
                    "interface: interface fields are resolved by their implementations",
                    (subgraph.name,),
                    coordinate,
                )

    def _check_selection(
        self, subgraph: SubgraphSchema, type_name: str, text: str, code: str, what: str
    ) -> bool:
        try:
            selection = _field_set(text)
        except GraphQLSyntaxError as exc:
            self.error(
                code,
                f"[{subgraph.name}] {what}: invalid field set: {exc.message}",
                (subgraph.name,),
            )
            return False
        return self._check_selection_set(subgraph, type_name, selection, code, what)

    def _check_selection_set(
        self,
        subgraph: SubgraphSchema,
        type_name: str,
        selection: SelectionSetNode,
        code: str,
        what: str,
    ) -> bool:
        typedef = subgraph.type(type_name)
        ok = True
        for item in selection.selections:
            if isinstance(item, InlineFragmentNode):
                condition = item.type_condition.name.value if item.type_condition else type_name
                ok &= self._check_selection_set(subgraph, condition, item.selection_set, code, what)
                continue
            assert isinstance(item, FieldNode)
            name = item.name.value
            if name == "__typename":
                continue
            fld = typedef.fields.get(name) if typedef else None
            if fld is None:
                self.error(
                    code,
                    f'[{subgraph.name}] On type "{type_name}", for {what}: Cannot query field '
                    f'"{name}" on type "{type_name}" (the field should either be added to this '
                    "subgraph or, if it should not be resolved by this subgraph, you need to add "
                    "it to this subgraph with @external).",
                    (subgraph.name,),
                    f"{type_name}.{name}",
                )
                ok = False
                continue
            child = subgraph.type(named_type(fld.type))
            composite = child is not None and child.kind in ("object", "interface", "union")
            if composite and item.selection_set is None:
                self.error(
                    code,
                    f'[{subgraph.name}] On type "{type_name}", for {what}: field "{type_name}.'
                    f'{name}" is of composite type and needs a selection of subfields',
                    (subgraph.name,),
                    f"{type_name}.{name}",
                )
                ok = False
            elif item.selection_set is not None:
                if not composite:
                    self.error(
                        code,
                        f'[{subgraph.name}] On type "{type_name}", for {what}: field "{type_name}.'
                        f'{name}" is a leaf and cannot have subfields',
                        (subgraph.name,),
                        f"{type_name}.{name}",
                    )
                    ok = False
                else:
                    ok &= self._check_selection_set(
                        subgraph, named_type(fld.type), item.selection_set, code, what
                    )
        return ok

    def _merge(self, name: str, defs: list[tuple[SubgraphSchema, TypeDef]]) -> None:
        kinds = {td.kind for _, td in defs}
        if kinds == {"object", "interface"} and all(
            td.kind == "interface" or td.interface_object for _, td in defs
        ):
            kind = "interface"
        elif len(kinds) > 1:
            described = ", ".join(f'{td.kind} in "{sg.name}"' for sg, td in defs)
            self.error(
                "TYPE_KIND_MISMATCH",
                f'Type "{name}" has mismatched kind: it is defined as {described}',
                [sg.name for sg, _ in defs],
                name,
            )
            return
        else:
            kind = kinds.pop()
        merged = _Type(kind, name)
        merged.description = next((td.description for _, td in defs if td.description), None)
        merged.inaccessible = any(td.inaccessible for _, td in defs)
        merged.demands = merge_demands([td.demands for _, td in defs])
        for sg, td in defs:
            if td.kind == "interface" or td.interface_object:
                self._refuse_access_on_interface(sg, td)
        if merged.inaccessible and name in ROOT_DEFAULT_NAMES.values():
            self.error(
                "QUERY_ROOT_TYPE_INACCESSIBLE", f'Root type "{name}" cannot be @inaccessible'
            )
        for sg, td in defs:
            if td.interface_object and kind != "interface":
                self.error(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'[{sg.name}] Type "{name}" is declared with @interfaceObject but is not an '
                    "interface in any other subgraph",
                    (sg.name,),
                    name,
                )
            graph = self.g(sg.name)
            for context in td.contexts:
                merged.contexts.append(f"{sg.name}__{context}")
                self.contexts_used = True
            extension = ", extension: true" if td.extension else ""
            io = ", isInterfaceObject: true" if td.interface_object else ""
            if td.keys:
                for key in td.keys:
                    resolvable = "" if key.resolvable else ", resolvable: false"
                    key_text = print_string(key.fields)
                    merged.join_types.append(
                        f"graph: {graph}, key: {key_text}{extension}{resolvable}{io}"
                    )
            else:
                merged.join_types.append(f"graph: {graph}{extension}{io}")
        if kind in ("object", "interface"):
            self._merge_fields(merged, defs)
            for sg, td in defs:
                for iface in td.interfaces:
                    if iface not in merged.interfaces:
                        merged.interfaces.append(iface)
                    merged.implements.append((self.g(sg.name), iface))
        elif kind == "union":
            for sg, td in defs:
                merged.members.append((self.g(sg.name), td.members))
        elif kind == "enum":
            self._merge_enum(merged, defs)
        elif kind == "input":
            self._merge_input(merged, defs)
        self.types[name] = merged

    def _provided(self) -> set[tuple[str, str, str]]:
        """(subgraph, type, field) of every external field some @provides makes resolvable."""
        if self._provided_cache is None:
            found: set[tuple[str, str, str]] = set()
            for sg in self.subgraphs:
                for td in sg.types.values():
                    for fld in td.fields.values():
                        if fld.provides:
                            target = named_type(fld.type)
                            for name in _top_fields(fld.provides):
                                found.add((sg.name, target, name))
            self._provided_cache = found
        return self._provided_cache

    def _merge_fields(self, merged: _Type, defs: list[tuple[SubgraphSchema, TypeDef]]) -> None:
        type_graphs = {sg.name for sg, _ in defs}
        known = {sg.name for sg in self.subgraphs}
        order: list[str] = []
        for _, td in defs:
            order.extend(f for f in td.fields if f not in order)
        for fname in order:
            coordinate = f"{merged.name}.{fname}"
            fdefs = [(sg, td, td.fields[fname]) for sg, td in defs if fname in td.fields]
            # An @override naming no subgraph of the set has nothing to take over.
            for _, _, fld in fdefs:
                if fld.override is not None and fld.override not in known:
                    fld.override = None
            overridden = {
                fld.override
                for sg, _, fld in fdefs
                if fld.override and not fld.external and fld.override in type_graphs
            }
            resolving = [
                (sg, td, fld)
                for sg, td, fld in fdefs
                if not fld.external and sg.name not in overridden
            ]
            if merged.kind == "object" and not resolving:
                self.error(
                    "EXTERNAL_MISSING_ON_BASE",
                    f'Field "{coordinate}" is marked @external on all the subgraphs in which it is '
                    f"listed ({_quoted(sg.name for sg, _, _ in fdefs)}).",
                    [sg.name for sg, _, _ in fdefs],
                    coordinate,
                )
                continue
            supertype = self._field_type(coordinate, [(sg.name, fld.type) for sg, _, fld in fdefs])
            if supertype is None:
                continue
            fed1_external = any(sg.federation_version == "1" and f.external for sg, _, f in fdefs)
            if resolving and len(resolving) < len(fdefs) and not fed1_external:
                # What clients may get is what the resolving subgraphs answer; the external
                # declarations only need a compatible type. (Federation 1 externals count in
                # the supergraph's type, as Apollo composes them.)
                supertype = (
                    self._field_type(coordinate, [(sg.name, fld.type) for sg, _, fld in resolving])
                    or supertype
                )
            # An external field a @provides names is resolved there too, on some paths.
            provided = self._provided()
            sharing = resolving + [
                (sg, td, fld)
                for sg, td, fld in fdefs
                if fld.external and (sg.name, merged.name, fname) in provided
            ]
            for sg, _, fld in fdefs:
                # Federation 1 let an @external declaration differ in nullability.
                if sg.federation_version == "1":
                    continue
                if fld.external and not self._external_fits(fld.type, supertype):
                    self.error(
                        "EXTERNAL_TYPE_MISMATCH",
                        f'Type of field "{coordinate}" is incompatible across subgraphs (where '
                        f'marked @external): it has type "{type_str(supertype)}" where it is '
                        f'resolved but type "{type_str(fld.type)}" in subgraph "{sg.name}"',
                        [sg.name],
                        coordinate,
                    )
            if merged.kind == "object" and len(sharing) > 1:
                resolving_names = [sg.name for sg, _, _ in sharing]
                not_shareable = [
                    sg.name
                    for sg, td, fld in sharing
                    if not fld.external
                    and not (
                        fld.shareable
                        or td.shareable
                        or any(fname in _top_fields(k.fields) for k in td.keys)
                    )
                ]
                if not_shareable:
                    self.error(
                        "INVALID_FIELD_SHARING",
                        f'Non-shareable field "{coordinate}" is resolved from multiple subgraphs: '
                        f"it is resolved from subgraphs "
                        f"{_quoted(resolving_names, ' and ')} and defined as "
                        f"non-shareable in subgraph{'s' if len(not_shareable) > 1 else ''} "
                        f"{_quoted(not_shareable, ' and ')}",
                        resolving_names,
                        coordinate,
                    )
                    continue
            arguments = self._arguments(
                coordinate, resolving or [(sg, td, f) for sg, td, f in fdefs]
            )
            super_text = type_str(supertype)
            # When one subgraph's type differs from the supergraph's, every join names its type.
            typed = any(type_str(fld.type) != super_text for _, _, fld in fdefs)
            needs_join = {sg.name for sg, _, _ in fdefs} != type_graphs or any(
                fld.external
                or any(a.from_context is not None for a in fld.arguments.values())
                or fld.requires
                or fld.provides
                or fld.override
                or type_str(fld.type) != super_text
                for _, _, fld in fdefs
            )
            # A progressive override leaves the field with both subgraphs, each join naming
            # the label the gateway decides by.
            labels = {f.override: f.override_label for _, _, f in fdefs if f.override_label}
            joins: list[_JoinField] | None = None
            if needs_join or overridden:
                joins = []
                for sg, td, fld in fdefs:
                    if sg.name in labels:
                        self.override_labels = True
                        joins.append(_JoinField(self.g(sg.name), override_label=labels[sg.name]))
                        continue
                    if sg.name in overridden:
                        used = any(fname in _top_fields(k.fields) for k in td.keys) or any(
                            f.requires and fname in _top_fields(f.requires)
                            for f in td.fields.values()
                        )
                        if used:
                            joins.append(_JoinField(self.g(sg.name), used_overridden=True))
                        continue
                    joins.append(
                        _JoinField(
                            self.g(sg.name),
                            requires=fld.requires,
                            provides=fld.provides,
                            type=type_str(fld.type) if typed else None,
                            external=fld.external,
                            override=fld.override,
                            override_label=fld.override_label if fld.override else None,
                            context_arguments=self._context_arguments(sg, fld),
                        )
                    )
            deprecation = next(
                (print_ast(f.deprecation) for _, _, f in fdefs if f.deprecation is not None), None
            )
            merged.fields[fname] = _Field(
                fname,
                supertype,
                arguments,
                next((f.description for _, _, f in fdefs if f.description), None),
                any(f.inaccessible for _, _, f in fdefs),
                deprecation,
                joins,
                demands=merge_demands([f.demands for _, _, f in fdefs]),
            )

    def _context_arguments(
        self, sg: SubgraphSchema, fld: Field
    ) -> tuple[tuple[str, str, str, str], ...]:
        found = []
        for arg in fld.arguments.values():
            if arg.from_context is None:
                continue
            self.contexts_used = True
            context, selection = parse_context_reference(arg.from_context)
            found.append((f"{sg.name}__{context}", arg.name, type_str(arg.type), selection))
        return tuple(found)

    def _field_type(self, coordinate: str, types: list[tuple[str, TypeNode]]) -> TypeNode | None:
        shapes = [(sg, *_shape(t)) for sg, t in types]
        names = {name for _, name, _ in shapes}
        depths = {len(levels) for _, _, levels in shapes}
        if len(names) > 1 or len(depths) > 1:
            described = " and ".join(f'"{type_str(t)}" in subgraph "{sg}"' for sg, t in types)
            self.error(
                "FIELD_TYPE_MISMATCH",
                f'Type of field "{coordinate}" is incompatible across subgraphs: it has type '
                f"{described}",
                [sg for sg, _ in types],
                coordinate,
            )
            return None
        name = names.pop()
        depth = depths.pop()
        levels = [all(levels[i] for _, _, levels in shapes) for i in range(depth)]
        # The supergraph's type is one of the subgraphs' types that all others are subtypes of
        # ("[Int!]" and "[Int]!" have none).
        if levels not in [lv for _, _, lv in shapes]:
            described = " and ".join(f'"{type_str(t)}" in subgraph "{sg}"' for sg, t in types)
            self.error(
                "FIELD_TYPE_MISMATCH",
                f'Type of field "{coordinate}" is incompatible across subgraphs: it has type '
                f"{described}",
                [sg for sg, _ in types],
                coordinate,
            )
            return None
        return parse_type(_type_text(name, levels), no_location=True)

    @staticmethod
    def _external_fits(external: TypeNode, resolved: TypeNode) -> bool:
        """An @external declaration may not be more nullable than what is resolved."""
        _, mine = _shape(external)
        _, theirs = _shape(resolved)
        return len(mine) == len(theirs) and all(
            m or not t for m, t in zip(mine, theirs, strict=True)
        )

    def _arguments(
        self, coordinate: str, fdefs: list[tuple[SubgraphSchema, TypeDef, Field]]
    ) -> dict[str, Argument]:
        names: list[str] = []
        for _, _, fld in fdefs:
            names.extend(a for a in fld.arguments if a not in names)
        result: dict[str, Argument] = {}
        for arg in names:
            present = [(sg, fld.arguments[arg]) for sg, _, fld in fdefs if arg in fld.arguments]
            if any(a.from_context is not None for _, a in present):
                # A contextual argument is the gateway's to fill: clients never see it.
                for sg, a in present:
                    if a.from_context is None and required_argument(a):
                        self.error(
                            "CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS",
                            f'Argument "{coordinate}({arg}:)" is contextual in at least one '
                            f'subgraph but in subgraph "{sg.name}" it does not have '
                            "@fromContext, is not nullable and has no default value.",
                            [sg.name],
                            coordinate,
                        )
                continue
            missing = [sg.name for sg, _, fld in fdefs if arg not in fld.arguments]
            texts = {type_str(a.type) for _, a in present}
            if len(texts) > 1:
                self.error(
                    "FIELD_ARGUMENT_TYPE_MISMATCH",
                    f'Type of argument "{coordinate}({arg}:)" is incompatible across subgraphs: '
                    + " and ".join(
                        f'"{type_str(a.type)}" in subgraph "{sg.name}"' for sg, a in present
                    ),
                    [sg.name for sg, _ in present],
                    coordinate,
                )
                continue
            if missing:
                required = [
                    sg.name
                    for sg, a in present
                    if isinstance(a.type, NonNullTypeNode) and a.default is None
                ]
                if required:
                    self.error(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        f'Argument "{coordinate}({arg}:)" is required in subgraph "{required[0]}" '
                        f"but does not appear in subgraph{'s' if len(missing) > 1 else ''} "
                        f"{_quoted(missing)}",
                        [*required, *missing],
                        coordinate,
                    )
                continue
            first = present[0][1]
            result[arg] = Argument(
                arg,
                first.type,
                next((a.default for _, a in present if a.default is not None), None),
                next((a.description for _, a in present if a.description), None),
                any(a.inaccessible for _, a in present),
                _highest(a.cost for _, a in present),
            )
        return result

    def _usage(self) -> tuple[set[str], set[str]]:
        output: set[str] = set()
        inputs: set[str] = set()
        for sg in self.subgraphs:
            for td in sg.types.values():
                for fld in td.fields.values():
                    output.add(named_type(fld.type))
                    inputs.update(named_type(a.type) for a in fld.arguments.values())
                inputs.update(named_type(a.type) for a in td.input_fields.values())
        return output, inputs

    def _merge_enum(self, merged: _Type, defs: list[tuple[SubgraphSchema, TypeDef]]) -> None:
        output, inputs = self._usage()
        value_sets = [set(td.values) for _, td in defs]
        order: list[str] = []
        for _, td in defs:
            order.extend(v for v in td.values if v not in order)
        if merged.name in inputs:
            if merged.name in output and any(vs != value_sets[0] for vs in value_sets):
                self.error(
                    "ENUM_VALUE_MISMATCH",
                    f'Enum type "{merged.name}" is used as both input and output type, but its '
                    "values differ between subgraphs: "
                    + "; ".join(f'"{sg.name}": {", ".join(td.values)}' for sg, td in defs),
                    [sg.name for sg, _ in defs],
                    merged.name,
                )
                return
            common = set.intersection(*value_sets)
            order = [v for v in order if v in common]
        for value in order:
            vdefs = [td.values[value] for _, td in defs if value in td.values]
            graphs = [self.g(sg.name) for sg, td in defs if value in td.values]
            deprecation = next(
                (print_ast(v.deprecation) for v in vdefs if v.deprecation is not None), None
            )
            merged.values[value] = (
                next((v.description for v in vdefs if v.description), None),
                any(v.inaccessible for v in vdefs),
                deprecation,
                graphs,
            )

    def _merge_input(self, merged: _Type, defs: list[tuple[SubgraphSchema, TypeDef]]) -> None:
        order: list[str] = []
        for _, td in defs:
            order.extend(f for f in td.input_fields if f not in order)
        for fname in order:
            present = [(sg, td.input_fields[fname]) for sg, td in defs if fname in td.input_fields]
            missing = [sg.name for sg, td in defs if fname not in td.input_fields]
            coordinate = f"{merged.name}.{fname}"
            if len({type_str(a.type) for _, a in present}) > 1:
                self.error(
                    "INPUT_FIELD_TYPE_MISMATCH",
                    f'Type of input field "{coordinate}" is incompatible across subgraphs: '
                    + " and ".join(
                        f'"{type_str(a.type)}" in subgraph "{sg.name}"' for sg, a in present
                    ),
                    [sg.name for sg, _ in present],
                    coordinate,
                )
                continue
            if missing:
                required = [
                    sg.name
                    for sg, a in present
                    if isinstance(a.type, NonNullTypeNode) and a.default is None
                ]
                if required:
                    self.error(
                        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                        f'Input object field "{coordinate}" is required in some subgraphs but does '
                        f'not appear in all subgraphs: it is required in "{required[0]}" but does '
                        f"not appear in {_quoted(missing)}",
                        [*required, *missing],
                        coordinate,
                    )
                continue
            first = present[0][1]
            merged.input_fields[fname] = (
                Argument(
                    fname,
                    first.type,
                    next((a.default for _, a in present if a.default is not None), None),
                    next((a.description for _, a in present if a.description), None),
                    cost=_highest(a.cost for _, a in present),
                ),
                any(a.inaccessible for _, a in present),
            )

    def _interface_objects(
        self, definitions: dict[str, list[tuple[SubgraphSchema, TypeDef]]]
    ) -> None:
        """Fields an @interfaceObject adds to an interface reach every implementation."""
        for name, defs in definitions.items():
            io_graphs = {sg.name for sg, td in defs if td.interface_object}
            merged = self.types.get(name)
            if not io_graphs or merged is None or merged.kind != "interface":
                continue
            if not any(td.keys for sg, td in defs if td.kind == "interface"):
                self.error(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Interface "{name}" is used as an @interfaceObject in '
                    f"{_quoted(sorted(io_graphs))} but is not an entity "
                    "interface (with @key) in the subgraph that defines it",
                    sorted(io_graphs),
                    name,
                )
                continue
            for implementation in self.types.values():
                if implementation.kind != "object" or name not in implementation.interfaces:
                    continue
                for fname, fld in merged.fields.items():
                    if fname in implementation.fields:
                        continue
                    implementation.fields[fname] = _Field(
                        fname,
                        fld.type,
                        fld.arguments,
                        fld.description,
                        fld.inaccessible,
                        fld.deprecation,
                        joins=[],
                        bare_join=True,
                    )

    def _refuse_access_on_interface(self, sg: SubgraphSchema, td: TypeDef) -> None:
        """Access requirements belong on the object types (and their fields): an interface
        gets those of its implementations."""
        where = [(f'interface "{td.name}"', td.demands)] + [
            (f'field "{td.name}.{f.name}"', f.demands) for f in td.fields.values()
        ]
        for place, demands in where:
            for directive, used in (
                ("authenticated", demands.authenticated),
                ("requiresScopes", demands.scopes is not None),
                ("policy", demands.policies is not None),
            ):
                if used:
                    self.error(
                        "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
                        f"[{sg.name}] Invalid use of @{directive} on {place}: @{directive} "
                        "cannot be applied on interfaces, interface fields and interface objects",
                        [sg.name],
                        td.name,
                    )

    def _interface_access(self) -> None:
        """An interface (and each of its fields) requires what all its implementations
        require, so that asking through the interface needs no less."""
        for iface in self.types.values():
            if iface.kind != "interface":
                continue
            implementations = [
                t for t in self.types.values() if t.kind == "object" and iface.name in t.interfaces
            ]
            iface.demands = _with_access(
                iface.demands, merge_demands([_access(t.demands) for t in implementations])
            )
            for fname, fld in iface.fields.items():
                fld.demands = _with_access(
                    fld.demands,
                    merge_demands(
                        [
                            _access(t.fields[fname].demands)
                            for t in implementations
                            if fname in t.fields
                        ]
                    ),
                )

    def _check_inaccessible_references(self) -> None:
        hidden = {name for name, t in self.types.items() if t.inaccessible}
        for t in self.types.values():
            if t.inaccessible:
                continue
            for fld in t.fields.values():
                if fld.inaccessible:
                    continue
                if named_type(fld.type) in hidden:
                    self.error(
                        "REFERENCED_INACCESSIBLE",
                        f'Type "{named_type(fld.type)}" is @inaccessible but is referenced by '
                        f'"{t.name}.{fld.name}", which is in the API schema.',
                        coordinate=f"{t.name}.{fld.name}",
                    )
                for arg in fld.arguments.values():
                    if not arg.inaccessible and named_type(arg.type) in hidden:
                        self.error(
                            "REFERENCED_INACCESSIBLE",
                            f'Type "{named_type(arg.type)}" is @inaccessible but is referenced by '
                            f'"{t.name}.{fld.name}({arg.name}:)", which is in the API schema.',
                            coordinate=f"{t.name}.{fld.name}",
                        )

    def _check_reachability(
        self, definitions: dict[str, list[tuple[SubgraphSchema, TypeDef]]]
    ) -> None:
        """A field only some subgraphs resolve must be reachable from the others: through a
        resolvable key of its type there, or by moving the path that leads to it over to such
        a subgraph (a shared root field, or a parent entity's key, nested as deep as needed).
        """
        by_name = {sg.name: sg for sg in self.subgraphs}
        for name, defs in definitions.items():
            merged = self.types.get(name)
            if merged is None or merged.kind != "object" or name in ROOT_DEFAULT_NAMES.values():
                continue
            graphs_of = {sg.name: td for sg, td in defs}
            for fname, fld in merged.fields.items():
                if fld.bare_join:
                    continue
                if fld.joins is None:
                    resolvers = set(graphs_of)
                else:
                    by_enum = {self.g(n): n for n in graphs_of}
                    resolvers = {
                        by_enum[j.graph]
                        for j in fld.joins
                        if not j.external and not j.used_overridden and j.graph in by_enum
                    }
                others = set(graphs_of) - resolvers
                if not others or not resolvers:
                    continue
                stranded = [
                    other
                    for other in sorted(others)
                    if not any(
                        self._reachable(by_name[r], name, by_name[other], frozenset())
                        for r in resolvers
                    )
                ]
                if stranded:
                    self.error(
                        "SATISFIABILITY_ERROR",
                        f'Field "{name}.{fname}" can only be resolved by subgraph '
                        f'{_quoted(sorted(resolvers), " or ")}, where "{name}" has no '
                        f"resolvable @key and cannot be reached the way "
                        f'{_quoted(stranded)} reaches it (add a @key to "{name}" there)',
                        sorted(resolvers | set(stranded)),
                        f"{name}.{fname}",
                    )

    def _reachable(
        self, target: SubgraphSchema, type_name: str, source: SubgraphSchema, seen: frozenset[str]
    ) -> bool:
        """Whether every path ``source`` has to ``type_name`` can continue in ``target``."""
        if type_name in ROOT_DEFAULT_NAMES.values() or type_name in seen:
            return True
        here = target.type(type_name)
        if here is None:
            return False
        if any(k.resolvable for k in here.keys):
            return True
        for parent in source.types.values():
            for fld in parent.fields.values():
                if fld.external or named_type(fld.type) != type_name:
                    continue
                there = target.type(parent.name)
                same = there.fields.get(fld.name) if there is not None else None
                if same is None or same.external:
                    return False
                if not self._reachable(target, parent.name, source, seen | {type_name}):
                    return False
        return True

    # --- printing --------------------------------------------------------------------------

    def _print(self) -> str:
        roots = [f"  {op}: {name}" for op, name in ROOT_DEFAULT_NAMES.items() if name in self.types]
        header = HEADER.format(roots="\n".join(roots)).rstrip()
        if self.contexts_used:
            header = header.replace(JOIN_URL, JOIN_URL_CONTEXTS).replace(
                "usedOverridden: Boolean)",
                "usedOverridden: Boolean, overrideLabel: String, "
                "contextArguments: [join__ContextArgument!])",
            )
            header = header.replace("for: SECURITY)\n{", f"for: SECURITY)\n  {CONTEXT_LINK}\n{{", 1)
            header += "\n\n" + CONTEXT_DEFINITIONS
        elif self.override_labels:
            header = header.replace(JOIN_URL, JOIN_URL_LABELS).replace(
                "usedOverridden: Boolean)", "usedOverridden: Boolean, overrideLabel: String)"
            )
        specs = _specs_used(
            [t.demands for t in self.types.values()]
            + [f.demands for t in self.types.values() for f in t.fields.values()]
            + [
                Demands(cost=a.cost)
                for t in self.types.values()
                for a in [
                    *(a for f in t.fields.values() for a in f.arguments.values()),
                    *(a for a, _ in t.input_fields.values()),
                ]
                if a.cost is not None
            ]
        )
        if specs:
            links = "".join(f"\n  {DEMAND_SPECS[name][0]}" for name in specs)
            header = header.replace("for: SECURITY)\n{", f"for: SECURITY){links}\n{{", 1)
            header += "".join(f"\n\n{DEMAND_SPECS[name][1]}" for name in specs)
        parts = [header]
        graph_values = "\n".join(
            f"  {self.g(sg.name)} @join__graph(name: {print_string(sg.name)}, "
            f"url: {print_string(sg.url)})"
            for sg in self.subgraphs
        )
        parts.append(f"enum join__Graph {{\n{graph_values}\n}}")
        root_names = list(ROOT_DEFAULT_NAMES.values())
        names = [n for n in root_names if n in self.types] + sorted(
            n for n in self.types if n not in root_names
        )
        for name in names:
            if name in BUILTIN_SCALARS:
                continue
            parts.append(self._print_type(self.types[name]))
        return "\n\n".join(parts) + "\n"

    @staticmethod
    def _description(text: str | None, indent: str) -> str:
        if not text:
            return ""
        if "\n" in text or len(text) > 70:
            block = print_block_string(text).replace("\n", "\n" + indent)
            return f"{indent}{block}\n"
        return f"{indent}{print_string(text)}\n"

    def _print_type(self, t: _Type) -> str:
        head = self._description(t.description, "")
        keyword = {
            "object": "type",
            "interface": "interface",
            "union": "union",
            "enum": "enum",
            "input": "input",
            "scalar": "scalar",
        }[t.kind]
        head += f"{keyword} {t.name}"
        if t.interfaces:
            head += " implements " + " & ".join(t.interfaces)
        directives = [
            f"@join__implements(graph: {g}, interface: {print_string(i)})" for g, i in t.implements
        ]
        directives += [f"@join__type({args})" for args in t.join_types]
        if t.kind == "union":
            directives += [
                f"@join__unionMember(graph: {g}, member: {print_string(m)})"
                for g, members in t.members
                for m in members
            ]
        directives += [f"@context(name: {print_string(c)})" for c in t.contexts]
        if t.inaccessible:
            directives.append("@inaccessible")
        directives += _demand_directives(t.demands)
        head += "".join(f"\n  {d}" for d in directives)
        if t.kind == "scalar":
            return head
        if t.kind == "union":
            members: list[str] = []
            for _, ms in t.members:
                members.extend(m for m in ms if m not in members)
            return f"{head}\n = " + " | ".join(members)
        lines: list[str] = []
        if t.kind in ("object", "interface"):
            for fld in t.fields.values():
                lines.append(self._print_field(fld))
        elif t.kind == "enum":
            for value, (description, inaccessible, deprecation, graphs) in t.values.items():
                text = self._description(description, "  ") + f"  {value}"
                text += "".join(f" @join__enumValue(graph: {g})" for g in graphs)
                if deprecation:
                    text += f" {deprecation}"
                if inaccessible:
                    text += " @inaccessible"
                lines.append(text)
        elif t.kind == "input":
            for arg, inaccessible in t.input_fields.values():
                text = (
                    self._description(arg.description, "  ") + f"  {arg.name}: {type_str(arg.type)}"
                )
                if arg.default is not None:
                    text += f" = {print_ast(arg.default)}"
                if inaccessible:
                    text += " @inaccessible"
                if arg.cost is not None:
                    text += f" @cost(weight: {arg.cost})"
                lines.append(text)
        return head + "\n{\n" + "\n".join(lines) + "\n}"

    def _print_field(self, fld: _Field) -> str:
        text = self._description(fld.description, "  ") + f"  {fld.name}"
        if fld.arguments:
            args = []
            for arg in fld.arguments.values():
                a = f"{arg.name}: {type_str(arg.type)}"
                if arg.default is not None:
                    a += f" = {print_ast(arg.default)}"
                if arg.inaccessible:
                    a += " @inaccessible"
                if arg.cost is not None:
                    a += f" @cost(weight: {arg.cost})"
                args.append(a)
            text += "(" + ", ".join(args) + ")"
        text += f": {type_str(fld.type)}"
        if fld.bare_join:
            text += " @join__field"
        for join in fld.joins or ():
            args = [f"graph: {join.graph}"]
            if join.requires:
                args.append(f"requires: {print_string(join.requires)}")
            if join.provides:
                args.append(f"provides: {print_string(join.provides)}")
            if join.type:
                args.append(f"type: {print_string(join.type)}")
            if join.external:
                args.append("external: true")
            if join.override:
                args.append(f"override: {print_string(join.override)}")
            if join.used_overridden:
                args.append("usedOverridden: true")
            if join.override_label:
                args.append(f"overrideLabel: {print_string(join.override_label)}")
            if join.context_arguments:
                items = ", ".join(
                    f"{{context: {print_string(c)}, name: {print_string(n)}, "
                    f"type: {print_string(t)}, selection: {print_string(sel)}}}"
                    for c, n, t, sel in join.context_arguments
                )
                args.append(f"contextArguments: [{items}]")
            text += f" @join__field({', '.join(args)})"
        if fld.deprecation:
            text += f" {fld.deprecation}"
        if fld.inaccessible:
            text += " @inaccessible"
        text += "".join(f" {d}" for d in _demand_directives(fld.demands))
        return text


def compose(sources: Sequence[SubgraphSource]) -> Composition:
    """Compose ``sources`` into a supergraph, or say why not."""
    return _Composer(sources).compose()
