"""``nudges-warpcache``: the gRPC cache and its HTTP health and metrics app, in one process
and one event loop (uvloop's, where it is installed), on the storage engine of
``WARPCACHE_ENGINE`` (wired in :mod:`nudges_warpcache.bootstrap`)."""

from __future__ import annotations

import asyncio
import signal

from nudges_kit.http import event_loop_factory
from nudges_kit.settings import load_settings
from nudges_warpcache.bootstrap import bootstrap
from nudges_warpcache.domain.store import StoreUnavailable
from nudges_warpcache.settings import UnsafeCallers, WarpcacheSettings


async def serve(settings: WarpcacheSettings, stop: asyncio.Event) -> None:
    """Serve WarpCache until ``stop`` is set (or the HTTP server fails), then stop gracefully."""
    service = bootstrap(settings)
    try:
        await service.start()
    except StoreUnavailable:
        await service.store.close()
        raise
    stopped = asyncio.create_task(stop.wait())
    failed = asyncio.create_task(service.wait())
    try:
        await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        await service.stop()
        await asyncio.gather(failed, return_exceptions=True)
    if not stop.is_set():
        raise RuntimeError("the HTTP server of WarpCache stopped on its own")


async def _serve_until_signalled(settings: WarpcacheSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop)


def main() -> None:
    """Serve WarpCache until SIGINT or SIGTERM; refuse to start, with one line naming the
    setting, when production settings are missing or unsafe, or when its storage cannot be
    reached."""
    try:
        settings = load_settings(WarpcacheSettings)
    except UnsafeCallers as refused:
        raise SystemExit(str(refused)) from None
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_serve_until_signalled(settings))
    except StoreUnavailable as unreachable:
        raise SystemExit(f"warpcache: {unreachable}") from None


if __name__ == "__main__":
    main()
