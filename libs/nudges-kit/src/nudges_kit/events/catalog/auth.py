"""Events published by AuthApi."""

from __future__ import annotations

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

LOGINS = "auth.logins"


class LoginSucceededData(BaseModel):
    subject: str
    role: str
    phone_hash: str


login_succeeded = REGISTRY.declare("auth.login.succeeded", LOGINS, LoginSucceededData)
