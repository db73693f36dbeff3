"""Reading Stripe request parameters (all strings on the wire) into typed values, refusing
what Stripe refuses with the error Stripe gives."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from nudges_emulators.stripe.errors import (
    parameter_invalid,
    parameter_missing,
    parameter_unknown,
)

Params = dict[str, Any]

#: The parameters an operation implements: a name maps to ``None`` (a value) or to the
#: parameters of the object (or of each element of the array) it holds; ``"*"`` takes any
#: key (metadata).
Accepted = Mapping[str, "Accepted | None"]
ANY_KEYS: Accepted = {"*": None}
LIST_PARAMS: Accepted = {"limit": None, "starting_after": None, "ending_before": None}

_Op = TypeVar("_Op", bound=Callable[..., Any])


def opt_str(params: Params, name: str) -> str | None:
    """A string parameter; absent or empty (Stripe's "unset") is ``None``."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise parameter_invalid(name, f"Invalid string: {name} must be a string.")
    return value


def req_str(params: Params, name: str) -> str:
    """A required string parameter."""
    value = opt_str(params, name)
    if value is None:
        raise parameter_missing(name)
    return value


def opt_int(params: Params, name: str) -> int | None:
    """An integer parameter."""
    value = opt_str(params, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise parameter_invalid(
            name, f"Invalid integer: {value}", code="parameter_invalid_integer"
        ) from None


def opt_float(params: Params, name: str) -> float | None:
    """A decimal parameter (``percent_off``)."""
    value = opt_str(params, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise parameter_invalid(name, f"Invalid decimal: {value}") from None


def opt_bool(params: Params, name: str) -> bool | None:
    """A boolean parameter (``true`` / ``false``)."""
    value = opt_str(params, name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise parameter_invalid(name, f"Invalid boolean: {value}")
    return value == "true"


def opt_choice(params: Params, name: str, allowed: Collection[str]) -> str | None:
    """A parameter that must be one of ``allowed``."""
    value = opt_str(params, name)
    if value is not None and value not in allowed:
        raise parameter_invalid(
            name, f"Invalid {name}: must be one of {', '.join(sorted(allowed))}"
        )
    return value


def opt_dict(params: Params, name: str) -> Params:
    """A nested object parameter; absent is empty."""
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise parameter_invalid(name, f"Invalid object: {name} must be an object.")
    return value


def opt_list(params: Params, name: str) -> list[Any]:
    """An array parameter (``name[0]=...``); absent is empty."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # a sparse array such as items[1] only
        return [value[k] for k in sorted(value, key=lambda k: int(k) if k.isdigit() else 0)]
    if not isinstance(value, list):
        raise parameter_invalid(name, f"Invalid array: {name} must be an array.")
    return value


def metadata(params: Params, current: dict[str, str] | None = None) -> dict[str, str]:
    """``metadata`` merged into ``current`` as Stripe merges it: a key set to ``""`` is
    removed, and ``metadata=""`` clears everything."""
    merged = dict(current or {})
    if "metadata" not in params:
        return merged
    value = params["metadata"]
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise parameter_invalid("metadata", "Invalid object: metadata must be an object.")
    for key, item in value.items():
        if item == "":
            merged.pop(key, None)
        elif not isinstance(item, str):
            raise parameter_invalid(f"metadata[{key}]", "Metadata values must be strings.")
        else:
            merged[key] = item
    return merged


def reject_unknown(params: Params, immutable: Collection[str]) -> None:
    """Refuse parameters Stripe does not accept on this call (``unit_amount`` on a price
    update: prices are immutable)."""
    for name in immutable:
        if name in params:
            raise parameter_unknown(name)


def accepts(accepted: Accepted) -> Callable[[_Op], _Op]:
    """Declare the parameters ``operation`` implements (``expand`` always); the endpoint
    refuses any other with ``parameter_unknown`` before running it."""

    def declare(operation: _Op) -> _Op:
        operation.accepted = {**accepted, "expand": None}  # type: ignore[attr-defined]
        return operation

    return declare


def reject_unimplemented(params: Params, accepted: Accepted, prefix: str = "") -> None:
    """Refuse the first parameter (nested ones by their full name, ``line_items[0][foo]``)
    that ``accepted`` does not list: Stripe refuses unknown ones, and one Stripe knows but
    the emulator does not implement would otherwise be ignored silently, so a test could
    pass on a call that real Stripe treats differently."""
    if "*" in accepted:
        return
    for name, value in params.items():
        path = f"{prefix}[{name}]" if prefix else name
        if name not in accepted:
            raise parameter_unknown(path)
        nested = accepted[name]
        if nested is None:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    reject_unimplemented(item, nested, f"{path}[{index}]")
        elif isinstance(value, dict):
            if value and all(key.isdigit() for key in value) and "*" not in nested:
                for key, item in value.items():
                    if isinstance(item, dict):
                        reject_unimplemented(item, nested, f"{path}[{key}]")
            else:
                reject_unimplemented(value, nested, path)


@dataclass(frozen=True)
class ApiCall:
    """One API request as the operations see it: the id in the path, the decoded
    parameters and the base URL the caller reached the emulator at."""

    object_id: str
    params: Params
    base_url: str
