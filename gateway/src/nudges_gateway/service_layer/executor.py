"""Runs a plan: root requests, then entity requests level by level (one request per
subgraph per level), merging every answer into one tree."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any

import orjson

from nudges_gateway.adapters.subgraph_http import SubgraphError
from nudges_gateway.domain.plan import Batch, Fetch, Plan
from nudges_gateway.domain.results import (
    FAILED,
    Json,
    context_value,
    merge_into,
    objects_at,
    objects_with_ancestors,
    relocate_errors,
    representations,
    root_errors,
)
from nudges_gateway.domain.supergraph import Supergraph

#: A context argument's variable in the text of a fetch (numbered per request when sent).
_CONTEXT_VARIABLE = re.compile(r"\$(__ctx_\d+_\d+)\b")
#: (subgraph, url, query, variables, headers) -> the subgraph's JSON answer.
Fetcher = Callable[[str, str, str, Mapping[str, Any], Mapping[str, str]], Awaitable[Json]]


def _failure(error: SubgraphError) -> Json:
    return {
        "message": str(error),
        "extensions": {"code": error.code, "serviceName": error.subgraph},
    }


async def _all(requests: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run ``requests`` concurrently: the first in this task, each other in a task of its own
    (all cancelled when one fails or this task is cancelled), without gather's bookkeeping."""
    pending = list(requests)
    if not pending:
        return
    others = [asyncio.ensure_future(request) for request in pending[1:]]
    try:
        await pending[0]
        for other in others:
            await other
    except BaseException:
        for other in others:
            other.cancel()
        raise


