"""Every SMS text of Nudges: the message keys, declared once, and the client of LocalizationApi.

A service never writes an SMS text itself: it asks LocalizationApi to render a declared
message in the recipient's locale::

    async with LocalizationClient(settings.localization_url) as l10n:
        text = await l10n.render(OTP_CODE, user.locale, code="123456", minutes=5)

The declarations below are also the source that ``make l10n-extract`` reads (``pybabel
extract``) to build the catalog template of LocalizationApi; the ``TRANSLATORS:`` comments
above them reach the translators.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self, TypeVar, cast

import grpc
from grpc import aio
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from nudges_kit._generated.localization.v1 import localization_pb2 as pb
from nudges_kit._generated.localization.v1 import localization_pb2_grpc as pb_grpc
from nudges_kit.telemetry import exporting

if TYPE_CHECKING:
    from nudges_kit._generated.localization.v1.localization_pb2_grpc import (
        LocalizationServiceAsyncStub as _Stub,
    )

# ---------------------------------------------------------------------------------------------
# The messages


@dataclass(frozen=True)
class Message:
    """One SMS text: its stable key and the parameters its texts take.

    ``numbers`` are integer parameters, written in the locale's number format; ``plural``,
    when set, is the number parameter that selects the plural form of the text.
    """

    key: str
    params: tuple[str, ...]
    numbers: frozenset[str] = frozenset()
    plural: str | None = None

    def __str__(self) -> str:
        return self.key


#: Every declared message, by key.
MESSAGES: dict[str, Message] = {}


def message(key: str, *params: str, numbers: Iterable[str] = ()) -> Message:
    """Declare a message whose text has one form."""
    return _declare(Message(key, params, frozenset(numbers)))


def plural_message(
    key: str, *params: str, plural: str = "count", numbers: Iterable[str] = ()
) -> Message:
    """Declare a message whose text has plural forms, selected by the ``plural`` number."""
    return _declare(Message(key, params, frozenset({plural, *numbers}), plural))


def _declare(declared: Message) -> Message:
    if declared.key in MESSAGES:
        raise ValueError(f"message {declared.key!r} is declared twice")
    unknown = declared.numbers - set(declared.params)
    if unknown:
        raise ValueError(f"message {declared.key!r}: numbers {sorted(unknown)} are not params")
    MESSAGES[declared.key] = declared
    return declared


# One-time codes (AuthApi).

# TRANSLATORS: {code} is the six-digit login code; {minutes} how long it stays valid.
OTP_CODE = message("otp.code", "code", "minutes", numbers=["minutes"])

# The SMS dialogue with a client (webhooks).

# TRANSLATORS: reply to a client's draft. CONFIRM and CANCEL are keywords: keep them in
# English. {count} subscribers will receive it; {segments} SMS segments per copy.
DIALOGUE_DRAFT_CONFIRM = plural_message(
    "dialogue.draft.confirm", "count", "segments", numbers=["segments"]
)
# TRANSLATORS: reply to a client's draft. CONFIRM and CANCEL are keywords: keep them in
# English. {count} subscribers will receive it, each in their own language; {segments} SMS
# segments in all (copies in other languages can be longer).
DIALOGUE_DRAFT_CONFIRM_TOTAL = plural_message(
    "dialogue.draft.confirm_total", "count", "segments", numbers=["segments"]
)
# TRANSLATORS: reply to CONFIRM; {count} is the number of subscribers.
DIALOGUE_SENT = plural_message("dialogue.sent", "count")
# TRANSLATORS: reply to a CONFIRM of a message that is already being sent to {count}.
DIALOGUE_ALREADY_CONFIRMED = plural_message("dialogue.already_confirmed", "count")
# TRANSLATORS: reply to a repeated CONFIRM of the message beginning {start}, which is already
# being sent to {count} subscribers.
DIALOGUE_ALREADY_CONFIRMED_QUOTED = plural_message(
    "dialogue.already_confirmed_quoted", "count", "start"
)
# TRANSLATORS: reply to CANCEL: the draft is discarded.
DIALOGUE_CANCELED = message("dialogue.canceled")
# TRANSLATORS: reply to CONFIRM or CANCEL when there is no draft.
DIALOGUE_NO_DRAFT = message("dialogue.no_draft")
# TRANSLATORS: reply to a client's draft when they have no subscriber yet.
DIALOGUE_NO_SUBSCRIBERS = message("dialogue.no_subscribers")
# TRANSLATORS: reply to a client whose plan is not active; nothing is sent.
DIALOGUE_NO_ACTIVE_PLAN = message("dialogue.no_active_plan")
# TRANSLATORS: added to every reply to a client's draft while their plan is past due: the last
# payment failed, and they can send for {days} more days (the grace period) unless they pay.
DIALOGUE_PAYMENT_GRACE = plural_message("dialogue.payment_grace", "days", plural="days")
# TRANSLATORS: reply to CONFIRM past the plan's allowance: {count} messages are left in the
# billing period, the announcement needs {needed}.
DIALOGUE_ALLOWANCE_EXCEEDED = plural_message(
    "dialogue.allowance_exceeded", "count", "needed", numbers=["needed"]
)
# TRANSLATORS: reply to HELP from a client.
DIALOGUE_CLIENT_HELP = message("dialogue.client_help")
# TRANSLATORS: reply to a client's text that is too long to send once the client's name and the
# opt-out line are added; {max} is how many characters their text may have.
DIALOGUE_TOO_LONG = plural_message("dialogue.too_long", "max", plural="max")

# The SMS dialogue with a subscriber (webhooks). Carrier rules: HELP, STOP and START replies
# name the programme (Nudges) and the keywords, which stay in English.

# TRANSLATORS: reply to HELP from a subscriber.
DIALOGUE_HELP = message("dialogue.help")
# TRANSLATORS: reply to STOP: the number is unsubscribed from everyone and gets nothing more.
DIALOGUE_STOPPED = message("dialogue.stopped")
# TRANSLATORS: reply to START: the number's subscriptions are restored.
DIALOGUE_RESTARTED = message("dialogue.restarted")
# TRANSLATORS: reply to a number Nudges does not know.
DIALOGUE_UNKNOWN_NUMBER = message("dialogue.unknown_number")

# Joining a client by text (webhooks): JOIN <name> or a client's keyword, then YES. Carrier
# rules: the question names the programme (the client), how often it texts, HELP and STOP.

# TRANSLATORS: reply to JOIN: asks to confirm with YES. {client_name} is who they asked to
# join; {frequency} is one of the dialogue.join.frequency_* sentences. YES, HELP and STOP are
# keywords: keep them in English.
DIALOGUE_JOIN_ASK = message("dialogue.join.ask", "client_name", "frequency")
# TRANSLATORS: a sentence inside dialogue.join.ask: the client sends at most {count} messages a
# week.
DIALOGUE_JOIN_FREQUENCY_WEEK = plural_message("dialogue.join.frequency_week", "count")
# TRANSLATORS: as dialogue.join.frequency_week, per month.
DIALOGUE_JOIN_FREQUENCY_MONTH = plural_message("dialogue.join.frequency_month", "count")
# TRANSLATORS: as dialogue.join.frequency_week, per year.
DIALOGUE_JOIN_FREQUENCY_YEAR = plural_message("dialogue.join.frequency_year", "count")
# TRANSLATORS: a sentence inside dialogue.join.ask when the number of messages is not known.
DIALOGUE_JOIN_FREQUENCY_VARIES = message("dialogue.join.frequency_varies")
# TRANSLATORS: reply to YES: the number now receives {client_name}'s messages. Short: the
# welcome (membership.welcome, with HELP and STOP) follows at once.
DIALOGUE_JOINED = message("dialogue.joined", "client_name")
# TRANSLATORS: reply to YES when no JOIN is waiting for it (none, or older than a day).
DIALOGUE_NOTHING_TO_ACCEPT = message("dialogue.nothing_to_accept")
# TRANSLATORS: reply to JOIN with a name no one on Nudges uses, or to JOIN alone: how to join.
# JOIN is a keyword: keep it in English.
DIALOGUE_HOW_TO_JOIN = message("dialogue.how_to_join")
# TRANSLATORS: reply to LANG: Nudges now texts this number in this language (say it in the
# language itself).
DIALOGUE_LANGUAGE_SET = message("dialogue.language_set")
# TRANSLATORS: reply to LANG with a language Nudges does not have; {languages} lists the codes
# it has, e.g. "en, es, fr, de". LANG is a keyword: keep it in English.
DIALOGUE_LANGUAGE_UNKNOWN = message("dialogue.language_unknown", "languages")
# TRANSLATORS: reply to anyone when Nudges could not handle their text (a service of Nudges
# did not answer); nothing was done, they may text again.
DIALOGUE_TRY_AGAIN = message("dialogue.try_again")

# Announcements (fan-out, consumers).

# TRANSLATORS: every announcement: {client_name} who sends it, {body} their text, verbatim.
ANNOUNCEMENT_BODY = message("announcement.body", "client_name", "body")
# TRANSLATORS: the line after every announcement.
ANNOUNCEMENT_OPT_OUT = message("announcement.opt_out")
# TRANSLATORS: to the client when sending is done: to {sent} subscribers, {delivered} of them
# delivered and {failed} failed.
ANNOUNCEMENT_DONE = plural_message(
    "announcement.done",
    "sent",
    "delivered",
    "failed",
    plural="sent",
    numbers=["delivered", "failed"],
)

# Scheduled announcements (consumers): to the client when one was not started at its time.

# TRANSLATORS: {start} is the beginning of the announcement; the client has no active plan.
SCHEDULE_REFUSED_NO_ACTIVE_PLAN = message("schedule.refused.no_active_plan", "start")
# TRANSLATORS: {start} is the beginning of the announcement; nobody is subscribed.
SCHEDULE_REFUSED_NO_SUBSCRIBERS = message("schedule.refused.no_subscribers", "start")
# TRANSLATORS: {start} is the beginning of the announcement; a copy is longer than an SMS
# may be.
SCHEDULE_REFUSED_TOO_LONG = message("schedule.refused.too_long", "start")
# TRANSLATORS: {start} is the beginning of the announcement; the plan has not enough SMS left.
SCHEDULE_REFUSED_ALLOWANCE_EXCEEDED = message("schedule.refused.allowance_exceeded", "start")

# Memberships (consumers).

# TRANSLATORS: to a new subscriber of {client_name}.
MEMBERSHIP_WELCOME = message("membership.welcome", "client_name")
# TRANSLATORS: to a subscriber who left {client_name} (not by STOP).
MEMBERSHIP_STOPPED = message("membership.stopped", "client_name")
# TRANSLATORS: to the client: someone subscribed; they now have {count} subscribers.
MEMBERSHIP_NEW_SUBSCRIBER = plural_message("membership.new_subscriber", "count")
# TRANSLATORS: to the client: someone unsubscribed; they now have {count} subscribers.
MEMBERSHIP_SUBSCRIBER_LEFT = plural_message("membership.subscriber_left", "count")
# TRANSLATORS: to the client, at most once an hour: since the last such message {joined}
# people subscribed and {left} unsubscribed; they now have {count} subscribers.
MEMBERSHIP_DIGEST = plural_message(
    "membership.digest", "joined", "left", "count", numbers=["joined", "left"]
)

# Clients and their plans (consumers).

# TRANSLATORS: to a new client, {client_name} is the name they chose.
CLIENT_WELCOME = message("client.welcome", "client_name")
# TRANSLATORS: {plan_name} is the name of the plan, e.g. "Pro".
PLAN_ACTIVATED = message("plan.activated", "plan_name")
# TRANSLATORS: a renewal payment of the plan {plan_name} failed.
PLAN_PAYMENT_FAILED = message("plan.payment_failed", "plan_name")
# TRANSLATORS: the plan {plan_name} ended; the client can no longer send.
PLAN_CANCELED = message("plan.canceled", "plan_name")
# TRANSLATORS: the free trial of the plan {plan_name} ends in {count} days (usually 3); the
# first payment is taken then, unless the client cancels before.
PLAN_TRIAL_ENDING = plural_message("plan.trial_ending", "plan_name", "count")


# ---------------------------------------------------------------------------------------------
# The client


class LocalizationError(Exception):
    """LocalizationApi could not render a text."""


class MissingMessage(LocalizationError):
    """No catalog has the key."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or f"no message {key!r}")
        self.key = key


