"""The providers' published shapes, read from their own client libraries, and a check of any
object or callback against them (no network).

The pinned ``stripe`` library declares every field of every object of its API version with
its type (``stripe.Invoice.__annotations__``): a field the library does not declare is one the
version does not have; a field whose type does not admit ``None`` is always present; a field
typed ``str | Customer`` is an id unless the request expanded it; a ``Literal`` lists the values
Stripe documents. The pinned ``twilio`` library's ``MessageInstance`` reads exactly the fields
of a Message resource, and its ``Status`` and ``Direction`` list their values.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import types
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject
from twilio.rest.api.v2010.account.message import MessageInstance

_NONE = type(None)
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


@cache
def object_class(kind: str) -> type | None:
    """The library's class of objects whose ``object`` is ``kind``."""
    where = OBJECT_CLASSES.get(kind)
    if where is None:
        return None
    module, name = where
    cls: type = getattr(importlib.import_module(module), name)
    return cls


@cache
def _names() -> dict[str, Any]:
    """Every class the stripe package defines, by name (forward references name them)."""
    found: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("stripe") or module is None:
            continue
        for attr, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, StripeObject):
                found.setdefault(attr, value)
    for kind in OBJECT_CLASSES:
        if (cls := object_class(kind)) is not None:
            found[cls.__name__] = cls
    return found


@cache
def _imports(module_name: str) -> dict[str, str]:
    """``name -> module`` of the ``from stripe... import Name`` lines of a module (most are
    under ``TYPE_CHECKING``, so the module's namespace lacks them)."""
    source = inspect.getsource(sys.modules[module_name])
    found: dict[str, str] = {}
    for module, names in re.findall(r"from (stripe[\w.]*) import (\([^)]*\)|[\w, ]+)", source):
        for name in re.split(r"[\s,()]+", names):
            if name:
                found[name] = module
    return found


def _resolve(tp: Any, owner: type) -> Any:
    if isinstance(tp, str):
        tp = ForwardRef(tp)
    if not isinstance(tp, ForwardRef):
        return tp
    name = tp.__forward_arg__
    value = vars(sys.modules[owner.__module__]).get(name)
    if value is None and (module := _imports(owner.__module__).get(name)) is not None:
        value = getattr(importlib.import_module(module), name, None)
    if value is None:
        value = _names().get(name)
    if value is None:
        raise LookupError(f"{owner.__qualname__}: cannot resolve {name}")
    return value


@cache
def _fields(cls: type) -> dict[str, Any]:
    """The declared fields of ``cls`` and its bases (``ClassVar`` constants left out)."""
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, tp in getattr(klass, "__annotations__", {}).items():
            if name.startswith("_") or "ClassVar" in repr(tp):
                continue
            fields[name] = tp
    return fields


def _nullable(tp: Any) -> bool:
    return tp is Any or (get_origin(tp) in (Union, types.UnionType) and _NONE in get_args(tp))


