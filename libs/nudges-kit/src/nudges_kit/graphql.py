"""What every GraphQL subgraph shares: the request context with the caller's principal,
errors with stable ``extensions.code`` values, role checks, cursor pagination, the limits of
one operation, and the ``/graphql`` router (HTTP and graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
import orjson
import strawberry
from fastapi import FastAPI, Request, WebSocket
from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.federation import Schema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from nudges_kit.auth import InvalidToken, JwtVerifier, Principal, Role
from nudges_kit.errors import DomainError
from nudges_kit.graphql_limits import (
    DEFAULT_LIMITS,
    OPERATION_TIMEOUT,
    OperationLimits,
    check_operation,
    check_query_size,
    refusal,
)
from nudges_kit.graphql_metrics import OperationMetrics
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings

T = TypeVar("T")
log = get_logger(__name__)

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
CONFLICT = "CONFLICT"


def error(code: str, message: str, **extensions: Any) -> GraphQLError:
    """A GraphQL error carrying a stable ``extensions.code``."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def unauthenticated(message: str = "sign in first") -> GraphQLError:
    return error(UNAUTHENTICATED, message)


def forbidden(message: str = "you may not do this") -> GraphQLError:
    return error(FORBIDDEN, message)


def not_found(what: str) -> GraphQLError:
    return error(NOT_FOUND, f"{what} not found")


def bad_input(message: str, field: str | None = None) -> GraphQLError:
    return error(BAD_USER_INPUT, message, **({"field": field} if field else {}))


def conflict(message: str) -> GraphQLError:
    return error(CONFLICT, message)


class SubgraphContext(BaseContext):
    """Per request: the principal (or why there is none), the pool, the DataLoaders and the
    limits of the operation (:class:`SubgraphLimits` reads them)."""

    def __init__(
        self,
        principal: Principal | None,
        token_error: str | None,
        pool: asyncpg.Pool | None,
        settings: NudgesSettings,
        limits: OperationLimits | None = None,
    ) -> None:
        super().__init__()
        self.principal = principal
        self.token_error = token_error
        self.pool = pool
        self.settings = settings
        self.limits = limits or OperationLimits.of(settings)
        self.loaders: dict[str, Any] = {}

    def loader(self, name: str, factory: Callable[[], T]) -> T:
        """The request's DataLoader called ``name``, created on first use."""
        if name not in self.loaders:
            self.loaders[name] = factory()
        return self.loaders[name]  # type: ignore[no-any-return]

    def require(self, *roles: Role) -> Principal:
        """The principal, when signed in with one of ``roles`` (any role when none given)."""
        if self.principal is None:
            raise unauthenticated(self.token_error or "sign in first")
        if roles and not self.principal.has_role(*roles):
            raise forbidden(f"requires the role {' or '.join(roles)}")
        return self.principal


class DomainErrors(SchemaExtension):
    """Gives errors raised as :class:`DomainError` their ``extensions.code`` (and field), and
    masks any other unexpected error as ``INTERNAL_SERVER_ERROR`` (logged, never shown): in
    the result of a query or mutation, and in each event of a subscription."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            _code_errors(result.errors)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors:
            _code_errors(errors)
        yield


def _code_errors(errors: list[GraphQLError]) -> None:
    for err in errors:
        original = err.original_error
        if isinstance(original, DomainError):
            extra = {"field": original.field} if original.field else {}
            err.extensions = {**(err.extensions or {}), "code": original.code, **extra}
        elif original is not None and not isinstance(original, GraphQLError):
            log.error(
                "unexpected error in a resolver",
                path=err.path,
                error_type=type(original).__name__,
                error=str(original)[:500],
            )
            err.message = "internal error"
            err.extensions = {"code": "INTERNAL_SERVER_ERROR"}


#: Parsed instead of a query over the size limit, which is never parsed: strawberry goes on
#: to validation, where :class:`SubgraphLimits` gives the refusal in its place.
_STAND_IN = parse("{ __typename }")


class SubgraphLimits(SchemaExtension):
    """Refuses, before execution, an operation over the limits of the request context's
    ``limits`` (:data:`DEFAULT_LIMITS` without one), with the gateway's codes. Over WebSocket
    the same checks refuse a subscription before it starts. The execution deadline is the
    router's (:class:`_DeadlineRouter`): its hooks stay synchronous, so that the schema still
    answers ``execute_sync``."""

    #: This request's refusal, once decided (strawberry makes one extension per request).
    _refused: GraphQLError | None = None

    def _limits(self) -> OperationLimits:
        limits = getattr(self.execution_context.context, "limits", None)
        return limits if isinstance(limits, OperationLimits) else DEFAULT_LIMITS

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None:
            self._refused = check_query_size(context.query, self._limits())
            if self._refused is not None:
                context.graphql_document = _STAND_IN
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._refused is None and context.graphql_document is not None:
            self._refused = check_operation(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
                self._limits(),
            )
        if self._refused is not None:
            # Set before validation runs: strawberry then skips it and answers these errors.
            context.pre_execution_errors = [self._refused]
        yield


class _DeadlineRouter(GraphQLRouter[Any, Any]):
    """The ``/graphql`` router, each HTTP operation stopped at the deadline of its context's
    limits with ``OPERATION_TIMEOUT``. Here rather than in :class:`SubgraphLimits`: an async
    extension hook would make the schema refuse ``execute_sync`` (its ``_service { sdl }``)."""

    async def execute_single(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> ExecutionResult:
        limits = getattr(kwargs.get("context"), "limits", None)
        seconds = (
            limits if isinstance(limits, OperationLimits) else DEFAULT_LIMITS
        ).timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await super().execute_single(*args, **kwargs)
        except TimeoutError:
            message = f"the operation did not complete within {seconds}s"
            return ExecutionResult(data=None, errors=[refusal(OPERATION_TIMEOUT, message)])


def context_of(info: strawberry.Info[Any, Any]) -> SubgraphContext:
    """The typed context of a resolver's ``info``."""
    return info.context  # type: ignore[no-any-return]


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def context_getter(verifier: JwtVerifier, settings: NudgesSettings) -> Callable[..., Any]:
    """A FastAPI dependency building the :class:`SubgraphContext` of each request."""
    limits = OperationLimits.of(settings)

    async def get_context(request: Request = None, websocket: WebSocket = None) -> SubgraphContext:  # type: ignore[assignment]
        connection = request if request is not None else websocket
        token = bearer_token(connection.headers) if connection is not None else None
        principal: Principal | None = None
        token_error: str | None = None
        if token:
            try:
                principal = await verifier.verify(token)
            except InvalidToken as exc:
                token_error = f"invalid token: {exc}"
        pool = getattr(connection.app.state, "pool", None) if connection is not None else None
        return SubgraphContext(principal, token_error, pool, settings, limits)

    return get_context


