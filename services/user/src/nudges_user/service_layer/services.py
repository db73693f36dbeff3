"""UserApi use cases. Each runs in one transaction: decide, write, add the outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import asyncpg

from nudges_kit.auth import Principal, user_id_for
from nudges_kit.errors import BadInput, Conflict, Forbidden, NotFound, Unauthenticated
from nudges_kit.events import new_event_id
from nudges_kit.events.catalog import user as events
from nudges_user.adapters import repository as repo
from nudges_user.domain.memberships import MembershipChange, membership_change
from nudges_user.domain.model import (
    SLUG_PATTERN,
    Announcement,
    Client,
    InvalidInput,
    Membership,
    MembershipStatus,
    Subscriber,
    check_announcement_body,
    check_keyword,
    check_locale,
    check_name,
    check_slug,
    slugify,
)
from nudges_user.domain.schedules import time_zone_setting
from nudges_user.service_layer.unit_of_work import UnitOfWork, unit_of_work

T = TypeVar("T")

#: LISTEN/NOTIFY channels of the GraphQL subscriptions.
CLIENT_UPDATED = "user_client_updated"
ANNOUNCEMENT_PROGRESS = "user_announcement_progress"


def _uuid(value: str, field: str = "id") -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field} is not a valid id", field=field) from None


def _checked(check: Callable[[str], T], value: str) -> T:
    try:
        return check(value)
    except InvalidInput as exc:
        raise BadInput(str(exc), field=exc.field) from None


def _client_event(client: Client, phone_hash: str) -> events.ClientData:
    return events.ClientData(
        client_id=UUID(client.id),
        user_id=UUID(client.user_id),
        name=client.name,
        slug=client.slug,
        locale=client.locale,
        phone_hash=phone_hash,
        stripe_customer_id=client.stripe_customer_id,
    )


async def _membership_event(uow: UnitOfWork, membership: Membership) -> events.MembershipData:
    """The event of a membership change, with the client's active subscribers as of it (the
    caller holds the client's row: :func:`repo.lock_clients_for_memberships`)."""
    client_id = UUID(membership.client_id)
    counts = await repo.active_member_counts(uow.conn, [client_id])
    return events.MembershipData(
        membership_id=UUID(membership.id),
        client_id=client_id,
        subscriber_id=UUID(membership.subscriber_id),
        status=membership.status.value,
        source=membership.source,
        active_subscribers=counts[str(client_id)],
    )


async def _join(uow: UnitOfWork, client_id: UUID, user_id: UUID, source: str) -> Membership:
    """``user_id`` joins the client: a new membership (``user.membership.joined``), a stopped
    one restarted, an active one returned as it is."""
    subscriber_id = await repo.upsert_subscriber(uow.conn, user_id, user_id)
    # The client's row before the membership's (every membership change locks in that
    # order): concurrent joins each count the one before.
    await repo.lock_clients_for_memberships(uow.conn, [client_id])
    existing = await repo.membership(uow.conn, client_id, subscriber_id)
    if existing:
        return await _move(uow, existing, MembershipStatus.ACTIVE) or existing
    created = await repo.insert_membership(
        uow.conn, new_event_id(), client_id, subscriber_id, source
    )
    if created is None:  # a concurrent join won the race
        again = await repo.membership(uow.conn, client_id, subscriber_id)
        assert again is not None
        return again
    await uow.publish(
        events.membership_joined, str(client_id), await _membership_event(uow, created)
    )
    return created


#: The event each change of a membership publishes.
_MEMBERSHIP_EVENTS = {
    MembershipChange.JOINED: events.membership_joined,
    MembershipChange.STOPPED: events.membership_stopped,
    MembershipChange.RESTARTED: events.membership_restarted,
}


async def _move(
    uow: UnitOfWork, existing: Membership, wanted: MembershipStatus
) -> Membership | None:
    """Move an existing membership to ``wanted`` and publish the change; None when that
    changes nothing. The caller holds the client's row."""
    change = membership_change(existing.status, wanted)
    if change is None:
        return None
    member = await repo.set_membership_status(uow.conn, UUID(existing.id), wanted)
    await uow.publish(
        _MEMBERSHIP_EVENTS[change], member.client_id, await _membership_event(uow, member)
    )
    return member


