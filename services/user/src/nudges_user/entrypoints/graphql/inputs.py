"""Inputs of the mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class CreateClientInput:
    name: str
    slug: str | None = None
    locale: str | None = None


@strawberry.input
class UpdateClientInput:
    name: str | None = None
    slug: str | None = None
    locale: str | None = None
    #: Hold announcement copies during the subscribers' night (21:00-08:00 their time).
    quiet_hours: bool | None = None
    #: The word people text to Nudges to join (2-20 letters or digits); "" removes it.
    keyword: str | None = None
    #: The IANA zone the client's times are read in (e.g. Europe/Paris); "" goes back to the
    #: default (the zone of the client's number).
    time_zone: str | None = None
