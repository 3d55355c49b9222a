"""Entries changed by other processes (the CLI, another desk) reach the running desk's index within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from knowledge_base.service import KnowledgeBase

log = logging.getLogger("citydesk.kb_refresh")


async def refresh_once(kb: KnowledgeBase) -> int:
    """Re-index what changed and recalibrate if needed; a failure is logged, never fatal: the next run tries again."""
    try:
        changed = await asyncio.to_thread(kb.refresh)
    except Exception:
        log.exception("Refreshing the knowledge base index failed")
        return 0
    if changed:
        log.info("Re-indexed %d changed entries", changed)
    return changed


async def refresh_every(kb: KnowledgeBase, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await refresh_once(kb)


@contextlib.asynccontextmanager
async def refreshing(kb: KnowledgeBase, interval_s: float) -> AsyncIterator[None]:
    """For the app's lifespan: poll the store's change marker (one cheap query) every interval until shutdown."""
    task = asyncio.create_task(refresh_every(kb, interval_s), name="refresh-knowledge-base")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
