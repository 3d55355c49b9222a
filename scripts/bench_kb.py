"""Knowledge base benchmark: re-indexing throughput and search latency of the embedded backend.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_kb.py [--sizes 1000,10000] [--large 100000] [--queries 200]
        [--out FILE]

For each size: generated entries (question, two alternative phrasings, answer) are imported into a fresh SQLite
knowledge base (fresh embeddings: store, embed, index), loaded again by a new KnowledgeBase on the same database
(warm embedding cache: what a desk does at start), and edited all at once (a new version of every entry, no new
text: what a live update costs per entry). Search latency is one citizen question end to end (embedding it, the
backend's search, ranking), over published entries, after a warm-up.

The largest size (--large) is not embedded: its vectors are the embedded ones of the biggest size, perturbed
with Gaussian noise and renormalised, and its texts are copies with new ids, so that the search does the work it
would do on that many real entries (same dimension, same phrasings per entry, a full BM25 index).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from knowledge_base import ranking
from knowledge_base.editor import EntryEditor
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.entry import Entry
from knowledge_base.factory import build_knowledge_base
from knowledge_base.search import Filters, IndexedEntry
from knowledge_base.search.embedded import EmbeddedBackend

console = Console(stderr=True)
SEED = 7
NOISE = 0.02  # per-dimension standard deviation of the perturbation: cosine to the original about 0.9

VERBS = ["report", "pay", "renew", "apply for", "cancel", "replace", "book", "register", "appeal", "find",
         "request", "dispute", "update", "schedule", "transfer"]
THINGS = ["parking permit", "dog licence", "bulk pickup", "water bill", "building permit", "library card",
          "pothole repair", "noise complaint", "street light outage", "recycling bin", "business licence",
          "property tax", "park shelter", "marriage licence", "fire inspection", "tree removal", "snow plowing",
          "bike lane", "bus pass", "swimming lesson", "voter registration", "birth certificate", "graffiti removal"]
PLACES = ["downtown", "the north side", "Riverside", "Old Town", "the harbour district", "Maple Heights",
          "the industrial park", "Eastgate", "Westbrook", "Hillcrest", "the university quarter", "Lakeview"]
WHEN = ["this week", "before winter", "online", "in person", "for my landlord", "for a neighbour", "after a move",
        "as a senior", "for my business", "on weekends"]


def generate(count: int, *, seed: int = SEED) -> list[Entry]:
    """`count` distinct entries with realistic, varied city wording."""
    rng = random.Random(seed)
    entries, seen = [], set()
    while len(entries) < count:
        verb, thing, place, when = rng.choice(VERBS), rng.choice(THINGS), rng.choice(PLACES), rng.choice(WHEN)
        key = (verb, thing, place, when)
        if key in seen:
            continue
        seen.add(key)
        number = len(entries)
        entries.append(Entry(
            id=f"bench-{number:06d}", question=f"How do I {verb} a {thing} in {place} {when}?",
            alt_questions=(f"{verb} {thing} {place} {when}", f"where can I {verb} my {thing} ({place}, {when})"),
            answer=f"To {verb} a {thing} in {place} {when}, use form {number} at City Hall or online; "
                   f"the {thing} office answers within {rng.randint(1, 10)} working days.",
            department=f"Department {rng.randint(1, 12)}", topic=None, language="en"))
    return entries


def questions(entries: list[Entry], count: int) -> list[str]:
    rng = random.Random(SEED + 1)
    picked = rng.sample(entries, min(count, len(entries)))
    return [f"i need to {e.alt_questions[0]} please" for e in picked]


def percentiles(timings_ms: list[float]) -> tuple[float, float]:
    return round(float(np.percentile(timings_ms, 50)), 1), round(float(np.percentile(timings_ms, 95)), 1)


def search_latency(backend, embedder, texts: list[str]) -> dict[str, float]:
    """p50, p95 in ms of one question over published entries: end to end, and its two parts (embedding the
    question; the backend's search and the ranking), which depend on different things (the CPU's load; the size)."""
    published = Filters(state="published")
    for text in texts[:10]:  # warm-up: first calls allocate
        ranking.search(backend, None, [text], embedder.embed([text]), top_k=5, filters=published)
    embedding, searching = [], []
    for text in texts:
        start = time.perf_counter()
        vector = embedder.embed([text])
        middle = time.perf_counter()
        ranking.search(backend, None, [text], vector, top_k=5, filters=published)
        embedding.append((middle - start) * 1000)
        searching.append((time.perf_counter() - middle) * 1000)
    total = [a + b for a, b in zip(embedding, searching, strict=True)]
    (p50, p95), (e50, e95), (s50, s95) = percentiles(total), percentiles(embedding), percentiles(searching)
    return {"search_ms_p50": p50, "search_ms_p95": p95, "query_embedding_ms_p50": e50, "query_embedding_ms_p95": e95,
            "backend_and_ranking_ms_p50": s50, "backend_and_ranking_ms_p95": s95}


def perturbed(items: list[IndexedEntry], count: int) -> list[IndexedEntry]:
    """`count` indexed entries made from `items`: new ids, vectors with noise added and renormalised."""
    rng = np.random.default_rng(SEED)
    made = []
    for number in range(count):
        item = items[number % len(items)]
        vectors = item.vectors + rng.normal(0, NOISE, item.vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        answer = item.answer_vector + rng.normal(0, NOISE, item.answer_vector.shape).astype(np.float32)
        made.append(IndexedEntry(entry=item.entry.model_copy(update={"id": f"large-{number:07d}"}),
                                 vectors=vectors.astype(np.float32),
                                 answer_vector=(answer / np.linalg.norm(answer)).astype(np.float32)))
    return made


def main(sizes: Annotated[str, typer.Option(help="Comma-separated sizes to embed and index.")] = "1000,10000",
         large: Annotated[str, typer.Option(help="Comma-separated sizes of the perturbed-vector search test "
                                            "(empty: none).")] = "100000",
         query_count: Annotated[int, typer.Option("--queries", min=20)] = 200,
         out: Annotated[Path | None, typer.Option(help="Also write the figures to this JSON file.")] = None) -> None:
    figures: dict[str, dict] = {}
    biggest_items: list[IndexedEntry] = []
    embedder = None
    with tempfile.TemporaryDirectory() as folder:
        for size in [int(s) for s in sizes.split(",") if s.strip()]:
            entries = generate(size)
            url = f"sqlite:///{folder}/bench-{size}.db"
            kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.5)
            embedder = kb.embedder
            console.print(f"{size} entries: importing with fresh embeddings…")
            start = time.perf_counter()
            kb.import_entries(entries, show_progress=True)
            fresh_s = time.perf_counter() - start

            console.print(f"{size} entries: loading again with the warm embedding cache…")
            start = time.perf_counter()
            again = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.5)
            warm_s = time.perf_counter() - start

            console.print(f"{size} entries: an edit of every entry (new versions, no new text), live refresh…")
            edited = [e.model_copy(update={"url": f"https://city.example/{e.id}"}) for e in entries]
            start = time.perf_counter()
            again.import_entries(edited)
            edit_s = time.perf_counter() - start

            latency = search_latency(again.backend, embedder, questions(entries, query_count))
            editor = EntryEditor(again)
            start = time.perf_counter()
            editor.list(text="permit", limit=25)
            list_ms = (time.perf_counter() - start) * 1000
            figures[str(size)] = {
                "entries": size, "texts_embedded": len({t for e in entries
                                                       for t in (*ranking.indexed_phrasings(e), e.answer)}),
                "reindex_fresh_entries_per_s": round(size / fresh_s, 1), "reindex_fresh_s": round(fresh_s, 1),
                "reindex_warm_cache_entries_per_s": round(size / warm_s, 1), "reindex_warm_cache_s": round(warm_s, 2),
                "edit_all_and_refresh_entries_per_s": round(size / edit_s, 1),
                **latency, "editor_list_text_ms": round(list_ms, 1),
                "vectors": "embedded"}
            biggest_items = again.published()
            del kb, again, editor

        for count in [int(s) for s in large.split(",") if s.strip()] if biggest_items and embedder else []:
            console.print(f"{count} entries: perturbed vectors of {len(biggest_items)} embedded entries…")
            backend = EmbeddedBackend()
            items = perturbed(biggest_items, count)
            start = time.perf_counter()
            for chunk in range(0, len(items), 10_000):
                backend.upsert(items[chunk:chunk + 10_000])
            build_s = time.perf_counter() - start
            latency = search_latency(backend, embedder, questions([i.entry for i in biggest_items], query_count))
            figures[f"{count} (perturbed)"] = {"entries": count, "index_build_s": round(build_s, 1), **latency,
                                               "vectors": f"perturbed copies of {len(biggest_items)} (noise {NOISE})"}
            del backend, items

    table = Table("entries", "fresh /s", "warm cache /s", "edit all /s", "search p50/p95 ms",
                  "of which embedding", "of which search+rank", "vectors",
                  title="Knowledge base benchmark (embedded backend)")
    for row in figures.values():
        table.add_row(str(row["entries"]), str(row.get("reindex_fresh_entries_per_s", "—")),
                      str(row.get("reindex_warm_cache_entries_per_s", "—")),
                      str(row.get("edit_all_and_refresh_entries_per_s", "—")),
                      f"{row['search_ms_p50']} / {row['search_ms_p95']}",
                      f"{row['query_embedding_ms_p50']} / {row['query_embedding_ms_p95']}",
                      f"{row['backend_and_ranking_ms_p50']} / {row['backend_and_ranking_ms_p95']}", row["vectors"])
    Console().print(table)
    if out is not None:
        out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    typer.run(main)
