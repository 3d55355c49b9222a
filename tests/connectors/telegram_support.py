"""Run the Telegram connector in a thread of the test process, against the local Bot API."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from pydantic import SecretStr

from connectors.telegram.app import TelegramConnector, build_connector
from settings import Settings
from tests.fakes.telegram_api import FakeTelegramApi


def telegram_settings(base: Settings, fake: FakeTelegramApi, **changes) -> Settings:
    return base.model_copy(update={"telegram_bot_token": SecretStr(fake.token),
                                   "telegram_base_url": fake.bot_base_url, **changes})


@contextmanager
def running_connector(settings: Settings, *, ready_url: str | None = None) -> Iterator[TelegramConnector]:
    """The connector's run() in its own event loop and thread; stopped (as by SIGTERM) on exit."""
    connector = build_connector(settings)
    started = threading.Event()
    state: dict = {}

    def main() -> None:
        async def go() -> None:
            state["loop"] = asyncio.get_running_loop()
            state["stop"] = asyncio.Event()
            started.set()
            await connector.run(state["stop"])

        try:
            asyncio.run(go())
        except BaseException as error:  # shown by the test that waits for a reply
            state["error"] = error
            started.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(10)
    if ready_url:
        _wait_listening(ready_url)
    try:
        yield connector
    finally:
        if "loop" in state:
            state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        if "error" in state:
            raise state["error"]


def _wait_listening(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens at {url}")
