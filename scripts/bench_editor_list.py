"""How long one page of the editors' entry list takes with a text filter, over N stored entries.

    .venv/bin/python scripts/bench_editor_list.py [--size 10000] [--repeat 5]

The entries (scripts/bench_kb.py's generated ones) are stored without embedding them, in a fresh SQLite file;
EntryEditor.list (what /editor, /api/kb/entries and `citydesk kb list` call) is timed for a page of 25 with a
common word, a rarer one, a word nothing contains, and no text; the median of `repeat` runs is printed.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from bench_kb import generate  # beside this script

from database import create_db_engine, session_factory, upgrade
from knowledge_base.editor import EntryEditor
from knowledge_base.store import EntryStore

TEXTS = ("permit", "Riverside", "zzz-nothing", None)


def main(size: Annotated[int, typer.Option(min=1)] = 10_000, repeat: Annotated[int, typer.Option(min=1)] = 5) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = create_db_engine(url)
        editor = EntryEditor(store=EntryStore(session_factory(engine)))
        editor.store.upsert_many(generate(size))
        figures = {}
        for text in TEXTS:
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                page, total = editor.list(text=text, limit=25)
                times.append((time.perf_counter() - start) * 1000)
            figures[text or "(no text)"] = {"total": total, "page": len(page),
                                            "median_ms": round(statistics.median(times), 1)}
        engine.dispose()
    print(json.dumps({"entries": size, "list_page_of_25": figures}, indent=2))


if __name__ == "__main__":
    typer.run(main)
