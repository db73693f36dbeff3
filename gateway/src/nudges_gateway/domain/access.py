"""Access control from the supergraph's ``@authenticated``, ``@requiresScopes`` and ``@policy``
(on fields, object types, interfaces, scalars and enums), enforced before planning as Apollo
Router does: the fields the caller may not see are taken out of the operation (never fetched),
and answered ``null`` with an ``UNAUTHORIZED_FIELD_OR_TYPE`` error at their path.

A field is allowed when the caller meets the requirements of the field (on its parent type,
and on every object type the parent may be) and of the type it returns. A fragment on a type
the caller may not see is taken out with its fields. A field whose sub-selections were all
taken out keeps ``__typename`` only, so that its object is still answered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from nudges_gateway.domain.operation import FieldSel, FragmentSel, Selection, iter_fields

#: The error code and message Apollo Router answers for a field taken out of the operation.
UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
UNAUTHORIZED_MESSAGE = "Unauthorized field or type"
#: The names of built-in policies: ``role:<role>`` holds when the token grants that role.
ROLE_POLICY_PREFIX = "role:"

#: What a selection keeps when access control took out all it asked.
TYPENAME = FieldSel("__typename", "__typename", "", (), (), frozenset())

#: A requirement in disjunctive form: any one group, all of whose names hold.
Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Access:
    """What a type or field requires: authentication, scopes, policies (each ``None`` when
    it requires nothing of that kind)."""

    authenticated: bool = False
    scopes: Alternatives | None = None
    policies: Alternatives | None = None

    def __bool__(self) -> bool:
        return self.authenticated or self.scopes is not None or self.policies is not None

    def allows(self, caller: Caller) -> bool:
        if not self:
            return True
        if not caller.authenticated:
            return False
        if self.scopes is not None and not any(g <= caller.scopes for g in self.scopes):
            return False
        return self.policies is None or any(g <= caller.policies for g in self.policies)

    def policy_names(self) -> set[str]:
        return {name for group in self.policies or () for name in group}


def _all_of(first: Alternatives | None, second: Alternatives | None) -> Alternatives | None:
    if first is None:
        return second
    if second is None:
        return first
    groups = list(dict.fromkeys(a | b for a in first for b in second))
    # A group holding another is implied by it.
    return tuple(g for g in groups if not any(o < g for o in groups))


def all_of(requirements: Iterable[Access]) -> Access:
    """Every requirement at once."""
    merged = Access()
    for access in requirements:
        if access:
            merged = Access(
                merged.authenticated or access.authenticated,
                _all_of(merged.scopes, access.scopes),
                _all_of(merged.policies, access.policies),
            )
    return merged


@dataclass(frozen=True)
class Caller:
    """Who asks, as far as access control is concerned: whether a verified token came, the
    scopes it grants, and the policies that hold for it."""

    authenticated: bool = False
    scopes: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()


ANONYMOUS = Caller()


@dataclass(frozen=True)
class PolicyRule:
    """A named policy: holds when the token's ``claim`` (a dotted path) equals ``equals``,
    or, with ``any_of``, holds one of those values (the claim a value, a list, or a
    space-separated string)."""

    claim: str
    any_of: tuple[Any, ...] = ()
    equals: Any = None

    def holds(self, claims: Mapping[str, Any]) -> bool:
        value: Any = claims
        for part in self.claim.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return False
            value = value[part]
        if self.any_of:
            found = value.split() if isinstance(value, str) else value
            values = found if isinstance(found, list | tuple) else [found]
            return any(v in values for v in self.any_of)
        return bool(value == self.equals)


def caller_of(
    claims: Mapping[str, Any] | None,
    policies_used: Iterable[str],
    rules: Mapping[str, PolicyRule],
    scope_claim: str = "scope",
    roles: Iterable[str] = (),
) -> Caller:
    """The caller whose verified token has ``claims`` (None: anonymous). Of the policies the
    supergraph uses, those holding are the configured rules that hold, and ``role:<role>``
    for the roles the token grants; any other policy name holds for no one."""
    if claims is None:
        return ANONYMOUS
    raw = claims.get(scope_claim) or ()
    scopes = frozenset(raw.split() if isinstance(raw, str) else (str(s) for s in raw))
    granted = {f"{ROLE_POLICY_PREFIX}{r}" for r in roles}
    holding = frozenset(
        name
        for name in policies_used
        if (name in rules and rules[name].holds(claims)) or name in granted
    )
    return Caller(True, scopes, holding)


class AccessRules:
    """What each type and field of a supergraph requires; answers for an operation which of
    its fields a caller may not see."""

    def __init__(
        self,
        types: Mapping[str, Access],
        fields: Mapping[tuple[str, str], Access],
        possible_types: Callable[[str], tuple[str, ...]],
        field_type: Callable[[str, str], str | None],
        list_depth: Callable[[str, str], int] = lambda _parent, _name: 0,
    ) -> None:
        self.types = {name: access for name, access in types.items() if access}
        self.fields = {key: access for key, access in fields.items() if access}
        self._possible = possible_types
        self._field_type = field_type
        self._list_depth = list_depth
        self.policies: frozenset[str] = frozenset(
            name
            for access in (*self.types.values(), *self.fields.values())
            for name in access.policy_names()
        )
        self._field_cache: dict[tuple[str, str], Access] = {}

    def __bool__(self) -> bool:
        return bool(self.types or self.fields)

    def field_access(self, parent: str, name: str) -> Access:
        """What asking ``parent.name`` requires: the field on the parent and on every object
        type the parent may be, and the type it returns."""
        key = (parent, name)
        found = self._field_cache.get(key)
        if found is None:
            parts = [self.fields.get(key, Access())]
            parts += [
                self.fields.get((t, name), Access()) for t in self._possible(parent) if t != parent
            ]
            returned = self._field_type(parent, name)
            if returned is not None:
                parts.append(self.types.get(returned, Access()))
            found = self._field_cache[key] = all_of(parts)
        return found

    def guards(self, root: str, items: tuple[Selection, ...]) -> bool:
        """Whether anything ``items`` select requires access (else no caller is refused)."""
        for item in items:
            if isinstance(item, FragmentSel):
                condition = item.type_condition or root
                if self.types.get(condition) or self.guards(condition, item.items):
                    return True
                continue
            if item.name.startswith("__"):
                continue
            if self.field_access(root, item.name):
                return True
            returned = self._field_type(root, item.name)
            if item.items and returned is not None and self.guards(returned, item.items):
                return True
        return False

    def restrict(
        self, root: str, items: tuple[Selection, ...], caller: Caller
    ) -> tuple[tuple[Selection, ...], frozenset[int], tuple[tuple[str, ...], ...]]:
        """``items`` without what ``caller`` may not see, the ids of the fields taken out
        (those of ``items``, for the response to answer them null), and the paths of those
        fields in the operation (response keys, ``@`` for each list level, as Apollo Router
        reports them: one error each)."""
        removed: dict[int, tuple[str, ...]] = {}
        kept = self._restrict(root, items, caller, removed, ())
        paths = tuple(dict.fromkeys(removed.values()))
        return kept or (TYPENAME,), frozenset(removed), paths

    def _restrict(
        self,
        parent: str,
        items: tuple[Selection, ...],
        caller: Caller,
        removed: dict[int, tuple[str, ...]],
        path: tuple[str, ...],
    ) -> tuple[Selection, ...]:
        kept: list[Selection] = []
        for item in items:
            if isinstance(item, FragmentSel):
                condition = item.type_condition or parent
                if not self.types.get(condition, Access()).allows(caller):
                    for f in iter_fields(item.items):
                        removed[id(f)] = (*path, f.key)
                    continue
                inner = self._restrict(condition, item.items, caller, removed, path)
                if inner:
                    kept.append(item if inner is item.items else replace(item, items=inner))
                continue
            if item.name.startswith("__"):
                kept.append(item)
                continue
            if not self.field_access(parent, item.name).allows(caller):
                removed[id(item)] = (*path, item.key)
                continue
            returned = self._field_type(parent, item.name)
            if not item.items or returned is None:
                kept.append(item)
                continue
            below = (*path, item.key, *("@",) * self._list_depth(parent, item.name))
            inner = self._restrict(returned, item.items, caller, removed, below)
            if not inner:
                inner = (TYPENAME,)
            kept.append(item if inner is item.items else replace(item, items=inner))
        if len(kept) == len(items) and all(a is b for a, b in zip(kept, items, strict=True)):
            return items
        return tuple(kept)
