"""Entries changed by other processes (the CLI, another desk) reach the running desk's index within seconds."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from desk.background import every
from knowledge_base.service import KnowledgeBase

log = logging.getLogger("citydesk.kb_refresh")


def refresh_and_log(kb: KnowledgeBase, then: Callable[[int], object] | None = None) -> int:
    """Re-index what changed and recalibrate if needed; then `then(marker)`, with the store's change marker read
    before the index was brought up to date (what depends on the entries, such as the city's directory)."""
    marker = kb.store.change_marker()
    changed = kb.refresh()
    if changed:
        log.info("Re-indexed %d changed entries", changed)
    if then is not None:
        then(marker)
    return changed


@contextlib.asynccontextmanager
async def refreshing(kb: KnowledgeBase, interval_s: float,
                     then: Callable[[int], object] | None = None) -> AsyncIterator[None]:
    """For the app's lifespan: poll the store's change marker (one cheap query) every interval until shutdown."""
    async with every(interval_s, lambda: refresh_and_log(kb, then), "Refreshing the knowledge base index"):
        yield
