"""The one client one service calls another's subgraph with: a declared operation
(:mod:`nudges_kit.operations`) and its variables in, the parsed result out::

    client = ServiceClient({Subgraph.USER: settings.user_url}, tokens, timeout=2.0)
    identity = await client.call(user_ops.phone_identity, PhoneHashVars(phone_hash=h))

Each call carries the caller's machine token (:class:`ServiceTokenProvider`, cached there); a
token the subgraph no longer accepts (its signing key rotated) is replaced once, within the
request's authentication. Every httpx request carries the caller's trace (``traceparent``,
:func:`nudges_kit.telemetry.instrument_httpx`). There is no retry here: callers that retry do
so with tenacity or the consumer loop, and the error says which failures are worth it:

- :class:`ServiceUnavailable` (a :class:`~nudges_kit.consumer.DependencyUnavailable`): the
  subgraph or the token endpoint did not answer, timed out, or answered 502/503/504;
- :class:`ServiceRefused` (a :class:`~nudges_kit.consumer.PermanentError`): the subgraph
  refused with ``BAD_USER_INPUT``, ``NOT_FOUND``, ``FORBIDDEN`` or ``CONFLICT``;
- :class:`ServiceCallError` itself: anything else (another error code, another status, an
  answer that is not the declared result), worth a retry with backoff.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import orjson
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

from nudges_kit.consumer import DependencyUnavailable, PermanentError
from nudges_kit.operations.declaration import Operation, Subgraph
from nudges_kit.service_auth import ServiceTokenError, ServiceTokenProvider

V = TypeVar("V", bound=BaseModel)
R = TypeVar("R")

#: Error codes retrying cannot fix (SPEC §5's stable codes).
PERMANENT_CODES = frozenset({"BAD_USER_INPUT", "NOT_FOUND", "FORBIDDEN", "CONFLICT"})
#: Statuses of a subgraph (or of the proxy before it) that is restarting or overloaded.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
UNAUTHENTICATED = "UNAUTHENTICATED"

SERVICE_CALLS = Counter(
    "nudges_service_calls_total",
    "Calls of declared operations on other services' subgraphs, by subgraph, operation and"
    " outcome (ok, refused, unavailable, failed)",
    ["subgraph", "operation", "outcome"],
)


class ServiceCallError(Exception):
    """A call to another service failed; ``code`` is the first GraphQL error's
    ``extensions.code``, else what went wrong (``UNAVAILABLE``, ``HTTP_<status>``,
    ``INVALID_RESPONSE``, ``TOKEN_REFUSED``). Retrying may help."""

    def __init__(self, code: str, operation: str, subgraph: str, message: str) -> None:
        super().__init__(f"{operation} on {subgraph}: {code}: {message}")
        self.code = code
        self.operation = operation
        self.subgraph = subgraph


class ServiceUnavailable(ServiceCallError, DependencyUnavailable):
    """The subgraph (or the token endpoint before it) could not be reached in time: a consumer
    waits for it without spending attempts."""


class ServiceRefused(ServiceCallError, PermanentError):
    """The subgraph refused the call for a reason retrying cannot fix."""


def error_for(operation: str, subgraph: str, status: int, body: Any) -> ServiceCallError | None:
    """The error an answer with ``status`` and JSON ``body`` (None: not JSON) means; None when
    it carries a result."""
    if status in UNAVAILABLE_STATUSES:
        return ServiceUnavailable("UNAVAILABLE", operation, subgraph, f"answered {status}")
    if status >= 500:
        return ServiceCallError(f"HTTP_{status}", operation, subgraph, f"answered {status}")
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors and isinstance(errors, list) and isinstance(errors[0], dict):
        first = errors[0]
        code = str((first.get("extensions") or {}).get("code") or "INTERNAL")
        kind = ServiceRefused if code in PERMANENT_CODES else ServiceCallError
        return kind(code, operation, subgraph, str(first.get("message")))
    if status != 200:
        return ServiceCallError(f"HTTP_{status}", operation, subgraph, f"answered {status}")
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return ServiceCallError("INVALID_RESPONSE", operation, subgraph, "no data in the answer")
    return None


def _outcome(error: ServiceCallError) -> str:
    if isinstance(error, ServiceRefused):
        return "refused"
    return "unavailable" if isinstance(error, ServiceUnavailable) else "failed"


class _MachineToken(httpx.Auth):
    """``Authorization: Bearer`` with the machine account's token; when the subgraph refuses
    that token (``UNAUTHENTICATED``: expired, or signed by a key since rotated), the cached
    one is dropped and the request sent once more with a new one."""

    def __init__(self, tokens: ServiceTokenProvider) -> None:
        self._tokens = tokens

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self._tokens.token()}"
        response = yield request
        await response.aread()
        if _token_refused(response):
            self._tokens.invalidate()
            request.headers["Authorization"] = f"Bearer {await self._tokens.token()}"
            yield request


def _token_refused(response: httpx.Response) -> bool:
    """Whether the whole operation was refused for its token (nothing of it ran)."""
    if response.status_code != 200 or b'"errors"' not in response.content:
        return False
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors or not isinstance(errors, list):
        return False
    return all(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == UNAUTHENTICATED
        for e in errors
    )


class ServiceClient:
    """Calls declared operations on the subgraphs at ``urls`` as the machine account of
    ``tokens`` (None: only with a token given to :meth:`call`), each call within ``timeout``
    seconds (on ``http`` when given: a client shared with other adapters, closed by them)."""

    def __init__(
        self,
        urls: Mapping[Subgraph, str],
        tokens: ServiceTokenProvider | None,
        *,
        timeout: float = 5.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._urls = dict(urls)
        self._timeout = timeout
        # httpx.Auth() itself sends a request as it is.
        self._auth = _MachineToken(tokens) if tokens is not None else httpx.Auth()
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None

    async def call(self, operation: Operation[V, R], variables: V, *, token: str = "") -> R:
        """The value of ``operation``'s root field, parsed; ``token`` replaces the machine
        account's. Raises :class:`ServiceCallError` (or one of its kinds) on any failure."""
        subgraph = operation.subgraph.value
        url = self._urls.get(operation.subgraph)
        if url is None:
            raise LookupError(f"no URL for the {subgraph} subgraph, which {operation.name} calls")
        try:
            result = await self._call(url, operation, variables, token)
        except ServiceCallError as exc:
            SERVICE_CALLS.labels(subgraph, operation.name, _outcome(exc)).inc()
            raise
        SERVICE_CALLS.labels(subgraph, operation.name, "ok").inc()
        return result

    async def _call(self, url: str, operation: Operation[V, R], variables: V, token: str) -> R:
        name, subgraph = operation.name, operation.subgraph.value
        try:
            response = await self._http.post(
                url,
                json=operation.payload(variables),
                headers={"Authorization": f"Bearer {token}"} if token else None,
                auth=httpx.Auth() if token else self._auth,
                timeout=self._timeout,
            )
        except ServiceTokenError as exc:
            if exc.status_code is None or exc.status_code in UNAVAILABLE_STATUSES:
                raise ServiceUnavailable("UNAVAILABLE", name, subgraph, str(exc)) from exc
            raise ServiceCallError("TOKEN_REFUSED", name, subgraph, str(exc)) from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable("UNAVAILABLE", name, subgraph, repr(exc)) from exc
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        error = error_for(name, subgraph, response.status_code, body)
        if error is not None:
            raise error
        try:
            return operation.parse(body["data"][operation.root_field])
        except (KeyError, ValidationError) as exc:
            raise ServiceCallError("INVALID_RESPONSE", name, subgraph, str(exc)[:500]) from exc

    async def aclose(self) -> None:
        """Close the HTTP client this client created."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