class StripeShapes:
    """Checks Stripe objects against the pinned library's declarations of its version."""

    def check(self, obj: Mapping[str, Any], expanded: Collection[str] = ()) -> list[str]:
        """Every violation in ``obj`` (a top-level object with ``object``), each a line
        naming the field's path; ``expanded`` holds the dotted paths the request expanded
        (``customer``, ``data.subscription``; list indices left out)."""
        kind = obj.get("object")
        if kind == "list":
            return self._value(obj, ListObject[Any], "list", "", set(expanded), ListObject)
        if kind == "search_result":
            return self._value(
                obj, SearchResultObject[Any], "search_result", "", set(expanded), ListObject
            )
        cls = object_class(str(kind))
        if cls is None:
            return [f"{kind}: not an object the library knows"]
        return list(self._object(obj, cls, str(kind), "", set(expanded)))

    def _object(
        self, obj: Mapping[str, Any], cls: type, path: str, rel: str, expanded: set[str]
    ) -> Iterator[str]:
        fields = _fields(cls)
        for name, value in obj.items():
            if name not in fields:
                yield f"{path}.{name}: not in the library's declaration of {cls.__qualname__}"
                continue
            child = f"{rel}.{name}" if rel else name
            yield from self._value(value, fields[name], f"{path}.{name}", child, expanded, cls)
        for name, tp in fields.items():
            if name not in obj and not _nullable(_resolve(tp, cls)):
                yield f"{path}.{name}: required by {cls.__qualname__} but absent"

    def _value(
        self, value: Any, tp: Any, path: str, rel: str, expanded: set[str], owner: type
    ) -> list[str]:
        tp = _resolve(tp, owner)
        origin, args = get_origin(tp), get_args(tp)
        if tp is Any or tp is object:
            return []
        if origin in (Union, types.UnionType):
            return self._union(
                value, [_resolve(a, owner) for a in args], path, rel, expanded, owner
            )
        if value is None:
            return [f"{path}: null, but {tp!r} does not admit null"]
        if origin is Literal:
            return [] if value in args else [f"{path}: {value!r} is not one of {list(args)}"]
        if origin is list:
            if not isinstance(value, list):
                return [f"{path}: expected an array, got {type(value).__name__}"]
            out: list[str] = []
            for index, item in enumerate(value):
                out += self._value(item, args[0], f"{path}[{index}]", rel, expanded, owner)
            return out
        if origin is dict or tp is dict:
            return [] if isinstance(value, dict) else [f"{path}: expected an object"]
        if origin in (ListObject, SearchResultObject):
            return self._list(value, origin, args[0], path, rel, expanded, owner)
        if origin is UntypedStripeObject:
            return [] if isinstance(value, dict) else [f"{path}: expected an object"]
        if inspect.isclass(tp) and issubclass(tp, UntypedStripeObject):
            # event.data.object: whatever object the event is about
            if isinstance(value, dict) and (cls := object_class(str(value.get("object")))):
                return list(self._object(value, cls, path, rel, expanded))
            return [] if isinstance(value, dict) else [f"{path}: expected an object"]
        if inspect.isclass(tp) and issubclass(tp, StripeObject):
            if not isinstance(value, dict):
                return [f"{path}: expected a {tp.__qualname__} object, got {value!r}"]
            return list(self._object(value, tp, path, rel, expanded))
        return self._scalar(value, tp, path)

    def _union(
        self, value: Any, options: list[Any], path: str, rel: str, expanded: set[str], owner: type
    ) -> list[str]:
        if value is None:
            return [] if _NONE in options else [f"{path}: null is not allowed"]
        options = [o for o in options if o is not _NONE]
        literals = [v for o in options if get_origin(o) is Literal for v in get_args(o)]
        if literals and isinstance(value, str):
            # ``Literal[...] | str`` only keeps old clients working: Stripe documents these.
            return [] if value in literals else [f"{path}: {value!r} is not one of {literals}"]
        resources = [o for o in options if inspect.isclass(o) and issubclass(o, StripeObject)]
        if str in options and resources:
            if isinstance(value, str):
                if rel in expanded:
                    return [f"{path}: expanded on request but answered as the id {value!r}"]
                return []
            if rel not in expanded:
                return [f"{path}: an object where Stripe answers an id (not expanded)"]
            return self._value(value, resources[0], path, rel, expanded, owner)
        failures: list[str] = []
        for option in options:
            found = self._value(value, option, path, rel, expanded, owner)
            if not found:
                return []
            failures = failures or found
        return failures

    def _list(
        self,
        value: Any,
        kind: type,
        item: Any,
        path: str,
        rel: str,
        expanded: set[str],
        owner: type,
    ) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected a list object"]
        wanted = "list" if kind is ListObject else "search_result"
        out = [] if value.get("object") == wanted else [f"{path}.object: expected {wanted!r}"]
        declared = {"object", "data", "has_more", "url", "total_count", "next_page"}
        out += [f"{path}.{k}: not a field of a {wanted}" for k in value if k not in declared]
        for name in ("data", "has_more", "url") if kind is ListObject else ("data", "has_more"):
            if name not in value:
                out.append(f"{path}.{name}: required but absent")
        if kind is SearchResultObject and value.get("next_page") is not None:
            out += self._scalar(value["next_page"], str, f"{path}.next_page")
        for index, element in enumerate(value.get("data") or []):
            at = f"{path}.data[{index}]"
            data_rel = f"{rel}.data" if rel else "data"
            if isinstance(item, ForwardRef | str) or inspect.isclass(item):
                out += self._value(element, item, at, data_rel, expanded, owner)
            elif isinstance(element, dict) and (cls := object_class(str(element.get("object")))):
                out += list(self._object(element, cls, at, data_rel, expanded))
            else:
                out.append(f"{at}: not an object the library knows")
        return out

    @staticmethod
    def _scalar(value: Any, tp: Any, path: str) -> list[str]:
        if tp is bool:
            ok = isinstance(value, bool)
        elif tp is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif tp is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif tp is str:
            ok = isinstance(value, str)
        elif tp is Decimal:
            # decimals travel as strings (``unit_amount_decimal: "900"``)
            ok = isinstance(value, str) and _DECIMAL.fullmatch(value) is not None
        else:
            return [f"{path}: the check does not know the type {tp!r}"]
        return [] if ok else [f"{path}: {value!r} is not a {tp.__name__}"]


