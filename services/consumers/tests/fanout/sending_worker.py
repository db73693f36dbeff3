"""A sending worker in a process of its own, for the tests that kill one with SIGKILL: the
``sms-outbound`` consumer as the workers run it, configured from the environment."""

from __future__ import annotations

import asyncio

from nudges_consumers.adapters.twilio_sender import TwilioSender
from nudges_consumers.bootstrap import build_deps
from nudges_consumers.service_layer.sms_outbound import SmsSending, sending_consumer
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.db import create_pool
from nudges_kit.logging import configure_logging


async def main() -> None:
    settings = ConsumersSettings()
    configure_logging("sending-worker", "INFO", True)
    pool = await create_pool(settings.database_url())
    deps = build_deps(settings, pool)
    consumer = sending_consumer(deps, SmsSending(deps, TwilioSender(settings)))
    await consumer.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main())
