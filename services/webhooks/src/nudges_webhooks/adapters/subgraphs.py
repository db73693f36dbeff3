"""What the SMS dialogue asks UserApi and ProductApi, as the ``webhooks`` machine account,
with short timeouts (Twilio waits 15 seconds for the reply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from nudges_kit.service_auth import ServiceTokenError, ServiceTokenProvider

PHONE_IDENTITY = """
query($h: String!) {
  phoneIdentity(phoneHash: $h) {
    userId locale activeMemberships stoppedMemberships
    client { id name locale subscriberCount }
  }
}"""
STOP_ALL = "mutation($h: String!) { stopAllMemberships(phoneHash: $h) }"
RESTART_ALL = "mutation($h: String!) { restartAllMemberships(phoneHash: $h) }"
CONFIRM = """
mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id recipients }
}"""
ALLOWANCE = "query($c: ID!) { allowance(clientId: $c) { active remaining } }"


class SubgraphUnavailable(Exception):
    """A subgraph (or the token endpoint) did not answer in time, or answered an error."""


class SubgraphRefused(Exception):
    """A subgraph refused the call; ``code`` is its ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class IdentifiedClient:
    id: str
    name: str
    locale: str
    subscriber_count: int


@dataclass(frozen=True)
class PhoneIdentity:
    """Who texts, as UserApi knows the number's hash."""

    user_id: str | None
    locale: str
    active_memberships: int
    stopped_memberships: int
    client: IdentifiedClient | None

    @property
    def has_memberships(self) -> bool:
        return self.active_memberships + self.stopped_memberships > 0


@dataclass(frozen=True)
class Allowance:
    active: bool
    remaining: int


@dataclass(frozen=True)
class CreatedAnnouncement:
    id: str
    recipients: int


class Subgraphs:
    """Typed calls to UserApi and ProductApi."""

    def __init__(
        self,
        user_url: str,
        product_url: str,
        tokens: ServiceTokenProvider,
        timeout: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._urls = {"user": user_url, "product": product_url}
        self._tokens = tokens
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def _call(self, subgraph: str, query: str, **variables: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                response = await self._http.post(
                    self._urls[subgraph],
                    json={"query": query, "variables": variables},
                    headers=await self._tokens.headers(),
                )
            except (httpx.HTTPError, ServiceTokenError) as exc:
                raise SubgraphUnavailable(f"{subgraph}: {type(exc).__name__}: {exc}") from exc
            if response.status_code >= 500 or response.status_code == 429:
                raise SubgraphUnavailable(f"{subgraph} answered {response.status_code}")
            try:
                body = response.json()
            except ValueError as exc:
                raise SubgraphUnavailable(f"{subgraph} answered no JSON") from exc
            errors = body.get("errors") or []
            if not errors:
                return body["data"]  # type: ignore[no-any-return]
            code = str((errors[0].get("extensions") or {}).get("code") or "INTERNAL")
            if code == "UNAUTHENTICATED" and attempt == 1:
                # The cached token expired or its signing key rotated: fetch one, once.
                self._tokens.invalidate()
                continue
            raise SubgraphRefused(code, f"{subgraph}: {errors[0].get('message')}")
        raise AssertionError("unreachable")

    async def phone_identity(self, phone_hash: str) -> PhoneIdentity:
        found = (await self._call("user", PHONE_IDENTITY, h=phone_hash))["phoneIdentity"]
        client = found.get("client")
        return PhoneIdentity(
            user_id=found.get("userId"),
            locale=found.get("locale") or "en",
            active_memberships=int(found.get("activeMemberships") or 0),
            stopped_memberships=int(found.get("stoppedMemberships") or 0),
            client=IdentifiedClient(
                id=client["id"],
                name=client["name"],
                locale=client["locale"],
                subscriber_count=int(client["subscriberCount"]),
            )
            if client
            else None,
        )

    async def stop_all_memberships(self, phone_hash: str) -> int:
        """STOP: every membership of the number stopped; returns how many changed."""
        return int((await self._call("user", STOP_ALL, h=phone_hash))["stopAllMemberships"])

    async def restart_all_memberships(self, phone_hash: str) -> int:
        """START: every stopped membership of the number active again."""
        return int((await self._call("user", RESTART_ALL, h=phone_hash))["restartAllMemberships"])

    async def confirm_announcement(
        self, client_id: str, body: str, draft_key: str
    ) -> CreatedAnnouncement:
        """The announcement of a draft, created once per ``draft_key``."""
        found = (await self._call("user", CONFIRM, c=client_id, b=body, k=draft_key))[
            "confirmAnnouncement"
        ]
        return CreatedAnnouncement(id=found["id"], recipients=int(found["recipients"]))

    async def allowance(self, client_id: str) -> Allowance:
        found = (await self._call("product", ALLOWANCE, c=client_id))["allowance"]
        return Allowance(active=bool(found["active"]), remaining=int(found["remaining"]))

    async def close(self) -> None:
        await self._http.aclose()
