"""`citydesk bench load`: web-chat messages offered at a fixed rate to a running desk, and what came back.

Open loop: message i is due at i / rate seconds, in conversation i mod N, whatever the replies do; only a
conversation's own next message waits for its previous reply (as a citizen does). Latency runs from sending the
message (POST /api/chat) to its response; the lag behind the schedule is reported apart. A message counts as
answered each time replies naming it arrive: in its response, in a later one, or from /api/chat/updates afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from settings import DEMO_KB_FILE

QUESTIONS_FILE = DEMO_KB_FILE.parent / "demo_questions.jsonl"
# a conversation repeats a question only after all of them, and then in other words: the same text from the same
# sender within the duplicate window is dropped as a repeat, which is not what is measured here
OPENINGS = ("", "hi, ", "hello, ", "quick question: ", "sorry to bother you, ", "one more thing, ")


def questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """The demo questions, knowledge-base ones and off-topic ones alike: a citizen's mix."""
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


def text_for(texts: list[str], conversation: int, turn: int) -> str:
    """A conversation's `turn`-th message: each conversation starts elsewhere in the list, and never repeats a text."""
    round_, index = divmod(turn, len(texts))
    return OPENINGS[round_ % len(OPENINGS)] + texts[(conversation * 7 + index) % len(texts)]


@dataclass(frozen=True)
class LoadResult:
    conversations: int
    messages: int
    duration_s: float
    offered_per_s: float
    messages_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    replies_per_message: float
    unanswered: int  # messages no reply named
    answered_twice: int  # messages whose replies arrived more than once
    errors: int  # responses other than 200
    lag_p95_ms: float  # how late messages were sent against the schedule (a conversation waiting for its reply)
    # processor time the stack's processes spent per message while it was offered: a figure that a machine shared
    # with other work inflates far less than latencies (None: not on Linux, or no processes given)
    cpu_ms_per_message: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def offer(desk_url: str, *, conversations: int, rate: float, duration_s: float,
                texts: list[str] | None = None, timeout_s: float = 60.0,
                process_groups: Collection[int] = ()) -> LoadResult:
    """Offer round(rate * duration) messages to the desk's web chat and wait for every response.

    process_groups: the stack's process groups, whose processor time is counted while the messages are offered."""
    texts = texts or questions()
    total = max(1, round(rate * duration_s))
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    lags: list[float] = []
    answers: Counter[str] = Counter()
    sent: list[str] = []
    errors = 0
    finished_at = 0.0
    limits = httpx.Limits(max_connections=conversations + 2, max_keepalive_connections=conversations + 2)
    async with httpx.AsyncClient(base_url=desk_url, timeout=timeout_s, limits=limits) as client:
        await _warm_up(client, texts)
        cpu_before = cpu_seconds(process_groups)
        start = time.perf_counter() + 0.2

        async def converse(conversation: int) -> None:
            nonlocal errors, finished_at
            sender = f"web-load-{run}-{conversation}"
            for turn, number in enumerate(range(conversation, total, conversations)):
                due = start + number / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                message_id = f"m-{run}-{number}"
                sent.append(message_id)
                began = time.perf_counter()
                lags.append((began - due) * 1000)
                try:
                    response = await client.post("/api/chat", json={
                        "sender": sender, "message": text_for(texts, conversation, turn), "message_id": message_id})
                except httpx.HTTPError:
                    errors += 1
                    continue
                ended = time.perf_counter()
                finished_at = max(finished_at, ended)
                if response.status_code != 200:
                    errors += 1
                    continue
                latencies.append((ended - began) * 1000)
                _count(answers, response.json())

        await asyncio.gather(*(converse(c) for c in range(min(conversations, total))))
        elapsed = finished_at - start
        cpu_after = cpu_seconds(process_groups)
        for conversation in range(min(conversations, total)):  # anything answered later, or again
            response = await client.get("/api/chat/updates", params={"sender": f"web-load-{run}-{conversation}"})
            if response.status_code == 200:
                _count(answers, response.json())
    ours = [answers[m] for m in sent]
    return LoadResult(
        conversations=conversations, messages=len(sent), duration_s=duration_s,
        offered_per_s=round(total / duration_s, 2),
        messages_per_s=round(len(latencies) / elapsed, 2) if elapsed > 0 else 0.0,
        p50_ms=_percentile(latencies, 50), p95_ms=_percentile(latencies, 95), p99_ms=_percentile(latencies, 99),
        replies_per_message=round(sum(ours) / len(ours), 3) if ours else 0.0,
        unanswered=sum(1 for n in ours if n == 0), answered_twice=sum(1 for n in ours if n > 1), errors=errors,
        lag_p95_ms=_percentile(lags, 95),
        cpu_ms_per_message=(round((cpu_after - cpu_before) * 1000 / len(sent), 1)
                            if cpu_before is not None and cpu_after is not None and sent else None))


def cpu_seconds(process_groups: Collection[int]) -> float | None:
    """User and system time of every live process in these process groups (Linux /proc; None elsewhere)."""
    if not process_groups or not os.path.isdir("/proc/self"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        # after the command's ")": state ppid pgrp ...; utime and stime are the 12th and 13th
        if int(fields[2]) in process_groups:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


async def _warm_up(client: httpx.AsyncClient, texts: list[str]) -> None:
    """What the first messages load (the model's first batches, connections) stays out of the figures."""
    sender = f"web-warm-up-{uuid.uuid4().hex[:8]}"
    for text in texts[:3]:
        (await client.post("/api/chat", json={"sender": sender, "message": text})).raise_for_status()


def _count(answers: Counter[str], replies: list[dict[str, Any]]) -> None:
    """One delivery per message named: the several bubbles of one answer are one reply; a pending note is none."""
    for message_id in {r["message_id"] for r in replies if r.get("message_id") and not r.get("pending")}:
        answers[message_id] += 1


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0
