"""Operations on UserApi (``services/user``), and who calls them."""

from __future__ import annotations

from enum import StrEnum

from nudges_kit.operations.declaration import (
    CATALOG,
    EntitiesVars,
    OperationModel,
    Subgraph,
)


class PhoneHashVars(OperationModel):
    phone_hash: str


class IdentifiedClient(OperationModel):
    """The client account of a phone number."""

    id: str
    name: str
    locale: str
    subscriber_count: int


class PhoneIdentity(OperationModel):
    """Who texts the Nudges number, as UserApi knows the number's hash."""

    user_id: str | None
    locale: str
    active_memberships: int
    stopped_memberships: int
    client: IdentifiedClient | None

    @property
    def has_memberships(self) -> bool:
        return self.active_memberships + self.stopped_memberships > 0


#: Webhooks (the SMS dialogue): who a text comes from.
phone_identity = CATALOG.declare(
    Subgraph.USER,
    """
    query PhoneIdentity($phoneHash: String!) {
      phoneIdentity(phoneHash: $phoneHash) {
        userId locale activeMemberships stoppedMemberships
        client { id name locale subscriberCount }
      }
    }""",
    PhoneHashVars,
    PhoneIdentity,
)


class LoginIdentity(OperationModel):
    """What AuthApi needs of a number at login: whether it is an admin's, and its language."""

    user_id: str | None
    is_admin: bool
    locale: str

    @property
    def known(self) -> bool:
        return self.user_id is not None


#: AuthApi (OTP login): is the number an admin's, which language does it read.
login_identity = CATALOG.declare(
    Subgraph.USER,
    """
    query LoginIdentity($phoneHash: String!) {
      phoneIdentity(phoneHash: $phoneHash) { userId isAdmin locale }
    }""",
    PhoneHashVars,
    LoginIdentity,
)


class MembershipStatus(StrEnum):
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"


class SetMembershipsByPhoneVars(OperationModel):
    phone_hash: str
    status: MembershipStatus


#: Webhooks (the SMS dialogue): STOP and START; how many memberships changed.
set_memberships_by_phone = CATALOG.declare(
    Subgraph.USER,
    """
    mutation SetMembershipsByPhone($phoneHash: String!, $status: MembershipStatus!) {
      setMembershipsByPhone(phoneHash: $phoneHash, status: $status)
    }""",
    SetMembershipsByPhoneVars,
    int,
)


class ConfirmAnnouncementVars(OperationModel):
    client_id: str
    body: str
    #: The draft's id: one announcement per draft, however often CONFIRM arrives.
    draft_key: str


class ConfirmedAnnouncement(OperationModel):
    id: str
    recipients: int


#: Webhooks (the SMS dialogue): CONFIRM creates the draft's announcement, once.
confirm_announcement = CATALOG.declare(
    Subgraph.USER,
    """
    mutation ConfirmAnnouncement($clientId: ID!, $body: String!, $draftKey: String!) {
      confirmAnnouncement(clientId: $clientId, body: $body, draftKey: $draftKey) {
        id recipients
      }
    }""",
    ConfirmAnnouncementVars,
    ConfirmedAnnouncement,
)


class ClientStripeCustomer(OperationModel):
    id: str
    stripe_customer_id: str | None


#: PaymentApi (checkout): the Stripe customer of a client (None: no such client).
client_stripe_customer = CATALOG.declare(
    Subgraph.USER,
    """
    query ClientStripeCustomer($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Client { id stripeCustomerId } }
    }""",
    EntitiesVars,
    list[ClientStripeCustomer | None],
)
