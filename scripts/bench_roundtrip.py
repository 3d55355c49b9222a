"""Round-trip latency of knowledge-base questions through Rasa's REST channel (whole stack, real processes).

    .venv/bin/python scripts/bench_roundtrip.py [--url http://127.0.0.1:5005] [--repeat 3]

Without --url it starts its own stack (demo knowledge base, free ports, temporary data folder).
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import httpx
import numpy as np
import typer

from desk.bot_model import ensure_trained
from desk.stack import Stack, free_port
from settings import DEMO_KB_FILE, Settings

QUESTIONS = DEMO_KB_FILE.parent / "demo_questions.jsonl"


def main(url: Annotated[str | None, typer.Option(help="A running Rasa server.")] = None,
         repeat: Annotated[int, typer.Option(min=1)] = 3) -> None:
    texts = [q["text"] for q in map(json.loads, QUESTIONS.read_text().splitlines()) if q["expected_ids"]]
    with tempfile.TemporaryDirectory() as folder:
        if url is None:
            settings = Settings(data_dir=Path(folder), seed_kb_file=DEMO_KB_FILE, desk_port=free_port(),
                                rasa_port=free_port(), action_port=free_port())
            ensure_trained(settings)
            context = Stack(settings)
            url = settings.rasa_url
        else:
            settings = Settings()  # the running desk's data folder (CITYDESK_DATA_DIR): its internal token
            context = nullcontext()

        def message(sender: str, text: str) -> dict[str, object]:
            """As the desk's pipeline sends it: with the conversation's desk token, which the actions need."""
            return {"sender": sender, "message": text,
                    "metadata": {"desk_token": settings.conversation_token(sender)}}

        with context, httpx.Client(timeout=60) as client:
            client.post(f"{url}/webhooks/rest/webhook", json=message("warm-up", texts[0]))
            timings = []
            for _ in range(repeat):
                for text in texts:
                    start = time.perf_counter()
                    response = client.post(f"{url}/webhooks/rest/webhook",
                                           json=message(f"bench-{uuid.uuid4().hex}", text))
                    response.raise_for_status()
                    timings.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"n": len(timings), "round_trip_ms_p50": round(float(np.percentile(timings, 50)), 1),
                      "round_trip_ms_p95": round(float(np.percentile(timings, 95)), 1)}))


if __name__ == "__main__":
    typer.run(main)