async def create_confirmed_announcement(
    uow: UnitOfWork, client_id: UUID, text: str, draft_key: str
) -> Announcement:
    """The announcement of ``draft_key``, created once in the caller's transaction with its
    ``user.announcement.confirmed`` in the outbox (what starts the fan-out); a key already
    confirmed returns its announcement and publishes nothing. CONFIRM by SMS, "Send now" on
    the web and a schedule's start all create announcements here."""
    created = await repo.insert_confirmed_announcement(
        uow.conn, new_event_id(), client_id, text, draft_key
    )
    if created is None:
        existing = await repo.announcement_by_draft_key(uow.conn, draft_key)
        assert existing is not None
        return existing
    await uow.publish(
        events.announcement_confirmed,
        created.id,
        events.AnnouncementConfirmedData(
            announcement_id=UUID(created.id),
            client_id=client_id,
            recipients=created.recipients,
            confirmed_at=created.confirmed_at,  # type: ignore[arg-type]
        ),
    )
    return created


class UserService:
    """The use cases of UserApi over one connection pool, or over a consumer's connection in
    its transaction (each use case's unit of work then joins it)."""

    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._pool = pool

    async def _user_of(self, uow: UnitOfWork, principal: Principal) -> UUID:
        """The user row of the caller, created from the token's phone claims when new."""
        if not principal.phone_hash or not principal.phone_ciphertext:
            raise Unauthenticated("this token carries no verified phone number")
        return await repo.upsert_user(
            uow.conn,
            _uuid(principal.user_id, "sub"),
            principal.phone_hash,
            principal.phone_ciphertext,
            check_locale(principal.locale or "en"),
        )

    # --- clients ---------------------------------------------------------------------

    async def create_client(
        self, principal: Principal, name: str, slug: str | None, locale: str | None
    ) -> Client:
        clean_name = _checked(check_name, name)
        clean_slug = _checked(check_slug, slug) if slug else slugify(clean_name)
        clean_locale = _checked(check_locale, locale or principal.locale or "en")
        async with unit_of_work(self._pool) as uow:
            user_id = await self._user_of(uow, principal)
            if await repo.client_by_user(uow.conn, user_id):
                raise Conflict("you already have a client profile")
            # A client's id is its user's id, so that tokens name the client by ``sub``.
            client = await repo.insert_client(
                uow.conn, user_id, user_id, clean_name, clean_slug, clean_locale
            )
            if client is None:
                raise Conflict(f"the address /c/{clean_slug} is taken", field="slug")
            await uow.publish(
                events.client_created,
                client.id,
                _client_event(client, principal.phone_hash or ""),
            )
            return client

    async def update_client(
        self,
        principal: Principal,
        client_id: str,
        name: str | None = None,
        slug: str | None = None,
        locale: str | None = None,
        quiet_hours: bool | None = None,
        keyword: str | None = None,
        time_zone: str | None = None,
    ) -> Client:
        changes: dict[str, object] = {}
        if time_zone is not None:
            changes["time_zone"] = _checked(time_zone_setting, time_zone)
        if keyword is not None:
            changes["keyword"] = _checked(check_keyword, keyword)
        if quiet_hours is not None:
            changes["quiet_hours"] = quiet_hours
        if name is not None:
            changes["name"] = _checked(check_name, name)
        if slug is not None:
            changes["slug"] = _checked(check_slug, slug)
        if locale is not None:
            changes["locale"] = _checked(check_locale, locale)
        cid = _uuid(client_id, "id")
        if not (principal.has_role("admin") or principal.user_id == str(cid)):
            raise Forbidden("only the client or an admin may change this client")
        return await self._update_client(cid, changes)

    async def _update_client(self, client_id: UUID, changes: dict[str, object]) -> Client:
        async with unit_of_work(self._pool) as uow:
            try:
                client = await repo.update_client(uow.conn, client_id, changes)
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == "clients_keyword_key":
                    raise Conflict(
                        f"the keyword {changes.get('keyword')} is taken", "keyword"
                    ) from None
                raise Conflict(f"the address /c/{changes.get('slug')} is taken", "slug") from None
            if client is None:
                raise NotFound("client not found")
            phone_hash = await repo.client_phone_hash(uow.conn, client_id) or ""
            await uow.publish(events.client_updated, client.id, _client_event(client, phone_hash))
            await uow.notify(CLIENT_UPDATED, client.id)
            return client

    # --- memberships -----------------------------------------------------------------

    async def join_client(self, principal: Principal, slug: str, source: str = "web") -> Membership:
        """Join the client of ``slug``; joining twice returns the same membership."""
        wanted = slug.strip().lower()
        if not SLUG_PATTERN.match(wanted):
            raise NotFound("no client at this address")
        async with unit_of_work(self._pool) as uow:
            client = await repo.client_by_slug(uow.conn, wanted)
            if client is None:
                raise NotFound(f"no client at /c/{wanted}")
            user_id = await self._user_of(uow, principal)
            return await _join(uow, UUID(client.id), user_id, source)

    async def join_client_by_phone(
        self, client_id: str, phone_hash: str, phone_ciphertext: str, locale: str
    ) -> Membership:
        """The SMS opt-in (JOIN, then YES: ``sms.opt_in.confirmed``): the number joins the
        client (source ``sms``),
        its user created in ``locale`` when new, under the id its logins will have. Joining
        twice returns the same membership."""
        cid = _uuid(client_id, "clientId")
        if not phone_hash or not phone_ciphertext:
            raise BadInput("a phone hash and ciphertext are required", field="phoneHash")
        clean_locale = _checked(check_locale, locale)
        async with unit_of_work(self._pool) as uow:
            if not await repo.clients_by_ids(uow.conn, [cid]):
                raise NotFound("client not found")
            user_id = await repo.upsert_user(
                uow.conn, UUID(user_id_for(phone_hash)), phone_hash, phone_ciphertext, clean_locale
            )
            return await _join(uow, cid, user_id, "sms")

    async def set_locale_by_phone(self, phone_hash: str, locale: str) -> bool:
        """LANG by SMS (``sms.locale.requested``): the language of the number's user; False
        when Nudges has none (the opt-in's event then creates the user in that language)."""
        clean_locale = _checked(check_locale, locale)
        async with unit_of_work(self._pool) as uow:
            return await repo.set_user_locale(uow.conn, phone_hash, clean_locale)

    async def leave_client(self, principal: Principal, client_id: str) -> Membership:
        """Stop the caller's membership of ``client_id`` (leaving twice changes nothing)."""
        async with unit_of_work(self._pool) as uow:
            cid = _uuid(client_id, "clientId")
            user_id = await self._user_of(uow, principal)
            subscriber = await repo.subscriber_by_user(uow.conn, user_id)
            await repo.lock_clients_for_memberships(uow.conn, [cid])
            existing = (
                await repo.membership(uow.conn, cid, UUID(subscriber.id)) if subscriber else None
            )
            if existing is None:
                raise NotFound("you are not a member of this client")
            return await _move(uow, existing, MembershipStatus.STOPPED) or existing

    async def set_all_memberships(self, phone_hash: str, status: MembershipStatus) -> int:
        """STOP / START from the SMS dialogue: every membership of the number; returns how
        many changed."""
        # Only two statuses: the memberships to move are those in the other one.
        target_from = (
            MembershipStatus.ACTIVE
            if status is MembershipStatus.STOPPED
            else MembershipStatus.STOPPED
        )
        async with unit_of_work(self._pool) as uow:
            user_id = await repo.user_id_by_phone_hash(uow.conn, phone_hash)
            if user_id is None:
                return 0
            await repo.lock_clients_for_memberships(
                uow.conn, await repo.user_membership_client_ids(uow.conn, user_id)
            )
            changed = 0
            for existing in await repo.memberships_of_user(uow.conn, user_id, target_from):
                changed += await _move(uow, existing, status) is not None
            return changed

    # --- announcements -----------------------------------------------------------------

    async def confirm_announcement(self, client_id: str, body: str, draft_key: str) -> Announcement:
        """Create the announcement of a confirmed draft, once per ``draft_key``."""
        text = _checked(check_announcement_body, body)
        async with unit_of_work(self._pool) as uow:
            cid = _uuid(client_id, "clientId")
            if not await repo.clients_by_ids(uow.conn, [cid]):
                raise NotFound("client not found")
            return await create_confirmed_announcement(uow, cid, text, draft_key)

    async def recipients_to_send(
        self, announcement: Announcement, subscriber_ids: list[str]
    ) -> list[Subscriber]:
        """Of ``subscriber_ids``, the recipients of ``announcement`` whose copies may be sent
        now: still active members, their copy not held back (STOP compliance: the sender asks
        right before sending and reports the others as held back)."""
        ids = [_uuid(s, "subscriberIds") for s in subscriber_ids]
        return await repo.recipients_to_send(
            self._pool, UUID(announcement.id), UUID(announcement.client_id), ids
        )


def new_id() -> UUID:
    """A fresh random id."""
    return uuid.uuid4()
