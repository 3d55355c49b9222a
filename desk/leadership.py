"""Which desk worker runs the city-wide jobs (escalating overdue cases, the report e-mails' schedule).

With several desk workers (PostgreSQL, CITYDESK_DESK_WORKERS > 1) each would run them: harmless, since their notices
are queued once by key, but wasted work, and every worker would repeat the same scan at the same moment. So the
worker holding a PostgreSQL advisory lock runs them; its lock goes with its connection when it dies, and another
worker takes over within `poll_s`. SQLite has one worker, which leads from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("citydesk.leadership")

# pg_try_advisory_lock's key: any constant of our own ("CityDesk" in ASCII, as a 64-bit integer)
LOCK_KEY = 0x43697479446573_6B
LEADER_POLL_S = 15.0


@contextlib.asynccontextmanager
async def while_leading(engine: Engine, jobs: Callable[[], AbstractAsyncContextManager[object]], *,
                        poll_s: float = LEADER_POLL_S) -> AsyncIterator[None]:
    """For the app's lifespan: run `jobs()` (an async context that runs them until it ends) while this worker leads."""
    if engine.dialect.name != "postgresql":
        async with jobs():
            yield
        return
    task = asyncio.create_task(_lead(engine, jobs, poll_s), name="city-wide jobs")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _lead(engine: Engine, jobs: Callable[[], AbstractAsyncContextManager[object]], poll_s: float) -> None:
    while True:
        try:
            connection = await asyncio.to_thread(_try_lock, engine)
            if connection is not None:
                try:
                    log.info("This desk worker runs the city-wide jobs")
                    async with jobs():
                        while True:  # holding the lock; a lost connection means another worker may lead now
                            await asyncio.sleep(poll_s)
                            await asyncio.to_thread(connection.execute, text("SELECT 1"))
                finally:
                    await asyncio.to_thread(_release, connection)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Leading the city-wide jobs failed; trying again in %.0f s", poll_s)
        await asyncio.sleep(poll_s)


def _try_lock(engine: Engine) -> Connection | None:
    """A connection holding the lock, or None when another worker holds it."""
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
            return connection
    except Exception:
        connection.invalidate()
        connection.close()
        raise
    connection.close()
    return None


def _release(connection: Connection) -> None:
    """Give the lock back; if that fails, drop the connection (which ends the lock) instead of pooling it."""
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    except Exception:
        connection.invalidate()
    finally:
        connection.close()
