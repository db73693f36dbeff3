"""A query plan: the subgraph requests of one operation, their order, and the text sent.

Fetches run in stages (one for a query; one per group of consecutive mutation fields, in
order) and, within a stage, by level: the root fetches first, then every entity fetch whose
inputs are there. All the entity fetches of one level that go to the same subgraph travel in
one request (one aliased ``_entities`` field each), so a subgraph sees one request per level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nudges_gateway.domain.operation import Condition, FieldSel, NormalizedOperation

#: A step of a path in the response: the response key, and the object type the values must
#: have to be followed (None: any).
PathStep = tuple[str, str | None]


class OutSelection:
    """A selection set being written for one subgraph; equal fields merge."""

    __slots__ = ("_index", "items")

    def __init__(self) -> None:
        self.items: list[OutField | OutFragment] = []
        self._index: dict[tuple[str, ...], OutField | OutFragment] = {}

    def field(
        self,
        key: str,
        name: str,
        args_text: str = "",
        conditions: tuple[Condition, ...] = (),
        composite: bool = False,
        variables: frozenset[str] = frozenset(),
    ) -> OutField:
        """The field (created on first use)."""
        conds = " ".join(c.text() for c in conditions)
        index = ("f", key, name, args_text, conds)
        found = self._index.get(index)
        if found is None:
            found = OutField(
                key, name, args_text, conditions, OutSelection() if composite else None
            )
            self._index[index] = found
            self.items.append(found)
        assert isinstance(found, OutField)
        found.variables |= variables
        return found

    def fragment(self, type_condition: str) -> OutSelection:
        """The selection of an inline fragment on ``type_condition`` (created on first use)."""
        index = ("t", type_condition)
        found = self._index.get(index)
        if found is None:
            found = OutFragment(type_condition, OutSelection())
            self._index[index] = found
            self.items.append(found)
        assert isinstance(found, OutFragment)
        return found.selection

    def key_taken(self, key: str, name: str, args_text: str) -> bool:
        """Whether ``key`` already answers a different field than ``name(args)``."""
        return any(
            isinstance(item, OutField)
            and item.key == key
            and (item.name != name or item.args_text != args_text)
            for item in self.items
        )

    def included(self, variables: Mapping[str, Any]) -> bool:
        """Whether anything of this selection survives the @skip/@include conditions. A
        selection of ``__typename`` alone (an interface object's real type, asked of the
        subgraph owning the interface) counts; beside other fields it does not."""
        typename = False
        for item in self.items:
            if isinstance(item, OutFragment):
                if item.selection.included(variables):
                    return True
            elif all(c.holds(variables) for c in item.conditions):
                if item.name != "__typename":
                    return True
                typename = True
        return typename and all(
            isinstance(item, OutField) and item.name == "__typename" for item in self.items
        )

    def response_keys(self) -> set[str]:
        """The response keys at this level, through fragments (``__typename`` aside)."""
        keys: set[str] = set()
        for item in self.items:
            if isinstance(item, OutField):
                if item.name != "__typename":
                    keys.add(item.key)
            else:
                keys |= item.selection.response_keys()
        return keys

    def variables(self) -> set[str]:
        found: set[str] = set()
        for item in self.items:
            if isinstance(item, OutField):
                found |= item.variables
                if item.selection is not None:
                    found |= item.selection.variables()
            else:
                found |= item.selection.variables()
        return found

    def text(self) -> str:
        parts: list[str] = []
        for item in self.items:
            parts.append(item.text())
        return "{ " + " ".join(parts) + " }" if parts else "{ __typename }"


@dataclass(slots=True)
class OutField:
    key: str
    name: str
    args_text: str
    conditions: tuple[Condition, ...]
    selection: OutSelection | None
    variables: set[str] = field(default_factory=set)

    def text(self) -> str:
        head = self.name if self.key == self.name else f"{self.key}: {self.name}"
        head += self.args_text
        body = f" {self.selection.text()}" if self.selection is not None else ""
        skips = [c for c in self.conditions if not c.include]
        includes = [c for c in self.conditions if c.include]
        own = [*skips[:1], *includes[:1]]
        text = head + "".join(f" {c.text()}" for c in own) + body
        # @skip and @include cannot repeat on one field: further ones wrap it in fragments.
        for extra in [*skips[1:], *includes[1:]]:
            text = f"... {extra.text()} {{ {text} }}"
        return text


@dataclass(slots=True)
class OutFragment:
    type_condition: str
    selection: OutSelection

    def text(self) -> str:
        return f"... on {self.type_condition} {self.selection.text()}"


@dataclass(frozen=True)
class ContextUse:
    """An argument of a field of an entity fetch that the gateway fills from a context
    (``@fromContext``): the value read from the nearest ancestor carrying the context."""

    field: str  # the field whose argument it fills
    argument: str
    variable: str  # the variable bound to the argument in the subgraph request
    type: str  # the argument's type in the subgraph
    #: How many steps of the fetch's path lead from the root to the ancestor.
    level: int
    #: The context's selection on that ancestor's type: one field per level.
    items: tuple[FieldSel, ...]


@dataclass
class Fetch:
    """One subgraph request of the plan (a root fetch, or ``_entities`` at a path)."""

    id: int
    subgraph: str
    stage: int
    root: bool
    path: tuple[PathStep, ...] = ()
    #: Entity fetches: the ``__typename`` the objects at ``path`` must have.
    type_filter: str | None = None
    #: Entity fetches: the ``__typename`` sent in the representations.
    representation_typename: str | None = None
    #: Entity fetches: the fields that make a representation (key and ``@requires``).
    representation: tuple[FieldSel, ...] = ()
    #: How many fields of ``representation`` belong to the key (they must not be null).
    key_fields: int = 0
    selection: OutSelection = field(default_factory=OutSelection)
    deps: set[int] = field(default_factory=set)
    level: int = 0
    #: Entity fetches: the arguments filled from contexts (a fetch of its own request).
    context_uses: list[ContextUse] = field(default_factory=list)


@dataclass
class EntityCall:
    """One ``_entities`` field of a request: fetches that share its representations."""

    alias: str
    fetches: list[Fetch]


@dataclass
class Batch:
    """The fetches one request to one subgraph carries, and its text."""

    subgraph: str
    fetches: list[Fetch]
    query: str
    variables: tuple[str, ...]  # the client's variables this request uses
    calls: list[EntityCall] = field(default_factory=list)
    #: A request with context arguments is written when it is sent, with one ``_entities``
    #: per set of context values: the operation's name and the client's variable definitions.
    contextual: tuple[str, str] | None = None


@dataclass
class Stage:
    """Root requests, then entity requests level by level."""

    roots: list[Batch]
    levels: list[list[Batch]]


@dataclass
class Plan:
    """How to execute one operation over the subgraphs."""

    operation: NormalizedOperation
    kind: Literal["query", "mutation", "subscription"]
    root_type: str
    stages: list[Stage]
    fetches: dict[int, Fetch]
    #: Root fields the gateway answers itself: ``__schema``/``__type`` from the API schema.
    introspection: bool = False

    def describe(self) -> list[dict[str, object]]:
        """The plan as data (stage, level, subgraph, query text), for tests and debugging."""
        out: list[dict[str, object]] = []
        for number, stage in enumerate(self.stages):
            for batch in stage.roots:
                out.append(
                    {"stage": number, "level": 0, "subgraph": batch.subgraph, "query": batch.query}
                )
            for level, batches in enumerate(stage.levels, start=1):
                for batch in batches:
                    out.append(
                        {
                            "stage": number,
                            "level": level,
                            "subgraph": batch.subgraph,
                            "query": batch.query,
                        }
                    )
        return out
