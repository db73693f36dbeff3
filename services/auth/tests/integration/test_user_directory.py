"""AuthApi asks UserApi who a number is through the kit's service client, with a token it
signs for itself: the real UserApi answers that token, and a UserApi that cannot be reached or
refuses the token is ``DirectoryUnavailable`` (a 503 of the login, never a 500)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from nudges_auth.adapters.user_directory import DirectoryUnavailable, UserDirectory
from nudges_devstack.infra import free_port
from nudges_kit.operations import Subgraph
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient

if TYPE_CHECKING:
    from conftest import Stack

AppWith = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_user_api_answers_the_self_signed_token(stack: Stack, app_with: AppWith) -> None:
    # Other tests of the session ask codes for the admin's number too: this AuthApi's own limit
    # per number is raised so that their count in WarpCache does not refuse these requests.
    client = await app_with(otp_echo=True, otp_per_phone_limit=1_000)
    for _ in range(3):
        answer = await client.post("/otp", json={"phone": stack.admin_phone, "role": "admin"})
        assert answer.status_code == 202, answer.text
        assert answer.json()["code"]


@pytest.mark.parametrize("reachable", [True, False])
async def test_a_user_api_that_does_not_answer_is_unavailable(
    stack: Stack, reachable: bool
) -> None:
    signs: list[int] = []

    def sign() -> tuple[str, int]:
        signs.append(1)
        return "not-a-token-of-this-issuer", 900

    url = stack.settings.user_url if reachable else f"http://127.0.0.1:{free_port()}/graphql"
    tokens = ServiceTokenProvider.signed_by(sign, "auth")
    async with ServiceClient({Subgraph.USER: url}, tokens, timeout=2.0) as user_api:
        with pytest.raises(DirectoryUnavailable) as caught:
            await UserDirectory(user_api).phone_identity(stack.vault.hash(stack.admin_phone))
    if reachable:
        # Refused as UNAUTHENTICATED: signed once more, refused again.
        assert "UNAUTHENTICATED" in str(caught.value)
        assert len(signs) == 2
    else:
        assert "UNAVAILABLE" in str(caught.value)
