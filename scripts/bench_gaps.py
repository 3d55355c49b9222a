"""How long the editor's "unanswered questions" page takes to group N questions (embedding, then clustering).

    .venv/bin/python scripts/bench_gaps.py [--questions FILE.jsonl] [--sizes 500,1000,2000]

FILE has one JSON object per line with a "text" (default: the clinc150 validation questions of ../shared/eval).
"Cold" embeds every question and groups them (the first page view); "warm" groups texts embedded before (the
page's GapFinder keeps their vectors), which is what later views cost.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from database import create_db_engine, session_factory, upgrade
from knowledge_base.embedder import DEFAULT_MODEL, Embedder, get_embedder
from knowledge_base.gaps import GapFinder, Question
from knowledge_base.store import EmbeddingCache
from privacy import Redactor
from settings import PROJECT_ROOT

DEFAULT_QUESTIONS = PROJECT_ROOT.parent / "shared" / "eval" / "clinc150" / "questions-val.jsonl"


def main(questions: Annotated[Path, typer.Option(exists=True, dir_okay=False)] = DEFAULT_QUESTIONS,
         sizes: Annotated[str, typer.Option(help="Comma-separated numbers of questions.")] = "500,1000,2000") -> None:
    texts = [json.loads(line)["text"] for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = get_embedder(DEFAULT_MODEL)
    start = datetime.now(UTC)
    print("questions  groups  cold_s  warm_s")
    with tempfile.TemporaryDirectory(prefix="bench-gaps-") as folder:
        for size in (int(s) for s in sizes.split(",")):
            _measure(embedder, texts, size, start, Path(folder))


def _measure(embedder: Embedder, texts: list[str], size: int, start: datetime, folder: Path) -> None:
    """One line of the table: `size` questions grouped on a fresh database (cold), then again (warm)."""
    batch = [Question(text=texts[i % len(texts)], at=start - timedelta(minutes=i)) for i in range(size)]
    url = f"sqlite:///{folder}/gaps-{size}.db"
    upgrade(url)
    finder = GapFinder(embedder, EmbeddingCache(session_factory(create_db_engine(url)), DEFAULT_MODEL),
                       redact=Redactor().public_text)
    began = time.perf_counter()
    gaps = finder.gaps(batch)
    cold = time.perf_counter() - began
    began = time.perf_counter()
    finder.gaps(batch)
    warm = time.perf_counter() - began
    print(f"{size:9d}  {len(gaps):6d}  {cold:6.2f}  {warm:6.2f}")


if __name__ == "__main__":
    typer.run(main)
