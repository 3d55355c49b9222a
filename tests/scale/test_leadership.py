"""One desk worker runs the city-wide jobs: on PostgreSQL the holder of an advisory lock, taken over when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from database import create_db_engine
from desk.leadership import while_leading
from tests.scale.conftest import fresh_database


def test_one_worker_leads_and_another_takes_over_when_it_stops(postgresql_url):
    url = fresh_database(postgresql_url)
    running: list[str] = []

    def jobs_of(worker: str):
        @contextlib.asynccontextmanager
        async def jobs() -> AsyncIterator[None]:
            running.append(worker)
            try:
                yield
            finally:
                running.remove(worker)
        return jobs

    async def scenario() -> list[list[str]]:
        seen = []
        first, second = create_db_engine(url), create_db_engine(url)
        async with contextlib.AsyncExitStack() as workers:
            await workers.enter_async_context(while_leading(first, jobs_of("w1"), poll_s=0.2))
            await asyncio.sleep(0.5)
            async with while_leading(second, jobs_of("w2"), poll_s=0.2):
                await asyncio.sleep(1.0)
                seen.append(list(running))  # w1 leads; w2 waits for the lock
                await workers.aclose()  # w1 stops: its lock is released
                await asyncio.sleep(1.0)
                seen.append(list(running))
        seen.append(list(running))
        first.dispose()
        second.dispose()
        return seen

    assert asyncio.run(scenario()) == [["w1"], ["w2"], []]


def test_sqlite_has_one_worker_which_leads_at_once(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    running: list[bool] = []

    @contextlib.asynccontextmanager
    async def jobs() -> AsyncIterator[None]:
        running.append(True)
        yield

    async def scenario() -> None:
        async with while_leading(engine, jobs):
            assert running == [True]  # before the app serves its first request

    asyncio.run(scenario())