class PlanExecution:
    """One execution of a plan, accumulating data and errors."""

    def __init__(
        self,
        plan: Plan,
        supergraph: Supergraph,
        variables: Mapping[str, Any],
        fetch: Fetcher,
        headers: Mapping[str, str],
        coerced: Mapping[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.sg = supergraph
        self.variables = variables
        #: Variable values with defaults applied, for @skip/@include.
        self.coerced = coerced if coerced is not None else variables
        self.fetch = fetch
        self.headers = headers
        self.data: Json = {}
        self.errors: list[Json] = []
        #: The requests (ids of batches) :meth:`watch` waits for, and the event it sets.
        self._awaited: set[int] = set()
        self._answered = asyncio.Event()

    def watch(self, requests: frozenset[int]) -> asyncio.Event:
        """An event set once the requests ``requests`` (ids of batches of the plan) are
        done, whether answered, failed or not needed."""
        self._awaited = set(requests)
        if not self._awaited:
            self._answered.set()
        return self._answered

    def _done(self, batch: Batch) -> None:
        if self._awaited:
            self._awaited.discard(id(batch))
            if not self._awaited:
                self._answered.set()

    def _variables(self, batch: Batch) -> dict[str, Any]:
        return {name: self.variables[name] for name in batch.variables if name in self.variables}

    async def run(self, root_data: Json | None = None) -> None:
        """Execute every stage; with ``root_data`` (a subscription event) the root requests
        are skipped and the entity requests run on that data."""
        if root_data is not None:
            self.data = root_data
        for stage in self.plan.stages:
            if root_data is None:
                await _all(self._root(batch) for batch in stage.roots)
            for level in stage.levels:
                await _all(self._entities(batch) for batch in level)

    async def _root(self, batch: Batch) -> None:
        try:
            await self._answer_root(batch)
        finally:
            self._done(batch)

    async def _entities(self, batch: Batch) -> None:
        try:
            await self._answer_entities(batch)
        finally:
            self._done(batch)

    async def _answer_root(self, batch: Batch) -> None:
        url = self.sg.graphs[batch.subgraph].url
        try:
            answer = await self.fetch(
                batch.subgraph, url, batch.query, self._variables(batch), self.headers
            )
        except SubgraphError as exc:
            self.data[FAILED] = _failure(exc)
            return
        data = answer.get("data")
        if isinstance(data, dict):
            merge_into(self.data, data)
        self.errors.extend(root_errors(answer.get("errors")))

    def _objects_for(self, fetch: Fetch) -> list[Json]:
        """The objects ``fetch`` completes. An entity fetch typed by an interface (an
        @interfaceObject's) takes every implementation: an earlier fetch may already have
        replaced the interface's name with the object's real type."""
        wanted = fetch.type_filter
        info = self.sg.types.get(wanted) if wanted else None
        if wanted is None or info is None or info.kind != "interface":
            return objects_at(self.data, fetch.path, wanted)
        return [
            obj
            for obj in objects_at(self.data, fetch.path, None)
            if self.sg.applies(wanted, str(obj.get("__typename", wanted)))
        ]

    def _contextual(
        self, batch: Batch, variables: dict[str, Any]
    ) -> tuple[str, dict[str, tuple[list[Fetch], list[list[Json]]]]]:
        """The request of a fetch with context arguments: one ``_entities`` per set of
        context values, each with its representations and its variables (as Apollo Router
        sends them)."""
        assert batch.contextual is not None
        name, client_definitions = batch.contextual
        fetch = batch.fetches[0]
        groups: dict[bytes, tuple[dict[str, Any], list[Json]]] = {}
        if fetch.selection.included(self.coerced):
            for obj, chain in objects_with_ancestors(self.data, fetch.path, fetch.type_filter):
                values = {
                    use.variable: context_value(chain[use.level], use.items)
                    for use in fetch.context_uses
                }
                identity = orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
                groups.setdefault(identity, (values, []))[1].append(obj)
        selection = fetch.selection.text()[2:-2]
        definitions: list[str] = []
        body: list[str] = []
        by_alias: dict[str, tuple[list[Fetch], list[list[Json]]]] = {}
        for number, (values, objects) in enumerate(groups.values()):
            reps, targets = representations(fetch, objects)
            if not reps:
                continue
            alias = f"_e{fetch.id}_{number}"
            variables[f"r{fetch.id}_{number}"] = reps
            definitions.append(f"$r{fetch.id}_{number}: [_Any!]!")
            for use in fetch.context_uses:
                variables[f"{use.variable}_{number}"] = values[use.variable]
                definitions.append(f"${use.variable}_{number}: {use.type}")
            text = _CONTEXT_VARIABLE.sub(rf"$\g<1>_{number}", selection)
            body.append(f"{alias}: _entities(representations: $r{fetch.id}_{number}) {{ {text} }}")
            by_alias[alias] = ([fetch], targets)
        if client_definitions:
            definitions.append(client_definitions)
        query = f"query{name}({', '.join(definitions)}) {{ {' '.join(body)} }}"
        return query, by_alias

    async def _answer_entities(self, batch: Batch) -> None:
        variables = self._variables(batch)
        if batch.contextual is not None:
            query, contextual = self._contextual(batch, variables)
            if contextual:
                await self._send_entities(batch, query, variables, contextual)
            return
        by_alias: dict[str, tuple[list[Fetch], list[list[Json]]]] = {}
        for call in batch.calls:
            first = call.fetches[0]
            objects: list[Json] = []
            for fetch in call.fetches:
                # A fetch whose fields the variables all @skip is not sent at all.
                if fetch.selection.included(self.coerced):
                    objects.extend(self._objects_for(fetch))
            reps, targets = representations(first, objects)
            variables[f"r{call.alias[2:]}"] = reps
            by_alias[call.alias] = (call.fetches, targets)
        if not any(targets for _, targets in by_alias.values()):
            return
        await self._send_entities(batch, batch.query, variables, by_alias)

    async def _send_entities(
        self,
        batch: Batch,
        query: str,
        variables: dict[str, Any],
        by_alias: dict[str, tuple[list[Fetch], list[list[Json]]]],
    ) -> None:
        url = self.sg.graphs[batch.subgraph].url
        try:
            answer = await self.fetch(batch.subgraph, url, query, variables, self.headers)
        except SubgraphError as exc:
            failure = _failure(exc)
            for _, targets in by_alias.values():
                for group in targets:
                    for obj in group:
                        obj[FAILED] = failure
            return
        data = answer.get("data")
        errors = answer.get("errors")
        for alias, (_, targets) in by_alias.items():
            entities = data.get(alias) if isinstance(data, dict) else None
            if not isinstance(entities, list) or len(entities) != len(targets):
                if not errors:
                    failure = {
                        "message": f'subgraph "{batch.subgraph}" answered no entities',
                        "extensions": {
                            "code": "SUBGRAPH_BAD_RESPONSE",
                            "serviceName": batch.subgraph,
                        },
                    }
                    for group in targets:
                        for obj in group:
                            obj[FAILED] = failure
                continue
            for entity, group in zip(entities, targets, strict=True):
                if isinstance(entity, dict):
                    for obj in group:
                        merge_into(obj, entity)
        if isinstance(errors, list) and errors:
            self.errors.extend(relocate_errors(errors, by_alias, self.data))
