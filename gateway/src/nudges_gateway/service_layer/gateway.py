"""Executing one GraphQL request through the supergraph: persisted queries, the cached plan,
variables, limits, the subgraph requests, introspection, and the shaped response."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import GraphQLError, execute_sync
from graphql.execution.values import get_variable_values
from prometheus_client import Counter, Histogram

from nudges_gateway.domain.access import (
    ANONYMOUS,
    UNAUTHORIZED,
    UNAUTHORIZED_MESSAGE,
    Caller,
    PolicyRule,
    caller_of,
)
from nudges_gateway.domain.defer import deferred_fragments, streamed_fields
from nudges_gateway.domain.demand import SlicingArgumentMissing, estimator_for
from nudges_gateway.domain.operation import Stream
from nudges_gateway.domain.plan import Plan
from nudges_gateway.domain.prepare import (
    Limits,
    Prepared,
    RequestError,
    demand_key,
    operation_cost,
)
from nudges_gateway.domain.results import Json, Shaper
from nudges_gateway.domain.supergraph import Supergraph
from nudges_gateway.service_layer.executor import Fetcher, PlanExecution
from nudges_gateway.service_layer.metrics import count_request, refused_operation
from nudges_gateway.service_layer.schema_state import SchemaHolder, SchemaState
from nudges_kit.auth import InvalidToken, JwtVerifier, Principal
from nudges_kit.logging import get_logger

log = get_logger(__name__)

OPERATIONS = Counter(
    "gateway_operations_total", "Operations handled, by kind and outcome", ["kind", "outcome"]
)
DURATION = Histogram("gateway_operation_seconds", "Time to answer an operation", ["kind"])


@functools.cache
def _answered(kind: str, outcome: str) -> Counter:
    """The child of OPERATIONS counting answers of ``kind`` with ``outcome`` (both from small
    fixed sets), looked up once."""
    return OPERATIONS.labels(kind, outcome)


@functools.cache
def _duration(kind: str) -> Histogram:
    return DURATION.labels(kind)


@dataclass
class GraphQLRequest:
    """The fields of a GraphQL-over-HTTP request."""

    query: str | None = None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None

    @classmethod
    def of(cls, body: Any) -> GraphQLRequest:
        if not isinstance(body, dict):
            raise RequestError.of("BAD_REQUEST", "a GraphQL request is a JSON object", 400)
        query, name = body.get("query"), body.get("operationName")
        variables, extensions = body.get("variables"), body.get("extensions")
        if query is not None and not isinstance(query, str):
            raise RequestError.of("BAD_REQUEST", "query must be a string", 400)
        if name is not None and not isinstance(name, str):
            raise RequestError.of("BAD_REQUEST", "operationName must be a string", 400)
        if variables is not None and not isinstance(variables, dict):
            raise RequestError.of("BAD_REQUEST", "variables must be an object", 400)
        if extensions is not None and not isinstance(extensions, dict):
            raise RequestError.of("BAD_REQUEST", "extensions must be an object", 400)
        return cls(query, name, variables, extensions)


class PersistedQueries:
    """Automatic persisted queries (Apollo APQ): the hash of a query stands for its text once
    the client has sent both."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._queries: OrderedDict[str, str] = OrderedDict()

    def resolve(self, request: GraphQLRequest) -> str:
        """The query text of ``request`` (raises :class:`RequestError` when unknown)."""
        persisted = (request.extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            if request.query is None:
                raise RequestError.of("BAD_REQUEST", "the request has no query", 400)
            return request.query
        if persisted.get("version", 1) != 1:
            raise RequestError.of(
                "PERSISTED_QUERY_NOT_SUPPORTED", "only version 1 of persisted queries is supported"
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise RequestError.of("BAD_REQUEST", "persistedQuery.sha256Hash must be a string", 400)
        if request.query is None:
            found = self._queries.get(digest)
            if found is None:
                raise RequestError.of("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            self._queries.move_to_end(digest)
            return found
        if hashlib.sha256(request.query.encode()).hexdigest() != digest:
            raise RequestError.of(
                "PERSISTED_QUERY_HASH_MISMATCH", "provided sha256Hash does not match the query", 400
            )
        self._queries[digest] = request.query
        if len(self._queries) > self.size:
            self._queries.popitem(last=False)
        return request.query


@dataclass
class Ready:
    """A request ready to execute on one schema state."""

    state: SchemaState
    #: The supergraph as this request sees it (its progressive overrides decided).
    supergraph: Supergraph
    prepared: Prepared
    variables: dict[str, Any]
    coerced: dict[str, Any]
    #: The plan to run: the prepared one, or one without the fields the caller may not see
    #: (``unauthorized``: their ids, answered null with an error).
    plan: Plan
    unauthorized: frozenset[int] = frozenset()
    #: Where the fields taken out are in the operation (one error each).
    unauthorized_paths: tuple[tuple[str, ...], ...] = ()


@dataclass
class Incremental:
    """A response delivered in parts (``@defer``, ``@stream``): the initial part, then the
    later ones."""

    parts: AsyncIterator[Json]


class KeysUnavailable(Exception):
    """The keys that verify tokens could not be fetched: a token cannot be told valid."""


@dataclass
class AccessControl:
    """How the gateway tells who calls, for ``@authenticated``, ``@requiresScopes`` and
    ``@policy``: the verifier of the caller's JWT, the claim holding its scopes, and the
    named policies. The verifier remembers the tokens it verified (see
    :class:`~nudges_kit.auth.JwtVerifier`), so a caller's requests do not verify the
    signature again."""

    verifier: JwtVerifier | None = None
    scope_claim: str = "scope"
    policies: Mapping[str, PolicyRule] = field(default_factory=dict)

    async def verify(self, token: str) -> Principal | None:
        """The principal of ``token`` (None: no verifier). Raises :class:`InvalidToken` for a
        token that is forged, expired or meant for someone else, and
        :class:`KeysUnavailable` when the keys to tell cannot be fetched."""
        if self.verifier is None:
            return None
        try:
            return await self.verifier.verify(token)
        except InvalidToken as exc:
            if isinstance(exc.__cause__, httpx.HTTPError):
                raise KeysUnavailable(str(exc)) from exc
            raise

    async def caller(self, headers: Mapping[str, str], policies_used: frozenset[str]) -> Caller:
        """The caller of a request whose forwarded ``headers`` are these: anonymous without
        a token, or with one that does not verify (the HTTP entrypoint refuses such tokens
        before; a subscription's are refused by the subgraphs)."""
        token = bearer_token(headers)
        if token is None:
            return ANONYMOUS
        try:
            principal = await self.verify(token)
        except (InvalidToken, KeysUnavailable) as exc:
            log.info("token not accepted for access control", reason=str(exc))
            return ANONYMOUS
        if principal is None:
            return ANONYMOUS
        return caller_of(
            principal.claims, policies_used, self.policies, self.scope_claim, principal.roles
        )


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """What identifies a request: its ``X-Request-Id``, else the trace id of its
    ``traceparent`` (None: neither)."""
    given = headers.get("x-request-id", "").strip()
    if given:
        return given
    parts = headers.get("traceparent", "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def roll(request_id: str, label: str) -> float:
    """A number in [0, 100) drawn from the request id and the label: the same request always
    draws the same for one label."""
    digest = hashlib.sha256(f"{request_id}\x00{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def taken_over(labels: Mapping[str, float | None], request_id: str | None) -> frozenset[str]:
    """The labels of progressive overrides (``percent(N)``) this request sees taken over:
    each with a chance of N%, decided by the request id (without one, at random)."""
    if not labels:
        return frozenset()
    rid = request_id or secrets.token_hex(16)
    return frozenset(
        label
        for label, percent in labels.items()
        if percent is not None and roll(rid, label) < percent
    )


def bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Gateway:
    """Answers GraphQL requests over the subgraphs of the current supergraph."""

    def __init__(
        self,
        holder: SchemaHolder,
        fetch: Fetcher,
        limits: Limits,
        operation_timeout: float = 30.0,
        apq: PersistedQueries | None = None,
        access: AccessControl | None = None,
    ) -> None:
        self.holder = holder
        self.fetch = fetch
        self.limits = limits
        self.operation_timeout = operation_timeout
        self.apq = apq or PersistedQueries()
        self.access = access or AccessControl()

    async def ready_for(
        self, request: GraphQLRequest, allowed: tuple[str, ...], headers: Mapping[str, str]
    ) -> Ready:
        """:meth:`ready`, then the plan restricted to what the caller (known by the JWT in
        ``headers``) may see."""
        ready = self.ready(request, allowed, request_id_of(headers))
        supergraph = ready.supergraph
        if ready.prepared.is_guarded(supergraph):
            caller = await self.access.caller(headers, supergraph.access.policies)
            ready.plan, ready.unauthorized, ready.unauthorized_paths = ready.prepared.plan_for(
                supergraph, caller
            )
        return ready

    def ready(
        self, request: GraphQLRequest, allowed: tuple[str, ...], request_id: str | None = None
    ) -> Ready:
        """Plan ``request`` on the current supergraph (raises :class:`RequestError`); the
        progressive overrides it sees are decided by ``request_id`` (None: at random)."""
        state = self.holder.current
        if state is None:
            raise RequestError.of("SUPERGRAPH_UNAVAILABLE", "no supergraph is loaded yet", 503)
        query = self.apq.resolve(request)
        overrides = taken_over(state.supergraph.override_labels, request_id)
        supergraph = state.supergraph.with_overrides(overrides)
        prepared = state.plans.get_or_prepare(
            state.supergraph, query, request.operation_name, self.limits, overrides
        )
        kind = prepared.plan.kind
        if kind not in allowed:
            if kind == "subscription":
                raise RequestError.of(
                    "BAD_REQUEST",
                    "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql",
                    400,
                )
            raise RequestError.of("BAD_REQUEST", f"a {kind} cannot be sent with GET", 405)
        variables = request.variables or {}
        values = get_variable_values(
            supergraph.api_schema, prepared.operation.variable_definitions or (), variables
        )
        if isinstance(values, list):
            raise RequestError(
                [{"message": e.message, "extensions": {"code": "BAD_USER_INPUT"}} for e in values]
            )
        coerced: dict[str, Any] = values.coerced
        self.check_cost(supergraph, prepared, coerced)
        return Ready(state, supergraph, prepared, variables, coerced, prepared.plan)

    def check_cost(
        self, supergraph: Supergraph, prepared: Prepared, coerced: dict[str, Any]
    ) -> None:
        """Refuse an operation whose estimated cost (demand control: ``@cost``/``@listSize``
        by Apollo's rules) or field count (each field once per object it is asked of, the
        measure every subgraph also applies) is over the limit. Both are measured once per
        operation and variable values."""
        most = self.limits.max_cost
        key = demand_key(prepared, coerced, self.limits.default_list_size)
        measured = prepared.demands.get(key) if key is not None else None
        if measured is None:
            measured = self.measure_demand(supergraph, prepared, coerced)
            if key is not None:
                prepared.remember_demand(key, measured)
        if isinstance(measured, str):
            raise RequestError.of("BAD_USER_INPUT", measured)
        cost, count = measured
        if cost > most:
            raise RequestError.of(
                "QUERY_TOO_COMPLEX",
                f"the query costs {cost}; at most {most} is allowed",
                cost=cost,
                limit=most,
            )
        if count > most:
            raise RequestError.of(
                "QUERY_TOO_COMPLEX",
                f"the query asks for {count} fields; at most {most} are allowed",
                cost=count,
                limit=most,
            )

    def measure_demand(
        self, supergraph: Supergraph, prepared: Prepared, coerced: dict[str, Any]
    ) -> tuple[int, int] | str:
        """The estimated cost and the field count of an operation with these variable values,
        or why its cost cannot be estimated."""
        plan = prepared.plan
        list_default = self.limits.default_list_size
        estimator = estimator_for(supergraph, list_default)
        try:
            cost = estimator.cost(plan.kind, plan.root_type, plan.operation.items, coerced)
        except SlicingArgumentMissing as exc:
            return str(exc)
        return cost, operation_cost(supergraph, prepared, coerced, list_default)

    async def execute(
        self,
        request: GraphQLRequest,
        headers: Mapping[str, str],
        allowed: tuple[str, ...] = ("query", "mutation"),
        expose_plan: bool = False,
        incremental: bool = False,
    ) -> tuple[int, Json | Incremental]:
        """The HTTP status and body answering ``request`` (with ``expose_plan``, the subgraph
        requests of its plan in ``extensions.queryPlan``; with ``incremental``, an operation
        deferring fragments or streaming lists is answered in parts)."""
        started = time.perf_counter()
        try:
            ready = await self.ready_for(request, allowed, headers)
        except RequestError as exc:
            OPERATIONS.labels("unknown", exc.errors[0]["extensions"].get("code", "refused")).inc()
            refused = refused_operation(
                request.query, request.operation_name, self.limits.max_query_bytes
            )
            count_request(refused, exc.errors, time.perf_counter() - started)
            return exc.status, {"errors": exc.errors}
        kind = ready.prepared.plan.kind
        operation = ready.prepared.operation
        if incremental and not ready.unauthorized:
            items = ready.prepared.plan.operation.items
            deferred = deferred_fragments(items, ready.coerced)
            streamed = streamed_fields(items, ready.coerced)
            if deferred or streamed:
                OPERATIONS.labels(kind, "incremental").inc()
                count_request(operation, [], time.perf_counter() - started)
                return 200, Incremental(self.parts(ready, headers, deferred, streamed))
        try:
            async with asyncio.timeout(self.operation_timeout):
                body = await self.run(ready, headers)
        except TimeoutError:
            OPERATIONS.labels(kind, "timeout").inc()
            timeout: Json = {
                "errors": [
                    {
                        "message": f"the operation did not complete within "
                        f"{self.operation_timeout}s",
                        "extensions": {"code": "GATEWAY_TIMEOUT"},
                    }
                ]
            }
            count_request(operation, timeout["errors"], time.perf_counter() - started)
            return 504, timeout
        except Exception:
            log.exception("operation failed", operation=ready.prepared.plan.operation.name)
            OPERATIONS.labels(kind, "internal_error").inc()
            failed: Json = {
                "errors": [
                    {
                        "message": "internal gateway error",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ]
            }
            count_request(operation, failed["errors"], time.perf_counter() - started)
            return 500, failed
        if expose_plan:
            body["extensions"] = {"queryPlan": ready.plan.describe()}
        seconds = time.perf_counter() - started
        _answered(kind, "errors" if "errors" in body else "ok").inc()
        _duration(kind).observe(seconds)
        count_request(operation, body.get("errors") or [], seconds)
        return 200, body

    async def run(
        self, ready: Ready, headers: Mapping[str, str], root_data: Json | None = None
    ) -> Json:
        """Execute a ready request (on ``root_data``: a subscription event) and shape it (as
        the client asked: fields access control took out are answered null)."""
        plan = ready.plan
        supergraph = ready.supergraph
        execution = PlanExecution(
            plan, supergraph, ready.variables, self.fetch, headers, ready.coerced
        )
        await execution.run(root_data)
        execution.errors[:0] = [
            {
                "message": UNAUTHORIZED_MESSAGE,
                "path": list(path),
                "extensions": {"code": UNAUTHORIZED},
            }
            for path in ready.unauthorized_paths
        ]
        introspection = self.introspect(ready, execution.errors) if root_data is None else None
        shaper = Shaper(supergraph, ready.coerced, execution.errors, ready.unauthorized)
        asked = ready.prepared.plan.operation.items
        data = shaper.shape(plan.root_type, asked, execution.data, introspection)
        body: Json = {"data": data}
        if execution.errors:
            body["errors"] = execution.errors
        return body

    async def parts(
        self,
        ready: Ready,
        headers: Mapping[str, str],
        deferred: frozenset[int],
        streamed: Mapping[int, Stream],
    ) -> AsyncIterator[Json]:
        """The parts of an incremental answer: the initial part (without the fragments
        ``deferred``, the lists ``streamed`` cut to their ``initialCount``), then the later
        items of those lists, then the deferred fragments with their paths. The whole plan
        runs once: the initial part is shaped as soon as the requests it needs are answered,
        the deferred fragments when every request is."""
        supergraph = ready.supergraph
        plan = ready.prepared.plan
        asked = plan.operation.items
        execution = PlanExecution(
            plan, supergraph, ready.variables, self.fetch, headers, ready.coerced
        )
        answered = execution.watch(ready.prepared.initial_requests(deferred)) if deferred else None
        running = asyncio.ensure_future(execution.run())
        try:
            async with asyncio.timeout(self.operation_timeout):
                await _first_of(running, answered)
                errors = list(execution.errors)
                introspection = self.introspect(ready, errors)
                shaper = Shaper(
                    supergraph, ready.coerced, errors, deferred=deferred, streamed=streamed
                )
                data = shaper.shape(plan.root_type, asked, execution.data, introspection)
            delivered = [error for error in errors if _within(data, error)]
            part: Json = {"data": data, "hasNext": bool(deferred or shaper.streams)}
            if delivered:
                part["errors"] = delivered
            yield part
            if shaper.streams:
                later = [e for e in errors if not _within(data, e)]
                streams = _with_item_errors(shaper.streams, later)
                yield {"incremental": streams, "hasNext": bool(deferred)}
            if not deferred:
                return
            async with asyncio.timeout(self.operation_timeout):
                await running
            errors = list(execution.errors)
            shaper = Shaper(
                supergraph, ready.coerced, errors, deferred=deferred, record_deferred=True
            )
            shaper.shape(plan.root_type, asked, execution.data, introspection)
            rest = [e for e in errors if not _within(data, e)]
            yield {"incremental": _with_errors(shaper.incremental, rest), "hasNext": False}
        except TimeoutError:
            yield {"hasNext": False, "errors": [_timeout_error(self.operation_timeout)]}
        except Exception:
            log.exception("incremental operation failed", operation=plan.operation.name)
            yield {
                "hasNext": False,
                "errors": [
                    {
                        "message": "internal gateway error",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ],
            }
        finally:
            if not running.done():
                running.cancel()

    @staticmethod
    def introspect(ready: Ready, errors: list[Json]) -> Json | None:
        document = ready.prepared.introspection
        if document is None:
            return None
        result = execute_sync(
            ready.state.supergraph.api_schema,
            document,
            variable_values=ready.variables,
            operation_name=ready.prepared.operation.name.value
            if ready.prepared.operation.name
            else None,
        )
        for error in result.errors or ():
            errors.append(_error_dict(error))
        return result.data


def _timeout_error(seconds: float) -> Json:
    return {
        "message": f"the operation did not complete within {seconds}s",
        "extensions": {"code": "GATEWAY_TIMEOUT"},
    }


async def _first_of(running: asyncio.Future[None], answered: asyncio.Event | None) -> None:
    """Wait until ``running`` is done or ``answered`` is set (raises what ``running`` raised)."""
    if answered is None:
        await running
        return
    waiting = asyncio.ensure_future(answered.wait())
    try:
        await asyncio.wait((running, waiting), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if running.done():
        running.result()


def _within(data: Json | None, error: Json) -> bool:
    """Whether ``error`` belongs to ``data``: it has no path, or its path leads into
    ``data`` (up to a null, where an error nulled a parent). An error at a field ``data``
    does not hold (deferred, or an item streamed later) does not."""
    at = error.get("path")
    if not isinstance(at, list) or data is None:
        return True
    current: Any = data
    for step in at:
        if current is None:
            return True
        if isinstance(step, int) and isinstance(current, list):
            if not 0 <= step < len(current):
                return False
            current = current[step]
        elif isinstance(step, str) and isinstance(current, dict):
            if step not in current:
                return False
            current = current[step]
        else:
            return False
    return True


def _with_item_errors(streams: list[Json], errors: list[Json]) -> list[Json]:
    """``streams`` (incremental items), each with the errors at a path within its items."""
    for error in errors:
        at = error.get("path")
        if not isinstance(at, list):
            continue
        for entry in streams:
            where, first = entry["path"][:-1], entry["path"][-1]
            index = at[len(where)] if len(at) > len(where) else None
            if at[: len(where)] == where and isinstance(index, int) and index >= first:
                entry.setdefault("errors", []).append(error)
                break
    return streams


def _with_errors(parts: list[Json], errors: list[Json]) -> list[Json]:
    """``parts`` (incremental), each with the errors at a path within its data."""
    for error in errors:
        at = error.get("path")
        if not isinstance(at, list):
            continue
        for part in parts:
            where = part["path"]
            inside = len(at) > len(where) and at[: len(where)] == where
            if inside and at[len(where)] in part["data"]:
                part.setdefault("errors", []).append(error)
                break
    return parts


def _error_dict(error: GraphQLError) -> Json:
    entry: Json = {"message": error.message}
    if error.path:
        entry["path"] = list(error.path)
    return entry
