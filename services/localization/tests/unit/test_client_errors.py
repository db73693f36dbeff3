"""How the client turns gRPC statuses into the exceptions callers catch."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio

from nudges_kit.localization import (
    InvalidParameter,
    LocalizationError,
    LocalizationUnavailable,
    MissingMessage,
    MissingParameter,
    error_from_rpc,
)


def rpc_error(code: grpc.StatusCode, details: str, **trailing: str) -> aio.AioRpcError:
    metadata = aio.Metadata(*((f"nudges-{k}", v) for k, v in trailing.items()))
    return aio.AioRpcError(code, aio.Metadata(), metadata, details)


def test_not_found_is_a_missing_message() -> None:
    error = error_from_rpc(
        "otp.code", rpc_error(grpc.StatusCode.NOT_FOUND, "no message 'x.y'", key="x.y")
    )

    assert isinstance(error, MissingMessage)
    assert error.key == "x.y"
    assert str(error) == "no message 'x.y'"


def test_invalid_argument_names_the_parameter() -> None:
    missing = error_from_rpc(
        "otp.code",
        rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "needs minutes",
            error="missing-parameter",
            parameter="minutes",
        ),
    )
    invalid = error_from_rpc(
        "dialogue.sent",
        rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "not a number",
            error="invalid-parameter",
            parameter="count",
        ),
    )

    assert isinstance(missing, MissingParameter)
    assert (missing.key, missing.parameter) == ("otp.code", "minutes")
    assert isinstance(invalid, InvalidParameter)
    assert invalid.parameter == "count"


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_no_answer_is_unavailable(code: grpc.StatusCode) -> None:
    assert isinstance(error_from_rpc("otp.code", rpc_error(code, "down")), LocalizationUnavailable)


def test_anything_else_is_a_localization_error() -> None:
    error = error_from_rpc("otp.code", rpc_error(grpc.StatusCode.INTERNAL, "boom"))

    assert type(error) is LocalizationError
    assert "boom" in str(error)