def mount_graphql(
    app: FastAPI, schema: Schema, settings: NudgesSettings, verifier: JwtVerifier | None = None
) -> None:
    """Serve ``schema`` at ``/graphql`` (HTTP and graphql-transport-ws subscriptions), every
    operation held to the limits of ``settings`` (:class:`SubgraphLimits`, added to the
    schema's extensions, first, when it is not there yet) and counted by operation name
    (:class:`~nudges_kit.graphql_metrics.OperationMetrics`, added next)."""
    if SubgraphLimits not in schema.extensions:
        # First: its refusals come before any other extension's work.
        schema.extensions = (SubgraphLimits, *schema.extensions)
    if OperationMetrics not in schema.extensions:
        # Right after the limits (which have no operation hook): it wraps every other
        # extension's operation hook and sees the errors as the client gets them.
        extensions = list(schema.extensions)
        after = extensions.index(SubgraphLimits) + 1
        schema.extensions = (*extensions[:after], OperationMetrics, *extensions[after:])
    verifier = verifier or JwtVerifier(
        settings.jwks_url,
        settings.jwt_issuer,
        settings.jwt_audience,
        refetch_seconds=settings.jwks_refetch_seconds,
    )
    app.state.jwt_verifier = verifier
    router: GraphQLRouter[Any, Any] = _DeadlineRouter(
        schema,
        context_getter=context_getter(verifier, settings),
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        graphql_ide="graphiql" if settings.environment == "development" else None,
    )
    app.include_router(router, prefix="/graphql")
    app.state.graphql_schema = schema


@asynccontextmanager
async def registered_subgraph(app: FastAPI) -> AsyncIterator[None]:
    """While the app lives, register its subgraph with the registry (in the background,
    retrying until the registry and AuthApi answer), so the gateway composes it into the
    graph. Each registration carries a client-credentials token of the service's machine
    account (``SERVICE_CLIENT_SECRET``)."""
    from nudges_kit.registry_client import register_subgraph
    from nudges_kit.service_auth import ServiceTokenProvider

    settings: NudgesSettings = app.state.settings
    schema: Schema | None = getattr(app.state, "graphql_schema", None)
    if schema is None or not settings.registry_url or not settings.register_subgraph:
        yield
        return
    url = settings.subgraph_url or f"http://127.0.0.1:{settings.http_port}/graphql"
    tokens = ServiceTokenProvider(
        settings.auth_token_url,
        settings.machine_account,
        settings.service_client_secret.get_secret_value(),
    )
    task = await register_subgraph(
        settings.registry_url, settings.service_name, url, schema.as_str(), tokens=tokens
    )
    try:
        yield
    finally:
        task.cancel()
        await tokens.aclose()


# --- cursor pagination ------------------------------------------------------------------

MAX_PAGE = 100


def encode_cursor(*values: Any) -> str:
    """An opaque cursor over the ordering values of a row."""
    return base64.urlsafe_b64encode(orjson.dumps([str(v) for v in values])).decode()


def decode_cursor(cursor: str | None) -> list[str] | None:
    """The ordering values inside ``cursor``; BAD_USER_INPUT when it is not ours."""
    if cursor is None:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise bad_input("the cursor is not valid", field="after") from None
    if not isinstance(values, list):
        raise bad_input("the cursor is not valid", field="after")
    return [str(v) for v in values]


def page_size(first: int | None, default: int = 20) -> int:
    """``first`` checked against the bounds of a page."""
    if first is None:
        return default
    if first < 1 or first > MAX_PAGE:
        raise bad_input(f"first must be between 1 and {MAX_PAGE}", field="first")
    return first


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page fetched with one row more than asked, to know whether more follow."""

    items: Sequence[T]
    cursors: Sequence[str]
    has_next: bool
    total: int

    def connection(self) -> Connection[T]:
        edges = [Edge(cursor=c, node=n) for c, n in zip(self.cursors, self.items, strict=True)]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=self.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=self.total,
        )
