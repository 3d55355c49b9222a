"""One desk worker's outbox sender, as its own process, for test_two_workers: `python -m tests.scale.outbox_worker
DATABASE_URL PEER_URL NAME [CHANNEL]`. It says "ready" on stdout, sends the channel (default "peer") to the HTTP
peer until stdin closes, then finishes its pass and exits."""

from __future__ import annotations

import asyncio
import sys

import httpx

import handoff.models  # noqa: F401  (the cases table, which outbox.case_id refers to)
from database import create_db_engine, session_factory
from outbox.message import OutboundMessage
from outbox.sender import OutboxSender, PartSent


async def main(database_url: str, peer_url: str, name: str, channel: str = "peer") -> None:
    sessions = session_factory(create_db_engine(database_url))
    async with httpx.AsyncClient(timeout=10) as client:
        async def deliver(message: OutboundMessage, _part_sent: PartSent) -> str:
            response = await client.post(peer_url, json={"worker": name, "conversation": message.conversation_id,
                                                         "text": message.text, "key": message.idempotency_key})
            response.raise_for_status()
            return str(response.json()["id"])

        sender = OutboxSender(sessions, channel=channel, deliver=deliver, poll_interval_s=0.02)
        running = asyncio.create_task(sender.run_forever())
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the test closes our stdin
        sender.stop()
        await running


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
