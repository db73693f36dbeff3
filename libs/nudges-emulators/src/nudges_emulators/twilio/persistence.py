"""The Twilio emulator's messages and opt-outs in a file, so that a restarted emulator still
lists what it sent (``/_emulator/messages``, the Messages API) and who texted STOP.

The file is rewritten whole (a temporary file renamed over the old one) whenever what it would
hold has changed, checked a few times a second and once more at shutdown; a message still on
its way (``queued``, ``sent``) picks up its remaining statuses after a restart. Status callback
attempts are not kept.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import suppress
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from nudges_emulators.twilio.messages import Message, MessageStore

#: The layout of the file; another one is refused rather than misread.
VERSION = 1
_DATES = ("date_created", "date_updated", "date_sent")
_SKIPPED = ("callbacks",)


def _message_json(message: Message) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for spec in fields(message):
        if spec.name in _SKIPPED:
            continue
        value = getattr(message, spec.name)
        row[spec.name] = value.isoformat() if isinstance(value, datetime) else value
    return row


def _message_of(row: dict[str, Any]) -> Message:
    values = dict(row)
    for name in _DATES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    return Message(**values)


class TwilioStateFile:
    """Where the messages and opt-outs of ``store`` and ``opted_out`` are kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written = b""

    def load(self, store: MessageStore, opted_out: set[str]) -> list[Message]:
        """Read the file into ``store`` and ``opted_out``; returns the messages whose statuses
        are still to come."""
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text())
        if data.get("version") != VERSION:
            raise ValueError(f"{self.path}: not a Twilio emulator state of version {VERSION}")
        for row in data["messages"]:
            store.add(_message_of(row))
        opted_out.update(data["opted_out"])
        self._written = self._payload(store, opted_out)
        return [m for m in store.by_sid.values() if m.pending]

    def _payload(self, store: MessageStore, opted_out: set[str]) -> bytes:
        data = {
            "version": VERSION,
            "messages": [_message_json(m) for m in store.by_sid.values()],
            "opted_out": sorted(opted_out),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    def save(self, store: MessageStore, opted_out: set[str]) -> bool:
        """Write the file when its content changed; whether it was written."""
        payload = self._payload(store, opted_out)
        if payload == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        self._written = payload
        return True

    async def keep(
        self, store: MessageStore, opted_out: set[str], stop: asyncio.Event, every: float = 0.2
    ) -> None:
        """Save whenever something changed, every ``every`` seconds, until ``stop``; and once
        more then."""
        while not stop.is_set():
            self.save(store, opted_out)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        self.save(store, opted_out)
