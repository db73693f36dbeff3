"""The query planner: which subgraph answers each field, and the entity fetches that join
them (see :mod:`nudges_gateway.domain.plan` for how a plan runs).

Walking the operation from the root, a field goes to the subgraph already answering its
parent when that subgraph can resolve it (its own field, or one an ``@provides`` on the way
makes available); otherwise the field waits for an ``_entities`` fetch at that path from a
subgraph that can resolve it, chosen to cover as many waiting fields as possible. The parent
subgraph then also selects what the representation needs: ``__typename``, the fields of a key
the target subgraph resolves, and what the target's ``@requires`` names (fetched first from
yet other subgraphs when the parent cannot provide it). Abstract types are expanded per
possible object type the answering subgraph knows; an ``@interfaceObject`` subgraph's object
is resolved to its real type by the subgraph that owns the interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graphql import FieldNode, GraphQLSyntaxError, InlineFragmentNode, SelectionSetNode, parse

from nudges_gateway.domain.operation import (
    FieldSel,
    FragmentSel,
    NormalizedOperation,
    Selection,
    args_text,
    normalize,
)
from nudges_gateway.domain.plan import (
    Batch,
    ContextUse,
    EntityCall,
    Fetch,
    OutSelection,
    PathStep,
    Plan,
    Stage,
)
from nudges_gateway.domain.supergraph import Supergraph

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
TYPENAME = FieldSel("__typename", "__typename", "", (), (), frozenset())
#: How deep ``@requires`` and key chains may recurse before the plan is declared impossible.
MAX_CHAIN = 16

Provided = dict[str, "Provided"]
#: Prefix of a provided tree's entries that hold for one type only ("... on Book").
FRAGMENT = "... on "


class PlanningError(Exception):
    """The operation cannot be planned over this supergraph."""


def _field_set(text: str) -> tuple[Selection, ...]:
    try:
        document = parse("{" + text + "}", no_location=True)
    except GraphQLSyntaxError as exc:
        raise PlanningError(f"invalid field set {text!r}: {exc.message}") from None
    selection = document.definitions[0].selection_set  # type: ignore[attr-defined]
    return normalize(selection, {})


def _provided_tree(text: str) -> Provided:
    def walk(selection: SelectionSetNode) -> Provided:
        tree: Provided = {}
        for item in selection.selections:
            if isinstance(item, FieldNode):
                tree[item.name.value] = walk(item.selection_set) if item.selection_set else {}
            elif isinstance(item, InlineFragmentNode):
                # "... on Book { title }" provides Book's title only, not its siblings'.
                if item.type_condition is None:
                    tree.update(walk(item.selection_set))
                else:
                    scoped = tree.setdefault(FRAGMENT + item.type_condition.name.value, {})
                    scoped.update(walk(item.selection_set))
        return tree

    document = parse("{" + text + "}", no_location=True)
    return walk(document.definitions[0].selection_set)  # type: ignore[attr-defined]


def _with_items(fsel: FieldSel, items: tuple[Selection, ...]) -> FieldSel:
    """``fsel`` with another selection beneath it."""
    return FieldSel(
        fsel.key,
        fsel.name,
        fsel.args_text,
        fsel.conditions,
        items,
        fsel.variables,
        fsel.arguments,
        fsel.stream,
    )


def _deferred_root_fields(items: tuple[Selection, ...]) -> frozenset[int]:
    """The ids of the root fields of ``items`` selected within a deferred fragment."""
    found: set[int] = set()

    def walk(selections: tuple[Selection, ...], deferred: bool) -> None:
        for item in selections:
            if isinstance(item, FragmentSel):
                walk(item.items, deferred or item.defer is not None)
            elif deferred:
                found.add(id(item))

    walk(items, False)
    return frozenset(found)


@dataclass(frozen=True)
class _Frame:
    """An object being selected: its type, subgraph, selection, path and fetch."""

    type: str
    graph: str
    out: OutSelection
    path: tuple[PathStep, ...]
    provided: Provided | None
    fetch: Fetch


def _context_selection(text: str) -> str:
    """A context's selection as a field set (``" { a }"`` is ``"a"``)."""
    text = text.strip()
    return text[1:-1] if text.startswith("{") and text.endswith("}") else text


