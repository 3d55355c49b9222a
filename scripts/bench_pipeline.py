"""Messages per second through the whole channel pipeline, with N concurrent Telegram conversations.

    .venv/bin/python scripts/bench_pipeline.py [--conversations 8] [--messages 5]

The path measured: the local Bot API (tests/fakes/telegram_api.py) → `python -m desk.cli connector telegram` (a real
process: python-telegram-bot long polling) → de-duplicate → transcript → Rasa → action server → desk → replies
recorded and queued → outbox sender → sendMessage to the local Bot API. A turn's latency runs from the update
being available to getUpdates until every reply of that turn is marked delivered. It starts its own stack
(demo knowledge base, free ports, temporary data folder) and prints one JSON object.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from sqlalchemy import select

import database
from connectors.models import InboundRecord
from desk.bot_model import ensure_trained
from desk.stack import Stack, child_environment, free_port
from outbox.models import OutboxMessage
from settings import DEMO_KB_FILE, PROJECT_ROOT, Settings

QUESTIONS = DEMO_KB_FILE.parent / "demo_questions.jsonl"


def turn_done(sessions, update_id: int) -> bool:
    """The message was answered and each of its replies delivered."""
    with sessions() as session:
        record = session.scalar(select(InboundRecord).where(InboundRecord.channel == "telegram",
                                                            InboundRecord.platform_message_id == str(update_id)))
        if record is None or record.state != "answered":
            return False
        pending = session.scalar(select(OutboxMessage.id).where(OutboxMessage.inbound_id == record.id,
                                                                OutboxMessage.delivered_at.is_(None)).limit(1))
        return pending is None


def main(conversations: Annotated[int, typer.Option(min=1, help="Concurrent Telegram chats.")] = 8,
         messages: Annotated[int, typer.Option(min=1, help="Questions per chat, one after the other.")] = 5) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))  # the local Bot API lives with the tests
    from tests.fakes.telegram_api import FakeTelegramApi

    texts = [q["text"] for q in map(json.loads, QUESTIONS.read_text().splitlines()) if q["expected_ids"]]
    with tempfile.TemporaryDirectory() as folder, FakeTelegramApi() as fake:
        settings = Settings(data_dir=Path(folder), seed_kb_file=DEMO_KB_FILE, desk_port=free_port(),
                            rasa_port=free_port(), action_port=free_port())
        ensure_trained(settings)
        with Stack(settings, connectors=()):
            sessions = database.session_factory(database.create_db_engine(settings.resolved_database_url))
            log = Path(folder) / "connector.log"
            env = {**child_environment(settings), "TELEGRAM_BOT_TOKEN": fake.token,
                   "TELEGRAM_BASE_URL": fake.bot_base_url}
            with log.open("ab") as output:
                connector = subprocess.Popen([sys.executable, "-m", "desk.cli", "connector", "telegram"],
                                             cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                             start_new_session=True)
            try:
                while "Telegram connector running" not in log.read_text(errors="replace"):
                    if connector.poll() is not None:
                        raise SystemExit(log.read_text(errors="replace")[-3000:])
                    time.sleep(0.2)
                warm = fake.send_text(1, texts[0])  # loads what the first message loads, outside the timing
                while not turn_done(sessions, warm["update_id"]):
                    time.sleep(0.05)
                latencies: list[float] = []
                lock = threading.Lock()

                def chat(number: int) -> None:
                    for i in range(messages):
                        text = texts[(number * messages + i) % len(texts)]
                        start = time.perf_counter()
                        update = fake.send_text(1000 + number, text)
                        while not turn_done(sessions, update["update_id"]):
                            time.sleep(0.02)
                        with lock:
                            latencies.append((time.perf_counter() - start) * 1000)

                began = time.perf_counter()
                threads = [threading.Thread(target=chat, args=(n,)) for n in range(conversations)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - began
            finally:
                os.killpg(connector.pid, signal.SIGTERM)
                connector.wait(timeout=60)
    print(json.dumps({"conversations": conversations, "messages": len(latencies),
                      "sent_to_telegram": len(fake.sent), "seconds": round(elapsed, 2),
                      "messages_per_s": round(len(latencies) / elapsed, 2),
                      "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1),
                      "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1)}))


if __name__ == "__main__":
    typer.run(main)
