"""Events published by UserApi."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

CLIENTS = "user.clients"
MEMBERSHIPS = "user.memberships"
ANNOUNCEMENTS = "user.announcements"


class ClientData(BaseModel):
    client_id: UUID
    user_id: UUID
    name: str
    slug: str
    locale: str
    phone_hash: str
    stripe_customer_id: str | None = None


class MembershipData(BaseModel):
    """A membership joined, stopped or restarted. ``active_subscribers`` is the client's count
    of active subscribers just after this change, taken in its transaction (None in events
    published before the count was carried)."""

    membership_id: UUID
    client_id: UUID
    subscriber_id: UUID
    status: str
    source: str | None = None
    active_subscribers: int | None = None


class AnnouncementConfirmedData(BaseModel):
    announcement_id: UUID
    client_id: UUID
    recipients: int
    confirmed_at: datetime


class AnnouncementCompletedData(BaseModel):
    """Every recipient of an announcement has a final outcome. ``segments`` is the total of
    SMS segments sent for it, what its client's allowance is charged."""

    announcement_id: UUID
    client_id: UUID
    recipients: int
    sent: int
    delivered: int
    failed: int
    stopped: int
    segments: int
    completed_at: datetime


class ScheduleRefusedData(BaseModel):
    """A scheduled announcement did not start at its time: checked again then, as "Send now"
    is checked, it was refused. ``refusal`` says why: ``no_active_plan``, ``no_subscribers``,
    ``too_long`` or ``allowance_exceeded``."""

    schedule_id: UUID
    client_id: UUID
    refusal: str
    body: str
    run_at: datetime
    time_zone: str
    refused_at: datetime


client_created = REGISTRY.declare("user.client.created", CLIENTS, ClientData)
client_updated = REGISTRY.declare("user.client.updated", CLIENTS, ClientData)
membership_joined = REGISTRY.declare("user.membership.joined", MEMBERSHIPS, MembershipData)
membership_stopped = REGISTRY.declare("user.membership.stopped", MEMBERSHIPS, MembershipData)
membership_restarted = REGISTRY.declare("user.membership.restarted", MEMBERSHIPS, MembershipData)
announcement_confirmed = REGISTRY.declare(
    "user.announcement.confirmed", ANNOUNCEMENTS, AnnouncementConfirmedData
)
announcement_completed = REGISTRY.declare(
    "user.announcement.completed", ANNOUNCEMENTS, AnnouncementCompletedData
)
schedule_refused = REGISTRY.declare(
    "user.scheduled-announcement.refused", ANNOUNCEMENTS, ScheduleRefusedData
)