def _with_context_arguments(args: str, uses: list[ContextUse]) -> str:
    """The arguments of a field, with those the gateway fills from contexts."""
    added = ", ".join(f"{u.argument}: ${u.variable}" for u in uses)
    return f"{args[:-1]}, {added})" if args else f"({added})"


class _Builder:
    def __init__(self, supergraph: Supergraph, operation: NormalizedOperation) -> None:
        self.sg = supergraph
        self.op = operation
        self.fetches: list[Fetch] = []
        #: Ids of the fetches planned or extended, in order (what a representation waits on).
        self.touched: list[int] = []
        self.stage = 0
        self.chain = 0
        self._field_sets: dict[str, tuple[Selection, ...]] = {}
        #: The objects being selected, outermost first: what a context is read from.
        self.frames: list[_Frame] = []

    # --- helpers ---------------------------------------------------------------------------

    def field_set(self, text: str) -> tuple[Selection, ...]:
        if text not in self._field_sets:
            self._field_sets[text] = _field_set(text)
        return self._field_sets[text]

    def field_type(self, parent: str, name: str) -> str:
        graphql_type = self.sg.schema.get_type(parent)
        fields = getattr(graphql_type, "fields", None)
        if not fields or name not in fields:
            raise PlanningError(f'type "{parent}" has no field "{name}"')
        of = fields[name].type
        while hasattr(of, "of_type"):
            of = of.of_type
        return str(of.name)

    def can_resolve(self, graph: str, parent: str, name: str, provided: Provided | None) -> bool:
        info = self.sg.types[parent].fields.get(name)
        if info is None:
            return False
        if graph in info.resolvers:
            return True
        return provided is not None and name in provided

    def provided_on(self, provided: Provided, runtime: str) -> Provided:
        """What ``provided`` makes available on an object of type ``runtime``."""
        if not any(name.startswith(FRAGMENT) for name in provided):
            return provided
        result: Provided = {k: v for k, v in provided.items() if not k.startswith(FRAGMENT)}
        for name, tree in provided.items():
            if name.startswith(FRAGMENT) and self.sg.applies(name[len(FRAGMENT) :], runtime):
                result.update(tree)
        return result

    def flatten(self, items: Iterable[Selection], runtime: str) -> list[FieldSel]:
        """The fields of ``items`` that apply to an object of type ``runtime``."""
        found: list[FieldSel] = []
        for item in items:
            if isinstance(item, FieldSel):
                found.append(item)
            elif item.type_condition is None or self.sg.applies(item.type_condition, runtime):
                found.extend(self.flatten(item.items, runtime))
        return found

    def new_fetch(self, subgraph: str, root: bool, **kwargs: object) -> Fetch:
        fetch = Fetch(len(self.fetches), subgraph, self.stage, root, **kwargs)  # type: ignore[arg-type]
        self.fetches.append(fetch)
        self.touched.append(fetch.id)
        return fetch

    # --- selections ------------------------------------------------------------------------

    def select(
        self,
        graph: str,
        parent: str,
        items: Iterable[Selection],
        path: tuple[PathStep, ...],
        out: OutSelection,
        provided: Provided | None,
        fetch: Fetch,
        satisfied: frozenset[str] = frozenset(),
    ) -> None:
        """Write into ``out`` what ``graph`` answers of ``items`` on ``parent`` at ``path``,
        and plan entity fetches (depending on ``fetch``) for the rest. ``satisfied``: fields
        whose ``@requires`` the representation of this entity fetch already carries."""
        info = self.sg.types[parent]
        if info.kind in ("interface", "union") and graph not in info.interface_object_in:
            self.select_abstract(graph, parent, list(items), path, out, provided, fetch)
            return
        if provided:
            provided = self.provided_on(provided, parent)
        interface_object = info.kind == "interface"
        pending: list[FieldSel] = []
        #: Fields this subgraph resolves only with what their @requires names: asked of it
        #: again through an entity fetch that carries those fields.
        requiring: list[FieldSel] = []
        needs_owner: list[Selection] = []
        for item in items:
            if interface_object and isinstance(item, FragmentSel):
                if item.type_condition in (None, parent):
                    self.select(graph, parent, item.items, path, out, provided, fetch)
                else:
                    needs_owner.append(item)
                continue
            for fsel in [item] if isinstance(item, FieldSel) else self.flatten([item], parent):
                if fsel.name == "__typename":
                    # The client's __typename of an @interfaceObject is the real type, which
                    # only the owner of the interface knows; a representation's is the
                    # interface's own.
                    if interface_object and fsel is not TYPENAME:
                        needs_owner.append(fsel)
                    else:
                        out.field(
                            fsel.key, "__typename", "", fsel.conditions
                        ).variables |= fsel.variables
                    continue
                if not self.can_resolve(graph, parent, fsel.name, provided):
                    pending.append(fsel)
                    continue
                field_info = info.fields.get(fsel.name)
                if (
                    fsel.name not in satisfied
                    and field_info is not None
                    and (field_info.requires.get(graph) or field_info.context_arguments.get(graph))
                    and not (provided and fsel.name in provided)
                ):
                    requiring.append(fsel)
                    continue
                child_type = self.field_type(parent, fsel.name)
                composite = self.sg.is_composite(child_type)
                if composite and fsel.items and info.keys and fsel.name not in (provided or {}):
                    # What this subgraph cannot reach below an entity field (a value type's
                    # field only another subgraph resolves, with no key of its own) is asked
                    # of that subgraph through this entity's key: a parent entity call.
                    here, elsewhere = self.split_unreachable(graph, child_type, fsel.items)
                    if elsewhere and self.sources(parent, fsel.name, graph):
                        pending.append(_with_items(fsel, elsewhere))
                        fsel = _with_items(fsel, here or (TYPENAME,))
                args = fsel.args_text
                if field_info is not None and field_info.context_arguments.get(graph):
                    uses = [u for u in fetch.context_uses if u.field == fsel.name]
                    if uses:
                        args = _with_context_arguments(args, uses)
                target = out.field(fsel.key, fsel.name, args, fsel.conditions, composite)
                target.variables |= fsel.variables
                if composite and target.selection is not None:
                    if provided is not None and fsel.name in provided:
                        child_provided: Provided | None = provided[fsel.name]
                    else:
                        text = self.sg.types[parent].fields[fsel.name].provides.get(graph)
                        child_provided = _provided_tree(text) if text else None
                    self.frames.append(_Frame(parent, graph, out, path, provided, fetch))
                    try:
                        self.select(
                            graph,
                            child_type,
                            fsel.items,
                            (*path, (fsel.key, None)),
                            target.selection,
                            child_provided,
                            fetch,
                        )
                    finally:
                        self.frames.pop()
        if pending:
            self.entity_fetches(graph, parent, pending, path, out, provided, fetch)
        if requiring:
            self.entity_fetches(graph, parent, requiring, path, out, provided, fetch, True)
        if needs_owner:
            self.owner_fetch(graph, parent, needs_owner, path, out, provided, fetch)

    def select_abstract(
        self,
        graph: str,
        parent: str,
        items: list[Selection],
        path: tuple[PathStep, ...],
        out: OutSelection,
        provided: Provided | None,
        fetch: Fetch,
    ) -> None:
        out.field("__typename", "__typename")
        for runtime in self.sg.possible_types_in(graph, parent):
            # __typename is selected once above, for every possible type
            fields = [
                f for f in self.flatten(items, runtime) if f.key != "__typename" or f.conditions
            ]
            if not fields:
                continue
            typed_path = (*path[:-1], (path[-1][0], runtime)) if path else path
            self.select(graph, runtime, fields, typed_path, out.fragment(runtime), provided, fetch)

    def sources(self, parent: str, name: str, exclude: str) -> list[tuple[str, str | None]]:
        """Subgraphs that resolve ``parent.name``, with the interface to go through when only
        an ``@interfaceObject`` resolves it."""
        info = self.sg.types[parent].fields.get(name)
        if info is None:
            raise PlanningError(f'type "{parent}" has no field "{name}"')
        direct = [(g, None) for g in info.resolvers if g != exclude]
        if direct or info.resolvers:
            return direct  # type: ignore[return-value]
        via: list[tuple[str, str | None]] = []
        for interface in self.sg.types[parent].interfaces:
            iface = self.sg.types.get(interface)
            ifield = iface.fields.get(name) if iface else None
            if iface is None or ifield is None:
                continue
            via.extend(
                (g, interface)
                for g in ifield.resolvers
                if g in iface.interface_object_in and g != exclude
            )
        return via

    def key_available(
        self, target: str, entity: str, graph: str, parent: str, provided: Provided | None
    ) -> bool:
        """Whether ``graph`` can give every field of some key ``target`` resolves."""
        return any(
            all(
                self.can_resolve(graph, parent, f.name, provided)
                for f in self.flatten(self.field_set(text), parent)
                if f.name != "__typename"
            )
            for text in self.sg.key_of(target, entity)
        )

    def choose_key(
        self, target: str, entity: str, graph: str, parent: str, provided: Provided | None
    ) -> tuple[Selection, ...] | None:
        """A key of ``entity`` that ``target`` resolves and ``graph`` can give on ``parent``."""
        keys = self.sg.key_of(target, entity)
        for text in keys:
            fields = self.field_set(text)
            if all(
                self.can_resolve(graph, parent, f.name, provided)
                for f in self.flatten(fields, parent)
                if f.name != "__typename"
            ):
                return fields
        # No key is directly available: take the first; the missing key fields are fetched
        # from other subgraphs first (bounded by MAX_CHAIN).
        return self.field_set(keys[0]) if keys else None

    def representation_in(
        self, out: OutSelection, fields: Iterable[Selection], parent: str
    ) -> tuple[FieldSel, ...]:
        """The representation fields, renamed where the client's aliases took their keys."""
        result: list[FieldSel] = [TYPENAME]
        for fsel in self.flatten(fields, parent):
            if fsel.name == "__typename":
                continue
            if out.key_taken(fsel.name, fsel.name, fsel.args_text):
                fsel = fsel.with_key(f"_gw_{fsel.name}")
            result.append(fsel)
        return tuple(result)

    def entity_fetches(
        self,
        graph: str,
        parent: str,
        pending: list[FieldSel],
        path: tuple[PathStep, ...],
        out: OutSelection,
        provided: Provided | None,
        fetch: Fetch,
        same_graph: bool = False,
    ) -> None:
        """Entity fetches for ``pending`` fields: from other subgraphs, or with ``same_graph``
        from this one again (fields whose @requires must be fetched first)."""
        self.chain += 1
        if self.chain > MAX_CHAIN:
            raise PlanningError(f'cannot plan "{parent}" fields: keys and @requires form a cycle')
        groups: list[tuple[str, str | None, list[FieldSel]]] = []
        remaining = list(pending)
        while remaining:
            cover: dict[tuple[str, str | None], list[FieldSel]] = {}
            for fsel in remaining:
                options = [(graph, None)] if same_graph else self.sources(parent, fsel.name, graph)
                if not options:
                    raise PlanningError(
                        f'field "{parent}.{fsel.name}" cannot be resolved from subgraph '
                        f'"{graph}": no other subgraph resolves it'
                    )
                for option in options:
                    cover.setdefault(option, []).append(fsel)
            # Prefer a subgraph whose key this one can give (no detour for key fields), then
            # the one answering the most fields, then the first declared.
            best = max(
                cover,
                key=lambda o: (
                    self.key_available(o[0], o[1] or parent, graph, parent, provided),
                    len(cover[o]),
                    -self.sg.graph_order.get(o[0], 0),
                ),
            )
            groups.append((best[0], best[1], cover[best]))
            chosen = {id(f) for f in cover[best]}
            remaining = [f for f in remaining if id(f) not in chosen]
        for target, via, fields in groups:
            entity = via or parent
            key = self.choose_key(target, entity, graph, parent, provided)
            if key is None:
                raise PlanningError(
                    f'field "{parent}.{fields[0].name}" is resolved by subgraph "{target}", '
                    f'where "{entity}" has no resolvable @key'
                )
            requires: list[Selection] = []
            entity_fields = self.sg.types[entity].fields
            for fsel in fields:
                finfo = entity_fields.get(fsel.name) or self.sg.types[parent].fields[fsel.name]
                text = finfo.requires.get(target)
                if text:
                    requires.extend(self.field_set(text))
            key_repr = self.representation_in(out, key, parent)
            representation = (*key_repr, *self.representation_in(out, requires, parent)[1:])
            before = len(self.touched)
            self.select(graph, parent, representation, path, out, provided, fetch)
            here = _Frame(parent, graph, out, path, provided, fetch)
            uses = self.context_uses(target, parent, fields, here)
            deps = {fetch.id} | set(self.touched[before:])
            merged = self.mergeable(target, path, parent, entity, representation, deps)
            if merged is not None and (uses or merged.context_uses):
                merged = None  # a contextual fetch is a request of its own
            if merged is not None:
                self.touched.append(merged.id)
                self.select(
                    target,
                    entity,
                    fields,
                    path,
                    merged.selection.fragment(entity),
                    None,
                    merged,
                    frozenset(f.name for f in fields),
                )
                continue
            entity_fetch = self.new_fetch(
                target,
                False,
                path=path,
                type_filter=parent,
                representation_typename=entity,
                representation=representation,
                key_fields=len(key_repr),
                deps=deps,
            )
            entity_fetch.context_uses = [
                ContextUse(
                    u.field,
                    u.argument,
                    f"__ctx_{entity_fetch.id}_{n}",
                    u.type,
                    u.level,
                    u.items,
                )
                for n, u in enumerate(uses)
            ]
            self.select(
                target,
                entity,
                fields,
                path,
                entity_fetch.selection.fragment(entity),
                None,
                entity_fetch,
                frozenset(f.name for f in fields),
            )
        self.chain -= 1

    def context_uses(
        self, target: str, parent: str, fields: list[FieldSel], here: _Frame
    ) -> list[ContextUse]:
        """The context arguments of ``fields`` when ``target`` resolves them: each read from
        the nearest object on the way (``parent``'s included) carrying its context, whose
        selection asks that object's subgraph for what the context selects."""
        uses: list[ContextUse] = []
        for fsel in fields:
            info = self.sg.types[parent].fields.get(fsel.name)
            arguments = info.context_arguments.get(target, ()) if info is not None else ()
            for argument in arguments:
                frame = next(
                    (
                        f
                        for f in (here, *reversed(self.frames))
                        if self.sg.carries(f.type, argument.context)
                    ),
                    None,
                )
                if frame is None:
                    raise PlanningError(
                        f'no object above "{parent}.{fsel.name}" sets the context '
                        f'"{argument.context}" its argument "{argument.name}" is read from'
                    )
                # Under a key of its own: a client's alias cannot collide with it.
                selection = self.field_set(_context_selection(argument.selection))
                items = tuple(
                    f.with_key(f"_ctx_{f.name}") for f in self.flatten(selection, frame.type)
                )
                self.select(
                    frame.graph,
                    frame.type,
                    items,
                    frame.path,
                    frame.out,
                    frame.provided,
                    frame.fetch,
                )
                uses.append(
                    ContextUse(fsel.name, argument.name, "", argument.type, len(frame.path), items)
                )
        return uses

    def mergeable(
        self,
        target: str,
        path: tuple[PathStep, ...],
        parent: str,
        entity: str,
        representation: tuple[FieldSel, ...],
        deps: set[int],
    ) -> Fetch | None:
        """An entity fetch already planned that the same representations would go to."""
        for fetch in self.fetches:
            if (
                not fetch.root
                and fetch.stage == self.stage
                and fetch.subgraph == target
                and fetch.path == path
                and fetch.type_filter == parent
                and fetch.representation_typename == entity
                and fetch.representation == representation
                and fetch.deps == deps
            ):
                return fetch
        return None

    def owner_fetch(
        self,
        graph: str,
        interface: str,
        items: list[Selection],
        path: tuple[PathStep, ...],
        out: OutSelection,
        provided: Provided | None,
        fetch: Fetch,
    ) -> None:
        """Resolve an ``@interfaceObject``'s real type (and what needs it) in the subgraph
        that owns the interface."""
        info = self.sg.types[interface]
        owners = [g for g in info.graphs if g not in info.interface_object_in and info.keys.get(g)]
        if not owners:
            raise PlanningError(
                f'"{interface}" from subgraph "{graph}" is an @interfaceObject, and no subgraph '
                "owns the interface with a resolvable @key"
            )
        owner = owners[0]
        key = self.choose_key(owner, interface, graph, interface, provided)
        assert key is not None
        representation = self.representation_in(out, key, interface)
        self.select(graph, interface, representation, path, out, provided, fetch)
        entity_fetch = self.new_fetch(
            owner,
            False,
            path=path,
            type_filter=interface,
            representation_typename=interface,
            representation=representation,
            key_fields=len(representation),
            deps={fetch.id},
        )
        self.select_abstract(
            owner, interface, items, path, entity_fetch.selection, None, entity_fetch
        )

    # --- the plan --------------------------------------------------------------------------

    def split_unreachable(
        self, graph: str, parent: str, items: tuple[Selection, ...], depth: int = 0
    ) -> tuple[tuple[Selection, ...], tuple[Selection, ...]]:
        """``items`` on ``parent`` split into what ``graph`` reaches (itself or through an
        entity fetch on the way) and what it cannot: fields only other subgraphs resolve on a
        type without a key there."""
        info = self.sg.types[parent]
        if info.kind != "object" or depth > MAX_CHAIN:
            return items, ()
        here: list[Selection] = []
        elsewhere: list[Selection] = []
        for item in items:
            if isinstance(item, FragmentSel):
                if item.type_condition is not None and not self.sg.applies(
                    item.type_condition, parent
                ):
                    here.append(item)
                    continue
                mine, theirs = self.split_unreachable(graph, parent, item.items, depth + 1)
                if mine:
                    here.append(FragmentSel(item.type_condition, mine))
                if theirs:
                    elsewhere.append(FragmentSel(item.type_condition, theirs))
                continue
            field_info = info.fields.get(item.name)
            if item.name == "__typename" or field_info is None:
                here.append(item)
                continue
            if graph not in field_info.resolvers:
                sources = self.sources(parent, item.name, graph)
                keyed = any(self.sg.key_of(g, via or parent) for g, via in sources)
                (here if keyed else elsewhere).append(item)
                continue
            child = self.field_type(parent, item.name)
            if not item.items or not self.sg.is_composite(child):
                here.append(item)
                continue
            mine, theirs = self.split_unreachable(graph, child, item.items, depth + 1)
            if theirs:
                elsewhere.append(_with_items(item, theirs))
                here.append(_with_items(item, mine or (TYPENAME,)))
            else:
                here.append(item)
        return tuple(here), tuple(elsewhere)

    def trial_cost(self, subgraph: str, root: str, fsel: FieldSel) -> float:
        """How many fetches answering ``fsel`` from ``subgraph`` takes (inf: impossible)."""
        trial = _Builder(self.sg, self.op)
        fetch = trial.new_fetch(subgraph, True)
        try:
            trial.select(subgraph, root, [fsel], (), fetch.selection, None, fetch)
        except PlanningError:
            return float("inf")
        return float(len(trial.fetches))

    def shared_root_parts(
        self,
        root: str,
        fsel: FieldSel,
        resolvers: Sequence[str],
        owners: dict[str, list[FieldSel]],
    ) -> list[tuple[str, FieldSel]]:
        """Where a root field several subgraphs resolve is asked: the subgraph answering it
        in the fewest fetches (one already asked first, then the first declared); when no
        single one can, its selection split between them, each asked for the part it answers
        (the answers merge under the same response key)."""

        def best(candidate: FieldSel) -> tuple[float, str]:
            costs = [
                (self.trial_cost(g, root, candidate), g not in owners, i, g)
                for i, g in enumerate(resolvers)
            ]
            cost, _, _, chosen = min(costs)
            return cost, chosen

        cost, chosen = best(fsel)
        if cost != float("inf") or not fsel.items:
            return [(chosen, fsel)]
        parts: dict[str, list[Selection]] = {}
        for item in fsel.items:
            single = FieldSel(
                fsel.key,
                fsel.name,
                fsel.args_text,
                fsel.conditions,
                (item,),
                fsel.variables,
                fsel.arguments,
            )
            cost, chosen = best(single)
            if cost == float("inf"):
                raise PlanningError(
                    f'no subgraph resolving "{root}.{fsel.name}" can answer a part of it'
                )
            parts.setdefault(chosen, []).append(item)
        return [
            (
                subgraph,
                FieldSel(
                    fsel.key,
                    fsel.name,
                    fsel.args_text,
                    fsel.conditions,
                    tuple(items),
                    fsel.variables,
                    fsel.arguments,
                ),
            )
            for subgraph, items in parts.items()
        ]

    def root_fetches(
        self, root: str, fields: list[FieldSel], deferred: frozenset[int] = frozenset()
    ) -> None:
        owners: dict[str, list[FieldSel]] = {}
        order: list[str] = []
        serial = self.op.kind == "mutation"
        for fsel in fields:
            info = self.sg.types[root].fields.get(fsel.name)
            if info is None or not info.resolvers:
                raise PlanningError(f'no subgraph resolves "{root}.{fsel.name}"')
            if serial:
                owner = info.resolvers[0]
                if order and order[-1] == owner:
                    owners[f"{owner}#{len(order) - 1}"].append(fsel)
                else:
                    owners[f"{owner}#{len(order)}"] = [fsel]
                    order.append(owner)
                continue
            # A root field only a deferred fragment asks for is asked in a request of its
            # own: the initial part of an incremental answer does not wait for it.
            apart = "#deferred" if id(fsel) in deferred else ""
            if len(info.resolvers) == 1:
                owners.setdefault(info.resolvers[0] + apart, []).append(fsel)
                continue
            for subgraph, part in self.shared_root_parts(root, fsel, info.resolvers, owners):
                owners.setdefault(subgraph + apart, []).append(part)
        for label, group in owners.items():
            subgraph = label.split("#", 1)[0]
            fetch = self.new_fetch(subgraph, True)
            self.select(subgraph, root, group, (), fetch.selection, None, fetch)
            if serial:
                self.stage += 1

    def plan(self) -> Plan:
        kind = self.op.kind
        root = self.sg.root_types.get(kind)
        if root is None or root not in self.sg.types:
            raise PlanningError(f"this graph has no {kind} type")
        fields = self.flatten(self.op.items, root)
        introspection = any(f.name in INTROSPECTION_FIELDS for f in fields)
        remote = [
            f for f in fields if f.name not in INTROSPECTION_FIELDS and f.name != "__typename"
        ]
        deferred = _deferred_root_fields(self.op.items) if kind == "query" else frozenset()
        self.root_fetches(root, remote, deferred)
        fetches = {f.id: f for f in self.fetches}
        stages = self.stages(fetches)
        return Plan(self.op, kind, root, stages, fetches, introspection)  # type: ignore[arg-type]

    def stages(self, fetches: dict[int, Fetch]) -> list[Stage]:
        for fetch in self.fetches:
            fetch.level = 0 if fetch.root else 1 + max(fetches[d].level for d in fetch.deps)
        by_stage: dict[int, list[Fetch]] = {}
        for fetch in self.fetches:
            by_stage.setdefault(fetch.stage, []).append(fetch)
        stages: list[Stage] = []
        for number in sorted(by_stage):
            members = by_stage[number]
            roots = [self.root_batch(f) for f in members if f.root]
            depth = max((f.level for f in members), default=0)
            levels: list[list[Batch]] = []
            for level in range(1, depth + 1):
                per_graph: dict[str, list[Fetch]] = {}
                for fetch in members:
                    if fetch.level == level:
                        label = f"{fetch.subgraph}#{fetch.id}" if fetch.context_uses else ""
                        per_graph.setdefault(label or fetch.subgraph, []).append(fetch)
                levels.append(
                    [self.entity_batch(g.split("#", 1)[0], fs) for g, fs in per_graph.items()]
                )
            stages.append(Stage(roots, levels))
        return stages

    def variable_definitions(self, names: Iterable[str]) -> str:
        known = self.op.variable_definitions_text
        defs = [known[n] for n in sorted(names) if n in known]
        return "(" + ", ".join(defs) + ")" if defs else ""

    def root_batch(self, fetch: Fetch) -> Batch:
        variables = fetch.selection.variables()
        name = f" {self.op.name}__{fetch.subgraph}__{fetch.id}" if self.op.name else ""
        name = name.replace("-", "_")
        query = (
            f"{self.op.kind}{name}{self.variable_definitions(variables)} {fetch.selection.text()}"
        )
        return Batch(fetch.subgraph, [fetch], query, tuple(sorted(variables)))

    def entity_batch(self, subgraph: str, fetches: list[Fetch]) -> Batch:
        # Fetches of the same representations share one _entities field (each representation
        # sent once) when their selections cannot collide (no response key in common).
        calls: list[tuple[EntityCall, set[str], list[str]]] = []
        for fetch in fetches:
            keys = fetch.selection.response_keys()
            text = fetch.selection.text()[2:-2]
            for call, taken, texts in calls:
                first = call.fetches[0]
                if (
                    first.representation_typename == fetch.representation_typename
                    and first.representation == fetch.representation
                    and (text in texts or not (taken & keys))
                ):
                    call.fetches.append(fetch)
                    taken |= keys
                    if text not in texts:
                        texts.append(text)
                    break
            else:
                calls.append((EntityCall(f"_e{fetch.id}", [fetch]), set(keys), [text]))
        variables: set[str] = set()
        body: list[str] = []
        for call, _, texts in calls:
            selection = " ".join(texts)
            for fetch in call.fetches:
                variables |= fetch.selection.variables()
            body.append(
                f"{call.alias}: _entities(representations: $r{call.alias[2:]}) {{ {selection} }}"
            )
        own = self.variable_definitions(variables)
        reps = ", ".join(f"$r{call.alias[2:]}: [_Any!]!" for call, _, _ in calls)
        defs = f"({reps}, {own[1:-1]})" if own else f"({reps})"
        name = (
            f" {self.op.name}__{subgraph}__{fetches[0].id}".replace("-", "_")
            if self.op.name
            else ""
        )
        return Batch(
            subgraph,
            fetches,
            f"query{name}{defs} {{ {' '.join(body)} }}",
            tuple(sorted(variables)),
            [call for call, _, _ in calls],
            (name, own[1:-1]) if fetches[0].context_uses else None,
        )


def build_plan(supergraph: Supergraph, operation: NormalizedOperation) -> Plan:
    """Plan ``operation`` over ``supergraph`` (raises :class:`PlanningError`)."""
    return _Builder(supergraph, operation).plan()


__all__ = ["PlanningError", "args_text", "build_plan"]
