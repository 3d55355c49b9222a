"""How fast the X connector answers a burst of mentions: messages per second and per-mention latency.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_x_connector.py [--citizens 8] [--mentions 3]

The path measured: the local X API (tests/fakes/x_api.py) → the real tweepy client → the connector's poller →
de-duplicate → transcript → Rasa → action server → desk → replies recorded and queued → outbox sender → the
threaded replies posted to the local X API. All mentions are waiting when one poll starts (a burst, as after a
poll interval); a mention's latency runs from that poll's start until its last reply is posted. It starts its
own stack (demo knowledge base, free ports, temporary data folder) and prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from pydantic import SecretStr
from sqlalchemy import func, select

from connectors.x.app import build_connector
from desk.bot_model import ensure_trained
from desk.stack import Stack, free_port
from outbox.models import OutboxMessage
from settings import DEMO_KB_FILE, PROJECT_ROOT, Settings

QUESTIONS = DEMO_KB_FILE.parent / "demo_questions.jsonl"


def main(citizens: Annotated[int, typer.Option(min=1, help="Citizens mentioning the city at once.")] = 8,
         mentions: Annotated[int, typer.Option(min=1, help="Questions per citizen.")] = 3) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))  # the local X API lives with the tests
    from tests.fakes.x_api import FakeXApi

    texts = [q["text"] for q in map(json.loads, QUESTIONS.read_text().splitlines()) if q["expected_ids"]]
    with tempfile.TemporaryDirectory() as folder, FakeXApi() as fake:
        settings = Settings(data_dir=Path(folder), seed_kb_file=DEMO_KB_FILE, desk_port=free_port(),
                            rasa_port=free_port(), action_port=free_port(), x_api_key=SecretStr("k"),
                            x_api_secret=SecretStr("s"), x_access_token=SecretStr("t"),
                            x_access_token_secret=SecretStr("ts"), x_base_url=fake.base_url, x_account_id=None)
        ensure_trained(settings)
        with Stack(settings, connectors=()):
            posted: dict[str, str] = {}
            for c in range(citizens):
                user = fake.add_user(str(9000 + c), f"bench{c}")
                for m in range(mentions):
                    # a sequence number keeps texts apart, so the same-text window drops nothing
                    posted[fake.mention(user, f"{texts[(c * mentions + m) % len(texts)]} (#{m})")] = user
            result = asyncio.run(_run(settings, fake, posted))
    print(json.dumps({"citizens": citizens, "mentions_per_citizen": mentions, **result}))


async def _run(settings: Settings, fake, posted: dict[str, str]) -> dict[str, float]:
    connector = await build_connector(settings)
    try:
        sender = asyncio.create_task(connector.sender.run_forever())  # delivers while the poll goes on
        started = time.monotonic()
        poll = asyncio.create_task(connector.poller.poll_once())
        done: dict[str, float] = {}
        while len(done) < len(posted):
            now = time.monotonic()
            for tweet in posted:
                if tweet not in done and _answered(connector.sessions, tweet):
                    done[tweet] = now - started
            if time.monotonic() - started > 600:
                raise SystemExit(f"only {len(done)} of {len(posted)} mentions answered in 10 minutes")
            await asyncio.sleep(0.05)
        elapsed = max(done.values())
        await poll
        sender.cancel()
    finally:
        await connector.pipeline.aclose()
    latencies = np.array(list(done.values()))
    return {"messages": len(posted), "seconds": round(elapsed, 2),
            "messages_per_second": round(len(posted) / elapsed, 2),
            "p50_latency_s": round(float(np.percentile(latencies, 50)), 2),
            "p95_latency_s": round(float(np.percentile(latencies, 95)), 2), "tweets_posted": len(fake.posted_tweets),
            "dms_sent": len(fake.sent_dms)}


def _answered(sessions, tweet: str) -> bool:
    """Every reply queued for the mention was delivered (and at least one was)."""
    from connectors.models import InboundRecord

    with sessions() as session:
        record = session.scalar(select(InboundRecord).where(InboundRecord.channel == "x",
                                                            InboundRecord.platform_message_id == tweet))
        if record is None or record.state != "answered":
            return False
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.inbound_id == record.id, OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None)))
        return pending == 0


if __name__ == "__main__":
    typer.run(main)
