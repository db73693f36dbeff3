"""The SMS dialogue (SPEC §5): what Nudges answers a text sent to its number.

A client with an active plan texts an announcement; it becomes a draft and the reply asks
for CONFIRM or CANCEL with the audience and the segment count; CONFIRM creates the
announcement once (the fan-out of its ``user.announcement.confirmed`` sends it). Subscribers
STOP, START and ask for HELP; unknown numbers are told how to join. Anyone joins a client by
text with a double opt-in: ``JOIN <slug>`` (or the client's keyword alone) is kept for a day
and answered with who the client is, how often they text, HELP and STOP; ``YES`` makes the
membership (source ``sms``), whose ``user.membership.joined`` brings the welcome. ``LANG``
sets the language of the number's replies. The rules of who gets what are
:func:`nudges_webhooks.domain.dialogue.action_for`.

Every reply is rendered by LocalizationApi in the sender's language. Nothing is sent from
here, every call has a short timeout, and a dependency that fails gets the sender a short
"try again" rather than an error Twilio would drop. Only the number's keyed hash is used in
calls and logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from uuid import UUID

from aiokafka.errors import KafkaError

from nudges_kit import localization as texts
from nudges_kit.announcement_copies import quote_announcement
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import sms
from nudges_kit.localization import (
    LocalizationClient,
    LocalizationError,
    LocalizationUnavailable,
    Message,
    ParamValue,
)
from nudges_kit.logging import get_logger
from nudges_kit.operations import product as product_ops
from nudges_kit.operations import user as user_ops
from nudges_kit.operations.declaration import EntitiesVars, Representation
from nudges_kit.operations.user import (
    ClientToJoin,
    IdentifiedClient,
    MembershipStatus,
    PhoneIdentity,
)
from nudges_kit.phone import InvalidPhoneNumber, PhoneVault, normalize
from nudges_kit.service_client import ServiceCallError, ServiceClient
from nudges_kit.sms_text import first_words
from nudges_kit.warpcache import CacheError
from nudges_webhooks.adapters.drafts import DraftStore
from nudges_webhooks.adapters.opt_ins import OptInStore
from nudges_webhooks.adapters.publisher import EventPublisher
from nudges_webhooks.domain.dialogue import (
    Action,
    Command,
    Confirmed,
    Draft,
    Frequency,
    Keyword,
    OptIn,
    Sender,
    action_for,
    clean_body,
    client_keyword_in,
    frequency_of,
    language_in,
    locale_for_number,
    parse,
    when_no_client_matches,
)

log = get_logger(__name__)

#: The only text not rendered by LocalizationApi: the reply when LocalizationApi itself does
#: not answer (the English of ``dialogue.try_again``).
TRY_AGAIN_FALLBACK = "Nudges: sorry, something went wrong on our side. Please try again soon."


class PublishFailed(Exception):
    """The broker did not take an event of the dialogue."""


#: Failures that get the sender a "try again" reply.
DEPENDENCY_ERRORS = (
    PublishFailed,
    ServiceCallError,
    CacheError,
    LocalizationError,
    TimeoutError,
)

#: The sentence of the opt-in question that says how often a client texts.
FREQUENCY_TEXTS = {
    Frequency.WEEK: texts.DIALOGUE_JOIN_FREQUENCY_WEEK,
    Frequency.MONTH: texts.DIALOGUE_JOIN_FREQUENCY_MONTH,
    Frequency.YEAR: texts.DIALOGUE_JOIN_FREQUENCY_YEAR,
}
#: Plan subscription statuses whose allowance says how often a client texts.
SENDING_STATUSES = frozenset({"ACTIVE", "PAST_DUE"})


async def publish(publisher: EventPublisher, topic: str, envelope: Envelope) -> None:
    """Publish an event of the dialogue and wait for the broker's acknowledgement (a broker
    that does not take it gets the sender a "try again")."""
    try:
        await publisher.publish(topic, envelope)
    except KafkaError as exc:
        raise PublishFailed(f"{envelope.type} not published: {exc}") from exc


@dataclass
class Turn:
    """One inbound text being answered: the number (E.164, never logged) and its keyed hash,
    and the reply language once known."""

    phone_hash: str
    e164: str
    locale: str = "en"


class Dialogue:
    """Answers each inbound text with the text of the reply. UserApi and ProductApi are called
    as the ``webhooks`` machine account, through ``subgraphs``; what changes a number's user
    or memberships at its own request (YES, LANG) is published for UserApi, their owner, to
    handle (``sms.opt-ins``)."""

    def __init__(
        self,
        subgraphs: ServiceClient,
        drafts: DraftStore,
        localization: LocalizationClient,
        vault: PhoneVault,
        deadline_seconds: float,
        opt_ins: OptInStore,
        supported_locales: tuple[str, ...],
        publisher: EventPublisher,
    ) -> None:
        self._subgraphs = subgraphs
        self._publisher = publisher
        self._drafts = drafts
        self._l10n = localization
        self._vault = vault
        self._deadline = deadline_seconds
        self._opt_ins = opt_ins
        self._locales = supported_locales

    async def answer(self, from_number: str, body: str) -> str:
        """The reply to ``body`` texted from ``from_number``; never raises for a dependency."""
        try:
            e164 = normalize(from_number)
        except InvalidPhoneNumber:
            log.warning("inbound text from a number that is not valid")
            return await self._render_or(texts.DIALOGUE_UNKNOWN_NUMBER, "en", TRY_AGAIN_FALLBACK)
        turn = Turn(self._vault.hash(e164), e164)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._answer(turn, body)
        except DEPENDENCY_ERRORS as exc:
            log.warning(
                "dialogue answered try-again",
                phone_hash=turn.phone_hash,
                error=f"{type(exc).__name__}: {exc}",
            )
            return await self._try_again(turn.locale)
        except Exception:
            # A bug, not an outage: logged as one, but the sender still gets an answer.
            log.exception("dialogue failed", phone_hash=turn.phone_hash)
            return await self._try_again(turn.locale)

    async def _answer(self, turn: Turn, body: str) -> str:
        identity = await self._subgraphs.call(
            user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash=turn.phone_hash)
        )
        client = identity.client
        sender = _sender(identity)
        turn.locale = await self._locale_of(turn, identity)
        command = parse(body)
        action = action_for(command.keyword, sender, client_keyword_in(body) is not None)
        log.info("inbound text", phone_hash=turn.phone_hash, action=action.value)
        if action is Action.CANCEL_DRAFT:
            assert client is not None
            if await self._drafts.discard(client.id):
                await self._drafts.forget_confirmed(client.id)
                return await self._render(texts.DIALOGUE_CANCELED, turn)
            action = Action.STOP_ALL
        if action in (Action.JOIN, Action.JOIN_BY_KEYWORD):
            target = await self._client_to_join(action, command, body)
            if target is not None:
                return await self._start_opt_in(turn, target)
            action = when_no_client_matches(action, sender)
        unknown_language = language_in(command.argument, self._locales) is None
        if action is Action.SET_LANGUAGE and client is not None and unknown_language:
            action = Action.DRAFT  # "Lang syne": a client's announcement
        match action:
            case Action.STOP_ALL:
                return await self._stop_all(turn, client)
            case Action.RESTART_ALL:
                await self._set_memberships(turn, MembershipStatus.ACTIVE)
                return await self._render(texts.DIALOGUE_RESTARTED, turn)
            case Action.CLIENT_HELP:
                return await self._render(texts.DIALOGUE_CLIENT_HELP, turn)
            case Action.SUBSCRIBER_HELP:
                return await self._render(texts.DIALOGUE_HELP, turn)
            case Action.HOW_TO_JOIN if command.keyword is Keyword.JOIN:
                return await self._render(texts.DIALOGUE_HOW_TO_JOIN, turn)
            case Action.HOW_TO_JOIN:
                return await self._render(texts.DIALOGUE_UNKNOWN_NUMBER, turn)
            case Action.ACCEPT_OPT_IN:
                return await self._accept_opt_in(turn)
            case Action.SET_LANGUAGE:
                return await self._set_language(turn, command)
            case Action.CONFIRM:
                assert client is not None
                return await self._confirm(turn, client)
            case Action.DRAFT:
                assert client is not None
                return await self._noting_grace(turn, client, self._draft(turn, client, body))
        raise AssertionError(f"unhandled action {action}")

    async def _locale_of(self, turn: Turn, identity: PhoneIdentity) -> str:
        """The reply language: a client's, a known user's, else that of the number's pending
        opt-in (LANG may have changed it) or of its country."""
        if identity.client is not None:
            return identity.client.locale
        if identity.user_id is not None:
            return identity.locale
        pending = await self._opt_ins.pending(turn.phone_hash)
        return pending.locale if pending else locale_for_number(turn.e164, self._locales)

    # --- joining by text: JOIN <slug> or a keyword, then YES -------------------------------

    async def _client_to_join(
        self, action: Action, command: Command, body: str
    ) -> ClientToJoin | None:
        """The client of ``JOIN <word>`` (slug, else keyword) or of a keyword alone."""
        word = command.argument if action is Action.JOIN else client_keyword_in(body)
        if not word:
            return None
        return await self._subgraphs.call(
            user_ops.client_to_join,
            user_ops.ClientToJoinVars(
                word=word,
                match=(
                    user_ops.ClientMatch.KEYWORD
                    if action is Action.JOIN_BY_KEYWORD
                    else user_ops.ClientMatch.SLUG_OR_KEYWORD
                ),
            ),
        )

    async def _start_opt_in(self, turn: Turn, target: ClientToJoin) -> str:
        """The first step of the double opt-in: kept for the number (a day), and the question
        naming the client, how often they text, HELP and STOP, asking for YES."""
        frequency, _ = await asyncio.gather(
            self._frequency(turn, target),
            self._opt_ins.start(turn.phone_hash, OptIn(target.id, target.name, turn.locale)),
        )
        log.info("opt-in started by SMS", phone_hash=turn.phone_hash, client_id=target.id)
        return await self._render(
            texts.DIALOGUE_JOIN_ASK, turn, client_name=target.name, frequency=frequency
        )

    async def _frequency(self, turn: Turn, target: ClientToJoin) -> str:
        """How often ``target`` texts: their plan's messages per billing period, or that it
        varies (no plan that sends)."""
        [cadence] = await self._subgraphs.call(
            product_ops.client_cadence,
            EntitiesVars(representations=[Representation.of("Client", target.id)]),
        )
        subscription = cadence.subscription if cadence else None
        interval, count = None, 0
        if subscription is not None and subscription.status in SENDING_STATUSES:
            features = subscription.price_tier.plan.features
            interval, count = (
                subscription.price_tier.interval,
                (features.messages_per_period if features else 0),
            )
        frequency = frequency_of(interval, count)
        if frequency is Frequency.VARIES:
            return await self._render(texts.DIALOGUE_JOIN_FREQUENCY_VARIES, turn)
        return await self._render(FREQUENCY_TEXTS[frequency], turn, count=count)

    async def _accept_opt_in(self, turn: Turn) -> str:
        """YES: the pending opt-in is taken and ``sms.opt_in.confirmed`` published; UserApi
        makes the membership (idempotent), whose ``user.membership.joined`` brings the
        welcome. The reply names the client of the opt-in at once; a repeated YES is
        answered as the first."""
        opt_in = await self._opt_ins.take(turn.phone_hash)
        if opt_in is None:
            joined = await self._opt_ins.last_joined(turn.phone_hash)
            if joined is not None:
                name = joined.client_name
                return await self._render(texts.DIALOGUE_JOINED, turn, client_name=name)
            return await self._render(texts.DIALOGUE_NOTHING_TO_ACCEPT, turn)
        confirmed = sms.opt_in_confirmed.envelope(
            turn.phone_hash,
            sms.OptInConfirmedData(
                client_id=UUID(opt_in.client_id),
                phone_hash=turn.phone_hash,
                phone_ciphertext=self._vault.encrypt(turn.e164),
                locale=opt_in.locale,
            ),
        )
        try:
            await publish(self._publisher, sms.opt_in_confirmed.topic, confirmed)
        except BaseException:
            await self._opt_ins.put_back(turn.phone_hash, opt_in)
            raise
        await self._opt_ins.remember_joined(turn.phone_hash, opt_in)
        log.info(
            "opt-in confirmed by SMS",
            phone_hash=turn.phone_hash,
            client_id=opt_in.client_id,
            event_id=str(confirmed.id),
        )
        return await self._render(texts.DIALOGUE_JOINED, turn, client_name=opt_in.client_name)

    async def _set_language(self, turn: Turn, command: Command) -> str:
        """LANG: the language of the number's profile (when Nudges has one) and of its
        pending opt-in; the reply is in that language."""
        locale = language_in(command.argument, self._locales)
        if locale is None:
            return await self._render(
                texts.DIALOGUE_LANGUAGE_UNKNOWN, turn, languages=", ".join(self._locales)
            )
        pending = await self._opt_ins.pending(turn.phone_hash)
        await publish(
            self._publisher,
            sms.locale_requested.topic,
            sms.locale_requested.envelope(
                turn.phone_hash, sms.LocaleRequestedData(phone_hash=turn.phone_hash, locale=locale)
            ),
        )
        if pending is not None:
            await self._opt_ins.start(turn.phone_hash, pending.in_language(locale))
        turn.locale = locale
        log.info("language set by SMS", phone_hash=turn.phone_hash, locale=locale)
        return await self._render(texts.DIALOGUE_LANGUAGE_SET, turn)

    async def _stop_all(self, turn: Turn, client: IdentifiedClient | None) -> str:
        """Carrier rule: the number gets nothing more. A pending opt-in and a client's waiting
        draft go too."""
        stopped = await self._set_memberships(turn, MembershipStatus.STOPPED)
        await self._opt_ins.discard(turn.phone_hash)
        if client is not None:
            await self._drafts.discard(client.id)
            await self._drafts.forget_confirmed(client.id)
        log.info("memberships stopped by SMS", phone_hash=turn.phone_hash, stopped=stopped)
        return await self._render(texts.DIALOGUE_STOPPED, turn)

    async def _set_memberships(self, turn: Turn, status: MembershipStatus) -> int:
        """STOP or START: every membership of the number; how many changed."""
        return await self._subgraphs.call(
            user_ops.set_memberships_by_phone,
            user_ops.SetMembershipsByPhoneVars(phone_hash=turn.phone_hash, status=status),
        )

    async def _noting_grace(
        self, turn: Turn, client: IdentifiedClient, reply: Awaitable[str]
    ) -> str:
        """``reply``, followed while the client's plan is past due in its grace period by the
        notice that the payment failed and how many days of sending are left (SPEC §5)."""
        text, allowance = await asyncio.gather(reply, self._allowance(client))
        if allowance.state != "GRACE" or allowance.grace_days_left is None:
            return text
        notice = await self._render(
            texts.DIALOGUE_PAYMENT_GRACE, turn, days=allowance.grace_days_left
        )
        return f"{text} {notice}"

    async def _allowance(self, client: IdentifiedClient) -> product_ops.Allowance:
        return await self._subgraphs.call(
            product_ops.client_allowance, product_ops.ClientIdVars(client_id=client.id)
        )

    async def _draft(self, turn: Turn, client: IdentifiedClient, text: str) -> str:
        """The text becomes the draft, quoted as the fan-out will send it: each subscriber's
        copy in their language (its own opt-out line), every copy within Twilio's limit."""
        body = clean_body(text)
        audience = {a.locale: a.count for a in client.audience_locales}
        allowance, quoted, _ = await asyncio.gather(
            self._allowance(client),
            quote_announcement(self._l10n, client.name, body, audience, turn.locale),
            # A CONFIRM after this text is about this text, not one confirmed before.
            self._drafts.forget_confirmed(client.id),
        )
        if allowance.active and quoted.recipients > 0 and quoted.fits:
            draft = Draft.new(body, quoted.messages, quoted.segments)
            await self._drafts.save(client.id, draft)
            return await self._render(
                texts.DIALOGUE_DRAFT_CONFIRM_TOTAL,
                turn,
                count=quoted.recipients,
                segments=draft.messages,
            )
        # The client meant this text, not an earlier one: no draft waits any more.
        await self._drafts.discard(client.id)
        if not allowance.active:
            return await self._render(texts.DIALOGUE_NO_ACTIVE_PLAN, turn)
        if quoted.recipients == 0:
            return await self._render(texts.DIALOGUE_NO_SUBSCRIBERS, turn)
        return await self._render(texts.DIALOGUE_TOO_LONG, turn, max=quoted.max_body_characters)

    async def _confirm(self, turn: Turn, client: IdentifiedClient) -> str:
        draft = await self._drafts.take(client.id)
        if draft is None:
            confirmed = await self._drafts.last_confirmed(client.id)
            if confirmed is not None:
                return await self._render(
                    texts.DIALOGUE_ALREADY_CONFIRMED_QUOTED,
                    turn,
                    count=confirmed.recipients,
                    start=confirmed.start,
                )
            return await self._render(texts.DIALOGUE_NO_DRAFT, turn)
        try:
            allowance = await self._allowance(client)
            needed = draft.messages
            if allowance.active and 0 < needed <= allowance.remaining:
                created = await self._subgraphs.call(
                    user_ops.confirm_announcement,
                    user_ops.ConfirmAnnouncementVars(
                        client_id=client.id, body=draft.body, draft_key=draft.draft_id
                    ),
                )
        except BaseException:
            # Whether or not UserApi created it, the client's next CONFIRM may retry: the
            # draft key makes the announcement once.
            await self._drafts.put_back(client.id, draft)
            raise
        # A draft that cannot be sent is not kept: the client texts again when it can be.
        if not allowance.active:
            return await self._render(texts.DIALOGUE_NO_ACTIVE_PLAN, turn)
        if needed == 0:
            return await self._render(texts.DIALOGUE_NO_SUBSCRIBERS, turn)
        if needed > allowance.remaining:
            return await self._render(
                texts.DIALOGUE_ALLOWANCE_EXCEEDED, turn, count=allowance.remaining, needed=needed
            )
        await self._drafts.remember_confirmed(
            client.id,
            Confirmed(draft.draft_id, created.id, created.recipients, first_words(draft.body)),
        )
        log.info(
            "announcement confirmed by SMS",
            announcement_id=created.id,
            client_id=client.id,
            recipients=created.recipients,
            quoted_segments=draft.messages,
            segments_by_locale=draft.segments,
        )
        return await self._render(texts.DIALOGUE_SENT, turn, count=created.recipients)

    async def _render(self, message: Message, turn: Turn, **params: ParamValue) -> str:
        return await self._l10n.render(message, turn.locale, **params)

    async def _render_or(
        self, message: Message, locale: str, fallback: str, **params: ParamValue
    ) -> str:
        """``message`` rendered, or ``fallback`` when LocalizationApi does not answer at all
        (a missing key or parameter is a fault of Nudges and is raised, not papered over)."""
        try:
            return await self._l10n.render(message, locale, **params)
        except LocalizationUnavailable as exc:
            log.warning(
                "LocalizationApi unavailable, fallback used", key=str(message), error=str(exc)
            )
            return fallback

    async def _try_again(self, locale: str) -> str:
        return await self._render_or(texts.DIALOGUE_TRY_AGAIN, locale, TRY_AGAIN_FALLBACK)


def _sender(identity: PhoneIdentity) -> Sender:
    if identity.client is not None:
        return Sender.CLIENT
    if identity.user_id is not None and identity.has_memberships:
        return Sender.SUBSCRIBER
    return Sender.UNKNOWN
