"""The desk's periodic jobs: run at start when asked, then every interval; a failure never stops them."""

from __future__ import annotations

import asyncio
import logging

from desk.background import every


def test_a_job_runs_at_start_then_every_interval_and_survives_its_failures(caplog):
    runs: list[int] = []

    def job() -> None:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("database is locked")

    async def main() -> int:
        async with every(0.05, job, "Testing the job", at_start=True):
            assert runs == [0]  # the first run is done before the block starts
            for _ in range(200):  # up to 10 s on a busy machine; usually 0.2 s
                if len(runs) >= 4:
                    break
                await asyncio.sleep(0.05)
        stopped_at = len(runs)
        await asyncio.sleep(0.15)
        return stopped_at

    with caplog.at_level(logging.ERROR, logger="citydesk.background"):
        stopped_at = asyncio.run(main())
    assert stopped_at >= 4  # it went on after the failing second run
    assert len(runs) == stopped_at  # and stopped with the block
    assert [r.getMessage() for r in caplog.records] == ["Testing the job failed"]


def test_without_at_start_the_first_run_waits_one_interval():
    runs: list[str] = []

    async def main() -> None:
        async with every(10, lambda: runs.append("ran"), "Testing the job"):
            await asyncio.sleep(0.05)

    asyncio.run(main())
    assert runs == []
