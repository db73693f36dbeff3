"""Each service starts with exactly the environment and secrets its Terraform task definition
gives it, in both environments: the settings of every service validate in production mode with
those names (secrets as placeholders), nothing it requires is missing, and every name the task
definition sets is a setting the service reads. A secret left at its development default is
refused in production, named in the error."""

from __future__ import annotations

import importlib
import re
import typing
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr, ValidationError

from nudges_kit.settings import NudgesSettings, ProductionSettingsRefused

if TYPE_CHECKING:
    from conftest import TerraformDir

#: The settings class of each platform service, by its name in Terraform and compose.
SETTINGS = {
    "gateway": "nudges_gateway.settings:GatewaySettings",
    "auth": "nudges_auth.settings:AuthSettings",
    "user": "nudges_user.settings:UserSettings",
    "product": "nudges_product.settings:ProductSettings",
    "payment": "nudges_payment.settings:PaymentSettings",
    "webhooks": "nudges_webhooks.settings:WebhooksSettings",
    "consumers": "nudges_consumers.settings:ConsumersSettings",
    "warpcache": "nudges_warpcache.settings:WarpcacheSettings",
    "localization": "nudges_localization.settings:LocalizationSettings",
    "registry": "nudges_registry.settings:RegistrySettings",
}

#: Placeholder values of secrets whose settings have a shape (everything else: a random text).
SECRET_PLACEHOLDERS = {
    "PHONE_ENCRYPTION_KEY": "cGxhY2Vob2xkZXItcGhvbmUta2V5LTMyLWJ5dGVzISE=",
    "JWT_SIGNING_KEYS": "[]",
    "MACHINE_SECRETS": '{"consumers": "placeholder-c", "webhooks": "placeholder-w"}',
    "WARPCACHE_CALLERS": '{"auth": "placeholder-a", "gateway": "placeholder-g", "webhooks": "p-w"}',
}

_INTERPOLATION = re.compile(r"\$\{[^}]*\}")


def settings_class(service: str) -> type[NudgesSettings]:
    module, _, name = SETTINGS[service].partition(":")
    cls: type[NudgesSettings] = getattr(importlib.import_module(module), name)
    return cls


def placeholder(cls: type[NudgesSettings], name: str, value: Any) -> str:
    """A concrete value for a Terraform expression: interpolations become placeholders that
    fit the setting's type."""
    text = str(value)
    if "${" not in text:
        return text
    field = cls.model_fields.get(name.lower())
    annotation = field.annotation if field is not None else str
    if annotation in (int, float):
        return "3"
    if annotation is bool:
        return "true"
    if typing.get_origin(annotation) in (list, tuple):
        return '["http://placeholder:4002/graphql"]'
    return _INTERPOLATION.sub("placeholder", text) or "placeholder"


def task_environment(tf: TerraformDir, service: str) -> tuple[dict[str, Any], set[str]]:
    """The environment (name -> Terraform value) and the secret names of ``service``'s task."""
    spec = tf.locals["services"][service]
    env = {
        **tf.locals["common_environment"],
        "HTTP_PORT": spec["port"],
        **spec.get("environment", {}),
    }
    return env, set(spec.get("secrets", {}))


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting of the machine's own environment leaks into a check."""
    import os

    for name in list(os.environ):
        if name.isupper() and not name.startswith(("PATH", "HOME", "PYTHON", "UV_", "VIRTUAL")):
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_service_starts_with_exactly_its_task_definition(
    environments: dict[str, TerraformDir],
    env: str,
    service: str,
    clean_environment: pytest.MonkeyPatch,
) -> None:
    cls = settings_class(service)
    variables, secrets = task_environment(environments[env], service)
    for name, value in variables.items():
        clean_environment.setenv(name, placeholder(cls, name, value))
    for name in secrets:
        clean_environment.setenv(name, SECRET_PLACEHOLDERS.get(name, f"placeholder-{name}"))
    settings = cls()
    assert settings.environment == "production"
    unread = sorted(n for n in [*variables, *secrets] if n.lower() not in cls.model_fields)
    assert not unread, f"{service}: the task sets what the service never reads: {unread}"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_service_requires_only_what_it_uses(service: str) -> None:
    """What a service requires in production is among what it reads."""
    cls = settings_class(service)
    assert set(cls.production_required) <= set(cls.model_fields), service


def development_secrets(cls: type[NudgesSettings]) -> dict[str, Any]:
    """The settings of ``cls`` whose development default is a non-empty secret."""
    found: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr) and default.get_secret_value():
            found[name] = default.get_secret_value()
        elif isinstance(default, dict) and any(isinstance(v, SecretStr) for v in default.values()):
            found[name] = {k: v.get_secret_value() for k, v in default.items()}
    return found


#: The services with at least one secret that has a development default.
WITH_DEVELOPMENT_SECRETS = sorted(s for s in SETTINGS if development_secrets(settings_class(s)))


@pytest.mark.parametrize("service", WITH_DEVELOPMENT_SECRETS)
def test_production_refuses_every_development_secret(
    environments: dict[str, TerraformDir],
    service: str,
    clean_environment: pytest.MonkeyPatch,
) -> None:
    cls = settings_class(service)
    defaults = development_secrets(cls)
    variables, secrets = task_environment(environments["production"], service)
    for name, value in variables.items():
        clean_environment.setenv(name, placeholder(cls, name, value))
    for name in secrets:
        clean_environment.setenv(name, SECRET_PLACEHOLDERS.get(name, f"placeholder-{name}"))
    import orjson

    for name, value in defaults.items():
        clean_environment.setenv(
            name.upper(), orjson.dumps(value).decode() if isinstance(value, dict) else value
        )
    with pytest.raises((ProductionSettingsRefused, ValidationError)) as refused:
        cls()
    for name in defaults:
        assert name.upper() in str(refused.value), (service, name)
