"""One process resuming a channel's unanswered messages, for test_two_workers: `python -m tests.scale.pending_worker
DATABASE_URL RASA_URL`. It says "ready", waits for a line on stdin, runs resume_pending once and prints how many it
answered."""

from __future__ import annotations

import asyncio
import sys

import handoff.models  # noqa: F401  (the cases table, which outbox.case_id refers to)
from connectors.pipeline import Pipeline
from database import create_db_engine, session_factory
from tests.transcripts.conftest import writer_for


async def main(database_url: str, rasa_url: str) -> None:
    sessions = session_factory(create_db_engine(database_url))
    pipeline = Pipeline(sessions, channel="x", rasa_url=rasa_url, writer=writer_for(sessions))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    print(await pipeline.resume_pending(), flush=True)
    await pipeline.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