class MissingParameter(LocalizationError):
    """The text needs a parameter the call did not give (or gave empty)."""

    def __init__(self, key: str, parameter: str, detail: str = "") -> None:
        super().__init__(detail or f"message {key!r} needs parameter {parameter!r}")
        self.key = key
        self.parameter = parameter


class InvalidParameter(LocalizationError):
    """A number parameter is not an integer."""

    def __init__(self, key: str, parameter: str, detail: str = "") -> None:
        super().__init__(detail or f"parameter {parameter!r} of {key!r} must be an integer")
        self.key = key
        self.parameter = parameter


class LocalizationUnavailable(LocalizationError):
    """LocalizationApi did not answer in time, even after retries."""


#: Trailing metadata LocalizationApi sets on an error (see the proto).
ERROR_METADATA: Final = "nudges-error"
KEY_METADATA: Final = "nudges-key"
PARAMETER_METADATA: Final = "nudges-parameter"

_T = TypeVar("_T")
ParamValue = str | int


class LocalizationClient:
    """Typed async client of LocalizationApi over one reused gRPC channel.

    Every call has a deadline of ``timeout`` seconds; a call that finds the service
    unavailable is retried ``attempts`` times in all, with jittered backoff. Errors arrive as
    :class:`MissingMessage`, :class:`MissingParameter`, :class:`InvalidParameter` or
    :class:`LocalizationUnavailable`.
    """

    def __init__(self, target: str, timeout: float = 1.0, *, attempts: int = 3) -> None:
        self.target = target
        self.timeout = timeout
        self.attempts = attempts
        self._channel: aio.Channel | None = None
        self._stub: _Stub | None = None

    async def render(self, key: str | Message, locale: str, /, **params: ParamValue) -> str:
        """The text of ``key`` in ``locale`` (or its fallback) with ``params`` filled in."""
        request = pb.RenderRequest(key=str(key), locale=locale, params=_strings(params))
        response: pb.RenderResponse = await self._call(
            str(key), lambda stub: stub.Render(request, timeout=self.timeout)
        )
        return response.text

    async def render_many(
        self, key: str | Message, locales: Iterable[str], /, **params: ParamValue
    ) -> dict[str, str]:
        """The text of ``key`` in each of ``locales``, keyed by the locale as given.

        Each distinct locale is rendered once, in one call.
        """
        wanted = list(dict.fromkeys(locales))
        if not wanted:
            return {}
        request = pb.RenderManyRequest(key=str(key), locales=wanted, params=_strings(params))
        response: pb.RenderManyResponse = await self._call(
            str(key), lambda stub: stub.RenderMany(request, timeout=self.timeout)
        )
        return {locale: rendering.text for locale, rendering in response.renderings.items()}

    async def close(self) -> None:
        """Close the channel (a later call opens a new one)."""
        if self._channel is not None:
            channel, self._channel, self._stub = self._channel, None, None
            await channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _connect(self) -> _Stub:
        if self._stub is None:
            # Spans per render cost more than the render itself: only when they are exported.
            interceptors = (
                aio_client_interceptors()  # type: ignore[no-untyped-call]
                if exporting()
                else None
            )
            self._channel = aio.insecure_channel(self.target, interceptors=interceptors)
            self._stub = cast("_Stub", pb_grpc.LocalizationServiceStub(self._channel))
        return self._stub

    async def _call(self, key: str, call: Callable[[_Stub], Awaitable[_T]]) -> _T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
            retry=retry_if_exception(_is_unavailable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await call(self._connect())
        except aio.AioRpcError as exc:
            raise error_from_rpc(key, exc) from exc
        raise AssertionError("unreachable: tenacity returns or raises")


def _strings(params: Mapping[str, ParamValue]) -> dict[str, str]:
    return {name: str(value) for name, value in params.items()}


def _is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, aio.AioRpcError) and exc.code() == grpc.StatusCode.UNAVAILABLE


def error_from_rpc(key: str, exc: aio.AioRpcError) -> LocalizationError:
    """The exception of a failed call, from its status and trailing metadata."""
    meta = {k: v for k, v in (exc.trailing_metadata() or ()) if isinstance(v, str)}
    code, detail = exc.code(), exc.details() or ""
    key = meta.get(KEY_METADATA, key)
    parameter = meta.get(PARAMETER_METADATA, "")
    if code == grpc.StatusCode.NOT_FOUND:
        return MissingMessage(key, detail)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        if meta.get(ERROR_METADATA) == "invalid-parameter":
            return InvalidParameter(key, parameter, detail)
        return MissingParameter(key, parameter, detail)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return LocalizationUnavailable(f"LocalizationApi unavailable: {code.name}: {detail}")
    return LocalizationError(f"LocalizationApi failed: {code.name}: {detail}")
