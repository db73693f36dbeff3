"""The AuthApi HTTP app: thin routers over the use cases of :mod:`nudges_auth.bootstrap`."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Cookie, FastAPI, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from nudges_auth.bootstrap import AuthApi, bootstrap
from nudges_auth.service_layer.errors import AuthFailure, CodeRejected, Unauthenticated
from nudges_auth.service_layer.machines import InvalidClient
from nudges_auth.service_layer.sessions import IssuedSession
from nudges_auth.settings import AuthSettings
from nudges_kit.client_address import ClientAddressPolicy
from nudges_kit.http import add_readiness_check, create_app, end_service_on_configuration_error
from nudges_kit.logging import get_logger
from nudges_kit.sessions import SESSION_COOKIE, is_token_id
from nudges_kit.warpcache import CacheError

log = get_logger(__name__)

#: The HttpOnly cookie with the refresh token (sent only to ``/auth``).
REFRESH_COOKIE = "RefreshToken"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# ---------------------------------------------------------------------------------------------
# Request and response bodies


class OtpRequest(BaseModel):
    phone: str = Field(min_length=1, max_length=40, examples=["+14155550123"])
    role: Literal["client", "subscriber", "admin"]


class OtpSent(BaseModel):
    sent: bool = True
    expires_in: int = Field(description="Seconds the code stays valid")
    code: str | None = Field(default=None, description="Only with OTP_ECHO (development)")


class OtpVerifyRequest(BaseModel):
    phone: str = Field(min_length=1, max_length=40)
    code: str = Field(pattern=r"^[0-9]{6}$")
    role: Literal["client", "subscriber", "admin"]


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the OAuth token type)
    expires_in: int
    refresh_token: str


class RefreshRequest(BaseModel):
    refresh_token: str | None = None


class SessionToken(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the OAuth token type)


class ServiceToken(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the OAuth token type)
    expires_in: int


class Problem(BaseModel):
    detail: str


class OAuthError(BaseModel):
    error: str
    error_description: str


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem} for code in codes}


# ---------------------------------------------------------------------------------------------
# Request helpers


def _api(request: Request) -> AuthApi:
    api: AuthApi = request.app.state.auth
    return api


def _is_https(request: Request, settings: AuthSettings) -> bool:
    if settings.cookie_secure or settings.environment == "production":
        return True
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.app.state.client_addresses.behind_proxy and proto == "https"


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _set_session_cookies(
    response: Response, request: Request, settings: AuthSettings, session: IssuedSession
) -> None:
    secure = _is_https(request, settings)
    response.set_cookie(
        SESSION_COOKIE,
        session.token_id,
        max_age=session.expires_in,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        session.refresh_token,
        max_age=session.refresh_expires_in,
        path="/auth",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def _clear_session_cookies(response: Response, request: Request, settings: AuthSettings) -> None:
    secure = _is_https(request, settings)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(
        REFRESH_COOKIE, path="/auth", secure=secure, httponly=True, samesite="lax"
    )


def _token_pair(session: IssuedSession) -> TokenPair:
    return TokenPair(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="nudges"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


# ---------------------------------------------------------------------------------------------
# Routes

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/otp",
    status_code=202,
    response_model=OtpSent,
    response_model_exclude_none=True,
    responses=_responses(422, 429, 503),
    summary="Send a six-digit login code by SMS",
)
async def request_otp(
    body: OtpRequest,
    request: Request,
    accept_language: Annotated[str | None, Header()] = None,
) -> OtpSent:
    """Sends a code valid five minutes. Rate limited per number and per address (429 with
    ``Retry-After``). A number that is not an admin asking for ``admin`` gets the same answer
    but no SMS."""
    api = _api(request)
    policy: ClientAddressPolicy = request.app.state.client_addresses
    ip = policy.of_scope(request.scope)
    sent = await api.otp.request_code(body.phone, body.role, ip, accept_language)
    return OtpSent(expires_in=sent.expires_in, code=sent.code if api.settings.otp_echo else None)


@router.post(
    "/otp/verify",
    response_model=TokenPair,
    responses=_responses(400, 403, 422, 503),
    summary="Exchange a code for tokens and a session cookie",
)
async def verify_otp(body: OtpVerifyRequest, request: Request, response: Response) -> TokenPair:
    """Answers the access and refresh tokens, and sets the ``TokenId`` cookie (the opaque id
    of the session whose JWT lives in WarpCache)."""
    api = _api(request)
    session = await api.otp.verify(body.phone, body.role, body.code)
    _set_session_cookies(response, request, api.settings, session)
    response.headers.update(NO_STORE)
    return _token_pair(session)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=_responses(401, 503),
    summary="Rotate a refresh token",
)
async def refresh(
    request: Request,
    response: Response,
    body: RefreshRequest | None = None,
    refresh_cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None,
) -> TokenPair:
    """Takes the refresh token from the body or the ``RefreshToken`` cookie and answers new
    tokens; the old refresh token is spent, and using it again revokes the whole login."""
    api = _api(request)
    token = (body.refresh_token if body else None) or refresh_cookie
    if not token:
        raise Unauthenticated("no refresh token: send refresh_token or the RefreshToken cookie")
    session = await api.sessions.refresh(token)
    _set_session_cookies(response, request, api.settings, session)
    response.headers.update(NO_STORE)
    return _token_pair(session)


@router.post("/logout", status_code=204, summary="End the session and its refresh tokens")
async def logout(
    request: Request,
    body: RefreshRequest | None = None,
    authorization: Annotated[str | None, Header()] = None,
    token_id: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    refresh_cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None,
) -> Response:
    """Revokes the ``TokenId`` (cookie or opaque bearer id) and the refresh family of it or of
    the refresh token given. Answers 204 whether or not anything was live."""
    api = _api(request)
    bearer = _bearer(authorization)
    session_id = token_id or (bearer if bearer and is_token_id(bearer) else None)
    refresh_token = (body.refresh_token if body else None) or refresh_cookie
    await api.sessions.end(session_id, refresh_token)
    response = Response(status_code=204)
    _clear_session_cookies(response, request, api.settings)
    return response


@router.get(
    "/session",
    response_model=SessionToken,
    responses=_responses(401, 503),
    summary="The JWT of a session id",
)
async def session(
    request: Request,
    response: Response,
    authorization: Annotated[str | None, Header()] = None,
    token_id: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> SessionToken:
    """Resolves the ``TokenId`` cookie or an opaque bearer id to the session's JWT (what the
    gateway forwards). The gateway may equally read WarpCache key ``session:<id>``."""
    bearer = _bearer(authorization)
    candidate = token_id or bearer
    if not candidate or not is_token_id(candidate):
        raise Unauthenticated("no session id: send the TokenId cookie or Bearer <token id>")
    jwt = await _api(request).sessions.resolve(candidate)
    response.headers.update(NO_STORE)
    return SessionToken(access_token=jwt)


@router.post(
    "/token",
    response_model=ServiceToken,
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
    summary="Client credentials: a service token for a machine account",
)
async def token(
    request: Request,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Any:
    """OAuth2 ``client_credentials`` (RFC 6749 §4.4): credentials in the form or as HTTP Basic.
    Machine accounts: ``consumers``, ``webhooks``."""
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "only grant_type=client_credentials is supported"
        )
    basic = _basic_credentials(authorization)
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        return _oauth_error(401, "invalid_client", "client_id and client_secret are required")
    try:
        issued = _api(request).machines.issue(client_id, client_secret)
    except InvalidClient as exc:
        return _oauth_error(401, "invalid_client", exc.message)
    return JSONResponse(
        ServiceToken(access_token=issued.access_token, expires_in=issued.expires_in).model_dump(),
        headers=NO_STORE,
    )


@router.get("/.well-known/jwks.json", summary="The issuer's public keys")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    """The current signing key, the previous one and any upcoming one (JWK Set)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return _api(request).keys.jwks()


