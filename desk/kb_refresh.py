"""Entries changed by other processes (the CLI, another desk) reach the running desk's index within seconds."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from desk.background import every
from knowledge_base.service import KnowledgeBase

log = logging.getLogger("citydesk.kb_refresh")


def refresh_and_log(kb: KnowledgeBase) -> int:
    """Re-index what changed and recalibrate if needed."""
    changed = kb.refresh()
    if changed:
        log.info("Re-indexed %d changed entries", changed)
    return changed


@contextlib.asynccontextmanager
async def refreshing(kb: KnowledgeBase, interval_s: float) -> AsyncIterator[None]:
    """For the app's lifespan: poll the store's change marker (one cheap query) every interval until shutdown."""
    async with every(interval_s, lambda: refresh_and_log(kb), "Refreshing the knowledge base index"):
        yield
