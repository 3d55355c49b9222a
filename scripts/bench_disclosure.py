"""Time the disclosure exports (CSV and JSON, CLI and API) over 10,000 conversations in a temporary database.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_disclosure.py [--conversations 10000] [--keep DIR]

Conversations are written through the real TranscriptWriter (and the real redactor), one in ten with a case opened
through the hand-off; then `citydesk transcripts export` runs as a process and the desk serves /api/disclosure.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import Progress

from database import create_db_engine, session_factory, upgrade
from desk.stack import Stack, free_port
from handoff.directory import SLA, load_directory
from handoff.routing import route_case
from handoff.service import CaseDesk
from privacy import build_redactor
from settings import PROJECT_ROOT, Settings
from transcripts.writer import TranscriptWriter

console = Console()
QUESTIONS = ("When is the bulky waste pickup in my street?", "My name is Ana Silva, the streetlight at 12 Oak "
             "Avenue is out", "Can I pay my parking ticket online? Mail me at ana.silva@example.org",
             "The pool opening hours please", "There is a pothole on Elm Street, call me on 303-555-0142")
ANSWERS = ("Bulky waste is collected on the first Monday of the month.", "Thanks, we have passed it on.",
           "Yes: pay at alderbrook.example/parking with the ticket number.", "Daily 9 am to 5 pm.")
BATCH = 100  # conversations per transaction while seeding


def seed(settings: Settings, conversations: int, records_each: int) -> int:
    """Write the conversations two days in the past (past the publication delay); returns the records written."""
    upgrade(settings.resolved_database_url)
    sessions = session_factory(create_db_engine(settings.resolved_database_url))
    start = datetime.now(UTC) - timedelta(days=2)
    clock = {"now": start}
    writer = TranscriptWriter(sessions, redact=build_redactor(settings).public_text, clock=lambda: clock["now"])
    cases = CaseDesk(sessions, load_directory(settings.directory_file), settings.city_timezone,
                     clock=lambda: clock["now"], transcript=writer)
    pothole = cases.directory.category("pothole")
    rng, written = random.Random(7), 0
    with Progress(console=console) as progress:
        task = progress.add_task("Writing conversations", total=conversations)
        for first in range(0, conversations, BATCH):
            with sessions.begin() as session:
                for n in range(first, min(first + BATCH, conversations)):
                    clock["now"] = start + timedelta(seconds=n)
                    for i in range(records_each):
                        role, text = (("citizen", rng.choice(QUESTIONS)) if i % 2 == 0
                                      else ("bot", rng.choice(ANSWERS)))
                        writer.append_in(session, channel="telegram", conversation_id=f"tg-{100000 + n}",
                                         author_role=role, text=text)
                        written += 1
                    progress.advance(task)
            for n in range(first, min(first + BATCH, conversations), 10):  # one in ten becomes a case
                clock["now"] = start + timedelta(seconds=n, milliseconds=500)
                cases.open_case(description="pothole", channel="telegram", conversation_id=f"tg-{100000 + n}",
                                sla=SLA.SIMPLE, category=pothole,
                                assignment=route_case(directory=cases.directory, category=pothole,
                                                      entry_matches=[]))
                written += 1
    return written


def timed(label: str, action) -> float:
    began = time.perf_counter()
    size = action()
    seconds = time.perf_counter() - began
    console.print(f"{label}: [bold]{seconds:.2f} s[/bold] ({size / 1e6:.1f} MB)")
    return seconds


def main(conversations: Annotated[int, typer.Option(min=1)] = 10_000,
         records_each: Annotated[int, typer.Option(min=1, help="Records per conversation.")] = 4,
         keep: Annotated[Path | None, typer.Option(help="Data folder to use and keep.")] = None) -> None:
    data_dir = keep or Path(tempfile.mkdtemp(prefix="bench-disclosure-"))
    settings = Settings(data_dir=data_dir, desk_port=free_port(), rasa_port=free_port())
    settings.database_url = None
    began = time.perf_counter()
    written = seed(settings, conversations, records_each)
    console.print(f"Wrote {conversations:,} conversations ({written:,} records) in "
                  f"{time.perf_counter() - began:.0f} s into {data_dir}")
    env = {**os.environ, "CITYDESK_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("CITYDESK_DATABASE_URL", None)
    citydesk = [sys.executable, "-c", "from desk.cli import app; app()"]
    for fmt in ("csv", "json"):
        out = data_dir / f"export.{fmt}"
        timed(f"CLI  citydesk transcripts export --format {fmt}", lambda fmt=fmt, out=out: (
            subprocess.run([*citydesk, "transcripts", "export", "--format", fmt, "--out", str(out),
                            "--data-dir", str(data_dir)], check=True, cwd=PROJECT_ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out.stat().st_size)[1])
    with Stack(settings, components=("desk",)):
        for fmt in ("csv", "json"):
            def fetch(fmt: str = fmt) -> int:
                size = 0
                with httpx.stream("GET", f"{settings.desk_url}/api/disclosure/conversations.{fmt}",
                                  timeout=600) as response:
                    response.raise_for_status()
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                return size
            timed(f"API  GET /api/disclosure/conversations.{fmt}", fetch)
        timed("Page GET /disclosure?q=pothole (first page)", lambda: len(httpx.get(
            f"{settings.desk_url}/disclosure", params={"q": "pothole"}, timeout=600).content))


if __name__ == "__main__":
    typer.run(main)
