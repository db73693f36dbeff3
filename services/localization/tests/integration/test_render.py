"""LocalizationApi over gRPC, as the other services use it: the real server process, the
kit's client and the raw stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from nudges_kit._generated.localization.v1 import localization_pb2 as pb
from nudges_kit._generated.localization.v1 import localization_pb2_grpc as pb_grpc
from nudges_kit.localization import (
    ANNOUNCEMENT_BODY,
    ANNOUNCEMENT_DONE,
    ANNOUNCEMENT_OPT_OUT,
    DIALOGUE_DRAFT_CONFIRM,
    DIALOGUE_SENT,
    MEMBERSHIP_NEW_SUBSCRIBER,
    MESSAGES,
    OTP_CODE,
    InvalidParameter,
    LocalizationClient,
    Message,
    MissingMessage,
    MissingParameter,
)

from ..conftest import RunningLocalization

LOCALES = ("en", "es", "fr", "de")


def sample_params(message: Message) -> dict[str, str]:
    """A value for every parameter: numbers 3, text ``<name>-value``."""
    return {p: "3" if p in message.numbers else f"{p}-value" for p in message.params}


@pytest.fixture
async def stub(
    localization_server: RunningLocalization,
) -> AsyncIterator[pb_grpc.LocalizationServiceStub]:
    async with aio.insecure_channel(localization_server.grpc_target) as channel:
        yield pb_grpc.LocalizationServiceStub(channel)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", sorted(MESSAGES))
async def test_every_message_renders_in_every_locale(
    stub: pb_grpc.LocalizationServiceStub, key: str, locale: str
) -> None:
    message = MESSAGES[key]
    params = sample_params(message)

    response = await stub.Render(pb.RenderRequest(key=key, locale=locale, params=params), timeout=5)

    assert response.locale == locale
    assert response.text.strip()
    assert "{" not in response.text
    assert "}" not in response.text
    for value in params.values():
        assert value in response.text


async def test_the_texts_the_spec_names(localization: LocalizationClient) -> None:
    assert (
        await localization.render(OTP_CODE, "en", code="482913", minutes=5)
        == "Your Nudges code is 482913. It expires in 5 minutes."
    )
    assert (
        await localization.render(ANNOUNCEMENT_BODY, "en", client_name="Yoga Jo", body="Class at 6")
        == "Yoga Jo: Class at 6"
    )
    assert await localization.render(ANNOUNCEMENT_OPT_OUT, "en") == "Reply STOP to unsubscribe"
    confirm = await localization.render(DIALOGUE_DRAFT_CONFIRM, "en", count=120, segments=2)
    assert "CONFIRM" in confirm
    assert "CANCEL" in confirm
    assert "120 subscribers" in confirm
    assert "(2 SMS)" in confirm


async def test_a_code_keeps_its_leading_zero(localization: LocalizationClient) -> None:
    text = await localization.render(OTP_CODE, "de", code="012345", minutes=5)

    assert text == "Ihr Nudges-Code lautet 012345. Er läuft in 5 Minuten ab."


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        ("en", 1, "Sent to 1 subscriber."),
        ("en", 5, "Sent to 5 subscribers."),
        ("en", 0, "Sent to 0 subscribers."),
        ("es", 1, "Enviado a 1 suscriptor."),
        ("es", 5, "Enviado a 5 suscriptores."),
        ("es", 0, "Enviado a 0 suscriptores."),
        # French counts zero as singular.
        ("fr", 0, "Envoyé à 0 abonné."),
        ("fr", 1, "Envoyé à 1 abonné."),
        ("fr", 5, "Envoyé à 5 abonnés."),
        ("de", 1, "An 1 Abonnenten gesendet."),
    ],
)
async def test_plural_forms_follow_the_language(
    localization: LocalizationClient, locale: str, count: int, expected: str
) -> None:
    assert await localization.render(DIALOGUE_SENT, locale, count=count) == expected


async def test_a_declared_number_other_than_count_selects_the_plural(
    localization: LocalizationClient,
) -> None:
    one = await localization.render(ANNOUNCEMENT_DONE, "en", sent=1, delivered=1, failed=0)
    many = await localization.render(ANNOUNCEMENT_DONE, "en", sent=7, delivered=6, failed=1)

    assert one == "Your announcement was sent to 1 subscriber. Delivered: 1, failed: 0."
    assert many == "Your announcement was sent to 7 subscribers. Delivered: 6, failed: 1."


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Sent to 12,345 subscribers."),
        ("de", "An 12.345 Abonnenten gesendet."),
        ("fr", "Envoyé à 12 345 abonnés."),
        ("es", "Enviado a 12.345 suscriptores."),
    ],
)
async def test_numbers_are_written_the_locale_s_way(
    localization: LocalizationClient, locale: str, expected: str
) -> None:
    assert await localization.render(DIALOGUE_SENT, locale, count=12345) == expected


@pytest.mark.parametrize(
    ("requested", "used"),
    [
        ("es-MX", "es"),
        ("es_MX", "es"),
        ("ES-mx", "es"),
        ("fr-CA", "fr"),
        ("de_AT", "de"),
        ("pt-BR", "en"),
        ("xx", "en"),
        ("", "en"),
        ("not a locale!", "en"),
    ],
)
async def test_locales_fall_back_to_the_language_then_english(
    stub: pb_grpc.LocalizationServiceStub, requested: str, used: str
) -> None:
    request = pb.RenderRequest(key=DIALOGUE_SENT.key, locale=requested, params={"count": "2"})

    response = await stub.Render(request, timeout=5)

    assert response.locale == used


async def test_an_unknown_key_is_not_found_and_named(
    stub: pb_grpc.LocalizationServiceStub, localization: LocalizationClient
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await stub.Render(pb.RenderRequest(key="dialogue.nope", locale="en"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "dialogue.nope" in (raised.value.details() or "")

    with pytest.raises(MissingMessage) as missing:
        await localization.render("dialogue.nope", "es")
    assert missing.value.key == "dialogue.nope"


async def test_a_missing_parameter_is_invalid_and_named(
    stub: pb_grpc.LocalizationServiceStub, localization: LocalizationClient
) -> None:
    request = pb.RenderRequest(key=OTP_CODE.key, locale="fr", params={"code": "123456"})
    with pytest.raises(aio.AioRpcError) as raised:
        await stub.Render(request, timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "minutes" in (raised.value.details() or "")

    with pytest.raises(MissingParameter) as missing:
        await localization.render(ANNOUNCEMENT_BODY, "en", client_name="Yoga Jo")
    assert (missing.value.key, missing.value.parameter) == ("announcement.body", "body")


async def test_a_blank_parameter_counts_as_missing(localization: LocalizationClient) -> None:
    with pytest.raises(MissingParameter) as missing:
        await localization.render(ANNOUNCEMENT_BODY, "en", client_name=" ", body="Hello")

    assert missing.value.parameter == "client_name"


async def test_a_plural_needs_its_number(localization: LocalizationClient) -> None:
    with pytest.raises(MissingParameter) as missing:
        await localization.render(DIALOGUE_SENT, "en")
    assert missing.value.parameter == "count"

    with pytest.raises(InvalidParameter) as invalid:
        await localization.render(DIALOGUE_SENT, "en", count="many")
    assert invalid.value.parameter == "count"


async def test_render_many_returns_every_locale_as_requested(
    localization: LocalizationClient,
) -> None:
    texts = await localization.render_many(
        ANNOUNCEMENT_OPT_OUT, ["en", "es-MX", "fr", "de", "xx", "es-MX"]
    )

    assert texts == {
        "en": "Reply STOP to unsubscribe",
        "es-MX": "Responde STOP para darte de baja",
        "fr": "Répondez STOP pour vous désabonner",
        "de": "Antworten Sie STOP zum Abmelden",
        "xx": "Reply STOP to unsubscribe",
    }


async def test_render_many_renders_each_locale_once(
    stub: pb_grpc.LocalizationServiceStub, localization_server: RunningLocalization
) -> None:
    key = MEMBERSHIP_NEW_SUBSCRIBER.key
    before = {
        loc: localization_server.metric("nudges_localization_renders_total", key=key, locale=loc)
        for loc in LOCALES
    }
    request = pb.RenderManyRequest(
        key=key,
        locales=["es-MX", "es", "es_mx", "fr", "fr-CA", "xx", "en", "pt-BR"],
        params={"count": "4"},
    )

    response = await stub.RenderMany(request, timeout=5)

    assert {k: v.locale for k, v in response.renderings.items()} == {
        "es-MX": "es",
        "es": "es",
        "es_mx": "es",
        "fr": "fr",
        "fr-CA": "fr",
        "xx": "en",
        "en": "en",
        "pt-BR": "en",
    }
    assert (
        response.renderings["es_mx"].text
        == "¡Tienes un nuevo suscriptor! Ahora tienes 4 suscriptores."
    )
    after = {
        loc: localization_server.metric("nudges_localization_renders_total", key=key, locale=loc)
        for loc in LOCALES
    }
    assert {loc: after[loc] - before[loc] for loc in LOCALES} == {
        "en": 1,
        "es": 1,
        "fr": 1,
        "de": 0,
    }


async def test_render_many_refuses_a_missing_parameter(localization: LocalizationClient) -> None:
    with pytest.raises(MissingParameter) as missing:
        await localization.render_many(ANNOUNCEMENT_BODY, ["en", "fr"], body="Hello")

    assert missing.value.parameter == "client_name"


async def test_render_many_of_no_locale_is_empty(
    stub: pb_grpc.LocalizationServiceStub, localization: LocalizationClient
) -> None:
    response = await stub.RenderMany(pb.RenderManyRequest(key=OTP_CODE.key), timeout=5)

    assert dict(response.renderings) == {}
    assert await localization.render_many(OTP_CODE, []) == {}


async def test_errors_are_counted(
    localization: LocalizationClient, localization_server: RunningLocalization
) -> None:
    before = localization_server.metric(
        "nudges_localization_render_errors_total", reason="missing-message"
    )
    with pytest.raises(MissingMessage):
        await localization.render("no.such.key", "en")

    after = localization_server.metric(
        "nudges_localization_render_errors_total", reason="missing-message"
    )
    assert after == before + 1


async def test_health_is_serving(localization_server: RunningLocalization) -> None:
    async with aio.insecure_channel(localization_server.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "localization.v1.LocalizationService"):
            response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(localization_server: RunningLocalization) -> None:
    async with aio.insecure_channel(localization_server.grpc_target) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = set()
        async for response in reflection.ServerReflectionInfo(iter([request]), timeout=5):
            names |= {s.name for s in response.list_services_response.service}

    assert {"localization.v1.LocalizationService", "grpc.health.v1.Health"} <= names


def test_ready_reports_catalogs_and_grpc(localization_server: RunningLocalization) -> None:
    import httpx

    response = httpx.get(f"{localization_server.http_url}/readyz", timeout=5)

    assert response.status_code == 200
    assert response.json()["checks"] == {"catalogs": "ok", "grpc": "ok"}