# Twilio -----------------------------------------------------------------------------------


@cache
def twilio_message_fields() -> frozenset[str]:
    """The fields of a Message resource: exactly what ``MessageInstance`` reads."""
    source = inspect.getsource(MessageInstance.__init__)
    return frozenset(re.findall(r'payload\.get\(\s*"(\w+)"', source))


def _constants(holder: type) -> frozenset[str]:
    return frozenset(
        str(v) for k, v in vars(holder).items() if not k.startswith("_") and isinstance(v, str)
    )


def check_twilio_message(resource: Mapping[str, Any]) -> list[str]:
    """Violations of a Message resource (JSON) against the twilio library's declaration."""
    fields = twilio_message_fields()
    out = [f"message.{k}: not a field of MessageInstance" for k in resource if k not in fields]
    out += [f"message.{k}: absent" for k in sorted(fields) if k not in resource]
    if resource.get("status") not in _constants(MessageInstance.Status):
        out.append(f"message.status: {resource.get('status')!r} is not a Message status")
    if resource.get("direction") not in _constants(MessageInstance.Direction):
        out.append(f"message.direction: {resource.get('direction')!r} is not a direction")
    return out


#: What Twilio documents a message status callback carries: always, and sometimes.
TWILIO_CALLBACK_ALWAYS = frozenset(
    {"AccountSid", "ApiVersion", "From", "MessageSid", "MessageStatus", "SmsSid", "SmsStatus", "To"}
)
TWILIO_CALLBACK_SOMETIMES = frozenset({"ErrorCode", "MessagingServiceSid", "RawDlrDoneDate"})
#: Statuses Twilio sends a status callback for (never ``accepted``, ``queued`` or
#: ``sending``).
TWILIO_CALLBACK_STATUSES = frozenset(
    {"sent", "delivered", "undelivered", "failed", "read", "canceled"}
)
_DLR_DATE = re.compile(r"\d{10}")


def check_twilio_callback(params: Mapping[str, str]) -> list[str]:
    """Violations of one status callback's form parameters against Twilio's documentation."""
    known = TWILIO_CALLBACK_ALWAYS | TWILIO_CALLBACK_SOMETIMES
    out = [f"callback.{k}: not a documented parameter" for k in params if k not in known]
    out += [f"callback.{k}: absent" for k in sorted(TWILIO_CALLBACK_ALWAYS) if k not in params]
    status = params.get("MessageStatus")
    if status not in TWILIO_CALLBACK_STATUSES:
        out.append(f"callback.MessageStatus: Twilio sends no callback for {status!r}")
    if params.get("SmsStatus") != status:
        out.append("callback.SmsStatus: differs from MessageStatus")
    if status in ("failed", "undelivered") and "ErrorCode" not in params:
        out.append("callback.ErrorCode: absent on a failed message")
    if status == "delivered" and not _DLR_DATE.fullmatch(params.get("RawDlrDoneDate", "")):
        out.append("callback.RawDlrDoneDate: absent or not YYMMDDHHMM on a delivered message")
    return out


__all__ = [
    "StripeShapes",
    "check_twilio_callback",
    "check_twilio_message",
    "twilio_message_fields",
]
