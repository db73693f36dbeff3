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


class LocaleAudience(OperationModel):
    locale: str
    count: int


class IdentifiedClient(OperationModel):
    """The client account of a phone number."""

    id: str
    name: str
    locale: str
    subscriber_count: int
    audience_locales: list[LocaleAudience]


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
        client { id name locale subscriberCount audienceLocales { locale count } }
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


class ClientMatch(StrEnum):
    """What ``clientBySlug`` matches ``slug`` against."""

    SLUG = "SLUG"
    #: ``JOIN <word>``: a client's slug, else its keyword.
    SLUG_OR_KEYWORD = "SLUG_OR_KEYWORD"
    #: A word texted alone: only a client's keyword (in any case).
    KEYWORD = "KEYWORD"


class ClientToJoinVars(OperationModel):
    word: str
    match: ClientMatch = ClientMatch.SLUG_OR_KEYWORD


class ClientToJoin(OperationModel):
    """The client a text to Nudges asks to join."""

    id: str
    name: str
    slug: str


#: Webhooks (the SMS dialogue): the client of ``JOIN <word>`` or of a keyword (None: nobody),
#: through the public lookup of a client's page.
client_to_join = CATALOG.declare(
    Subgraph.USER,
    """
    query ClientToJoin($word: String!, $match: ClientMatch!) {
      clientBySlug(slug: $word, match: $match) { id name slug }
    }""",
    ClientToJoinVars,
    ClientToJoin | None,
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


class ClientVars(OperationModel):
    id: str


class ClientProfile(OperationModel):
    """How a client appears in the notices sent to them: name, language, audience size."""

    id: str
    name: str
    locale: str
    subscriber_count: int


#: Consumers (notifications): the client a notice is about (None: no such client).
client_profile = CATALOG.declare(
    Subgraph.USER,
    """
    query ClientProfile($id: ID!) {
      client(id: $id) { id name locale subscriberCount }
    }""",
    ClientVars,
    ClientProfile | None,
)


class UserIdVars(OperationModel):
    user_id: str


class Contact(OperationModel):
    """Where an SMS to a user goes (the number in ciphertext), and in which language."""

    locale: str
    phone_ciphertext: str


#: Consumers (notifications): how to text a user; a client's id is its user's (None: unknown).
user_contact = CATALOG.declare(
    Subgraph.USER,
    """
    query UserContact($userId: ID!) {
      contact(userId: $userId) { locale phoneCiphertext }
    }""",
    UserIdVars,
    Contact | None,
)


class Recipient(OperationModel):
    """A subscriber to text, in their language, at their number (in ciphertext)."""

    subscriber_id: str
    locale: str
    phone_ciphertext: str


class ActiveMembersVars(OperationModel):
    client_id: str
    subscriber_ids: list[str]


class ActiveMembers(OperationModel):
    """Those of the subscribers asked about whose membership of the client is active."""

    recipients: list[Recipient]


#: Consumers (notifications): whether a new member is still active, and how to text them.
active_members = CATALOG.declare(
    Subgraph.USER,
    """
    query ActiveMembers($clientId: ID!, $subscriberIds: [ID!]!) {
      announcementRecipients(clientId: $clientId, subscriberIds: $subscriberIds) {
        recipients { subscriberId locale phoneCiphertext }
      }
    }""",
    ActiveMembersVars,
    ActiveMembers,
)


class AnnouncementClient(OperationModel):
    id: str
    name: str
    #: The client keeps quiet hours for their audience (SPEC §5).
    quiet_hours: bool = True


class AnnouncementToFanOut(OperationModel):
    """What the fan-out renders of a confirmed announcement: its text and its client's name,
    and whether the client keeps quiet hours."""

    id: str
    body: str
    client: AnnouncementClient


#: Consumers (fan-out): the announcement to send (None: no such announcement).
announcement_to_fan_out = CATALOG.declare(
    Subgraph.USER,
    """
    query AnnouncementToFanOut($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on Announcement { id body client { id name quietHours } }
      }
    }""",
    EntitiesVars,
    list[AnnouncementToFanOut | None],
)


class AudiencePageVars(OperationModel):
    client_id: str
    announcement_id: str
    first: int
    #: The last subscriber id of the page before (None: the first page).
    after: str | None = None


class AudiencePage(OperationModel):
    """One page of an announcement's audience, in subscriber-id order."""

    recipients: list[Recipient]
    #: What ``after`` asks for the next page (None: this page is the last).
    next_after: str | None


#: Consumers (fan-out): the audience of an announcement, page by page (at most 5,000 each).
audience_page = CATALOG.declare(
    Subgraph.USER,
    """
    query AudiencePage($clientId: ID!, $announcementId: ID!, $first: Int!, $after: ID) {
      announcementRecipients(
        clientId: $clientId, announcementId: $announcementId, first: $first, after: $after
      ) {
        recipients { subscriberId locale phoneCiphertext }
        nextAfter
      }
    }""",
    AudiencePageVars,
    AudiencePage,
)


class RecipientsToSendVars(OperationModel):
    client_id: str
    announcement_id: str
    subscriber_ids: list[str]


class RecipientToSend(OperationModel):
    subscriber_id: str


class RecipientsToSend(OperationModel):
    """Those of the subscribers asked about whose copy of the announcement may go now."""

    recipients: list[RecipientToSend]


#: Consumers (sending): which copies of a work item may be sent, right before the first
#: attempt (a subscriber who texted STOP since the confirmation is left out).
recipients_to_send = CATALOG.declare(
    Subgraph.USER,
    """
    query RecipientsToSend($clientId: ID!, $announcementId: ID!, $subscriberIds: [ID!]!) {
      announcementRecipients(
        clientId: $clientId, announcementId: $announcementId, subscriberIds: $subscriberIds
      ) {
        recipients { subscriberId }
      }
    }""",
    RecipientsToSendVars,
    RecipientsToSend,
)
