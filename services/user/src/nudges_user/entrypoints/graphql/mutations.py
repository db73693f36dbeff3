"""Root mutations: clients' profiles, subscribers' memberships, dead-letter replays, and the
service-only mutations of the SMS dialogue (its YES and LANG are events UserApi consumes:
:mod:`nudges_user.entrypoints.consumers`)."""

from __future__ import annotations

import strawberry

from nudges_kit import dlq
from nudges_kit.errors import NotFound
from nudges_kit.graphql import context_of
from nudges_user.domain import model
from nudges_user.entrypoints.graphql.composer import ComposerMutation
from nudges_user.entrypoints.graphql.context import Info, service_of
from nudges_user.entrypoints.graphql.inputs import CreateClientInput, UpdateClientInput
from nudges_user.entrypoints.graphql.queries import parked_letters
from nudges_user.entrypoints.graphql.types import (
    Announcement,
    Client,
    DeadLetter,
    Membership,
    MembershipStatus,
)


@strawberry.type
class Mutation(ComposerMutation):
    @strawberry.mutation(description="Become a client (a signed-in client account).")
    async def create_client(self, info: Info, input: CreateClientInput) -> Client:
        principal = context_of(info).require("client")
        created = await service_of(info).create_client(
            principal, input.name, input.slug, input.locale
        )
        return Client.of(created)

    @strawberry.mutation(
        description="Change a client's name, address, language, quiet hours, keyword or time zone."
    )
    async def update_client(
        self, info: Info, id: strawberry.ID, input: UpdateClientInput
    ) -> Client:
        principal = context_of(info).require("client", "admin")
        updated = await service_of(info).update_client(
            principal,
            str(id),
            input.name,
            input.slug,
            input.locale,
            input.quiet_hours,
            input.keyword,
            input.time_zone,
        )
        return Client.of(updated)

    @strawberry.mutation(description="Join a client by its address (idempotent).")
    async def join_client(self, info: Info, slug: str) -> Membership:
        principal = context_of(info).require("subscriber")
        return Membership.of(await service_of(info).join_client(principal, slug))

    @strawberry.mutation(description="Stop receiving a client's messages.")
    async def leave_client(self, info: Info, client_id: strawberry.ID) -> Membership:
        principal = context_of(info).require("subscriber")
        return Membership.of(await service_of(info).leave_client(principal, str(client_id)))

    @strawberry.mutation(description="Publish a dead letter's event again to its topic (admins).")
    async def replay_dead_letter(self, info: Info, id: strawberry.ID) -> DeadLetter:
        context_of(info).require("admin")
        topic = str(id).split(":")[0]
        letters = [x for x in await parked_letters(info, topic) if x.id == str(id)]
        if not letters:
            raise NotFound("dead letter not found")
        await dlq.republish(context_of(info).settings, letters[:1])
        return DeadLetter.of(letters[0])

    @strawberry.federation.mutation(
        description="STOP / START by SMS: every membership of a number (services).",
        inaccessible=True,
    )
    async def set_memberships_by_phone(
        self, info: Info, phone_hash: str, status: MembershipStatus
    ) -> int:
        """Stop (STOP) or restart (START) every membership of the number; how many changed.

        Service-only because the caller is the number, not a signed-in user: a STOP reaches
        Nudges as a text, which Webhooks authenticates by Twilio's signature and passes on as
        its machine account. Carrier rules require it to act at once, without a sign-in."""
        context_of(info).require("service")
        target = model.MembershipStatus(status.value)
        return await service_of(info).set_all_memberships(phone_hash, target)

    @strawberry.federation.mutation(
        description="Create the announcement of a confirmed draft, once.", inaccessible=True
    )
    async def confirm_announcement(
        self, info: Info, client_id: strawberry.ID, body: str, draft_key: str
    ) -> Announcement:
        """Service-only: the SMS dialogue's CONFIRM of a client's draft (the draft lives in
        WarpCache, outside any client session), once per draft key."""
        context_of(info).require("service")
        return Announcement.of(
            await service_of(info).confirm_announcement(str(client_id), body, draft_key)
        )