@router.get(
    "/login",
    status_code=302,
    responses=_responses(404, 503),
    summary="Admin login through Keycloak (OIDC, PKCE S256)",
)
async def login(request: Request) -> RedirectResponse:
    """Redirects to Keycloak; 404 when Keycloak is not configured."""
    url = await _api(request).admin_login.start()
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get(
    "/callback",
    status_code=303,
    responses=_responses(400, 403, 404, 503),
    summary="Where Keycloak sends the admin back",
)
async def callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=512)] = None,
) -> RedirectResponse:
    """Exchanges the code, requires the ``admin`` realm role, sets the session cookie and
    redirects to the Admin UI."""
    api = _api(request)
    if error:
        raise CodeRejected(f"Keycloak refused the login: {error}")
    if not code or not state:
        raise CodeRejected("the callback needs code and state: start again at /auth/login")
    session = await api.admin_login.finish(code, state)
    redirect = RedirectResponse(api.settings.admin_ui_url, status_code=303, headers=NO_STORE)
    _set_session_cookies(redirect, request, api.settings, session)
    return redirect


# ---------------------------------------------------------------------------------------------
# The app


async def _auth_failure(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthFailure)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=exc.headers)


async def _cache_failure(request: Request, exc: Exception) -> JSONResponse:
    log.error("warpcache unavailable", error=str(exc))
    return JSONResponse(
        {"detail": "the session store (WarpCache) is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    api: AuthApi = app.state.auth
    add_readiness_check(app, "warpcache", lambda: api.cache.get("auth:readyz"))
    warm_up = asyncio.create_task(api.publisher.warm_up())
    warm_up.add_done_callback(end_service_on_configuration_error)
    try:
        yield
    finally:
        warm_up.cancel()
        await asyncio.gather(warm_up, return_exceptions=True)
        await api.close()


def build_app(settings: AuthSettings | None = None, api: AuthApi | None = None) -> FastAPI:
    """The AuthApi application (``api`` replaces the wiring in tests)."""
    settings = settings or AuthSettings()
    production = settings.environment == "production"
    app = create_app(
        settings,
        title="Nudges AuthApi",
        lifespan=lifespan,
        openapi_url="/auth/openapi.json",
        docs_url=None if production else "/auth/docs",
        redoc_url=None,
    )
    app.state.auth = api or bootstrap(settings)
    app.state.client_addresses = settings.client_address_policy()
    app.include_router(router)
    app.add_exception_handler(AuthFailure, _auth_failure)
    app.add_exception_handler(CacheError, _cache_failure)
    return app
