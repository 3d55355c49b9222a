"""`citydesk bench search`: the embedded search at a size no city has yet, exact against approximate.

Entries are generated, deterministically from a seed, out of real phrasings: the demo knowledge base's and those of
the shared evaluation sets (../shared/eval, read where they are, never copied). A pool of these phrasings is embedded
with the real model; each generated entry takes up to three phrasings of one source entry, with words of its own
(a place, a time) in its texts and a direction of its own in its vectors (the phrasings' vectors plus a random offset
shared by the entry and a little noise per phrasing, renormalised), so that entries are distinct but cluster as real
ones do. Embedding 100,000 entries' texts for real would take hours on 2 cores. The queries are real questions (the
sets' question files), embedded once; their embedding time is reported apart from the search's.

Three backends index the same entries: the approximate and the exact vector search, both with BM25 from the
in-memory index (knowledge_base/search/lexical.py), and the exact one with BM25 from SQLite FTS5 (as below
CITYDESK_SEARCH_LEXICAL_FROM). A query is `ranking.search` over the published entries (what the knowledge base does
with a citizen's question, less the embedding); recall@3 is the share of the exact search's first three entries that
the approximate search also ranks first three, and `fts5_same_results` the share of questions whose first three
entries, confidences included, are the same with FTS5 as with the in-memory index.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from knowledge_base import ranking
from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.search import Filters, IndexedEntry
from knowledge_base.search.embedded import EmbeddedBackend

SEED = 16
ENTRY_OFFSET = 0.35  # norm of an entry's own direction, against unit phrasing vectors: cosine about 0.94
PHRASING_NOISE = 0.15  # norm of each phrasing's own noise
STATE_SHARES = (("published", 0.9), ("draft", 0.07), ("retired", 0.03))
PLACES = ("downtown", "the north side", "Riverside", "Old Town", "the harbour district", "Maple Heights",
          "the industrial park", "Eastgate", "Westbrook", "Hillcrest", "the university quarter", "Lakeview",
          "Cedar Park", "Southgate", "Millbrook", "the airport area")
WHEN = ("this week", "before winter", "online", "in person", "for my landlord", "for a neighbour", "after a move",
        "as a senior", "for my business", "on weekends", "at night", "in the summer")
ANSWER_CHARS = 400
TIMED_EMBEDDINGS = 50


@dataclass(frozen=True)
class Source:
    """A real entry to draw phrasings from."""

    phrasings: tuple[str, ...]
    answer: str
    department: str


@dataclass
class Figures:
    entries: int
    phrasings: int
    queries: int
    sources: int
    embedded_texts: int
    embedding_s: float
    query_embedding_ms_p50: float
    query_embedding_ms_p95: float
    exact: dict[str, float] = field(default_factory=dict)
    approximate: dict[str, float] = field(default_factory=dict)
    exact_fts5: dict[str, float] = field(default_factory=dict)
    fts5_same_results: float = 0.0
    recall_at_3: float = 0.0
    candidates_recall_at_30: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_average_start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def as_dict(self) -> dict:
        return asdict(self)


def read_sources(demo_kb: Path, eval_dir: Path | None) -> tuple[list[Source], list[str]]:
    """Source entries and real questions: the demo's, and every shared set's in `eval_dir` (when it exists)."""
    files = [(demo_kb, demo_kb.with_name("demo_questions.jsonl"))]
    if eval_dir is not None and eval_dir.is_dir():
        for folder in sorted(p for p in eval_dir.iterdir() if (p / "kb.jsonl").is_file()):
            files += [(folder / "kb.jsonl", q) for q in sorted(folder.glob("questions*.jsonl"))[:1]]
    sources: list[Source] = []
    questions: list[str] = []
    for kb, question_file in files:
        for record in _jsonl(kb):
            phrasings = tuple(dict.fromkeys(p for p in (record["question"], *record.get("alt_questions", ())) if p))
            sources.append(Source(phrasings=phrasings, answer=str(record.get("answer", ""))[:ANSWER_CHARS],
                                  department=str(record.get("department") or kb.parent.name)))
        if question_file.is_file():
            questions += [str(r["text"]) for r in _jsonl(question_file) if r.get("text")]
    return sources, questions


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


def generate(count: int, sources: list[Source], vectors: dict[str, np.ndarray], *,
             seed: int = SEED) -> list[IndexedEntry]:
    """`count` indexed entries made from the sources' embedded phrasings (`vectors`), reproducibly from `seed`."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    usable = [s for s in sources if any(p in vectors for p in s.phrasings)]
    dimension = len(next(iter(vectors.values())))
    states = [state for state, _ in STATE_SHARES]
    weights = [share for _, share in STATE_SHARES]
    items = []
    for number in range(count):
        source = rng.choice(usable)
        phrasings = [p for p in source.phrasings if p in vectors]
        chosen = rng.sample(phrasings, min(3, len(phrasings)))
        place, when = rng.choice(PLACES), rng.choice(WHEN)
        texts = [f"{text} ({place}, {when})" for text in chosen]
        offset = noise.normal(0, ENTRY_OFFSET / np.sqrt(dimension), dimension)
        rows = np.vstack([vectors[p] for p in chosen]) + offset
        rows += noise.normal(0, PHRASING_NOISE / np.sqrt(dimension), rows.shape)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        answer = rows.mean(axis=0)
        entry = Entry(id=f"bench-{number:07d}", question=texts[0], alt_questions=tuple(texts[1:]),
                      answer=f"{source.answer} ({place}, {when}; form {number})", department=source.department)
        items.append(IndexedEntry(entry=entry, vectors=rows.astype(np.float32),
                                  answer_vector=(answer / np.linalg.norm(answer)).astype(np.float32),
                                  state=rng.choices(states, weights)[0]))
    return items


def rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


def run(embedder: Embedder, *, entries: int, queries: int, texts: int, demo_kb: Path, eval_dir: Path | None,
        progress: Callable[[str], None] = lambda _: None) -> Figures:
    """Generate, index with both backends, query both, and compare."""
    load_start = os.getloadavg()
    sources, questions = read_sources(demo_kb, eval_dir)
    rng = random.Random(SEED)
    pool = sorted({p for s in sources for p in s.phrasings})
    pool = rng.sample(pool, min(texts, len(pool)))
    asked = rng.sample(questions, min(queries, len(questions)))
    progress(f"embedding {len(pool)} phrasings and {len(asked)} questions")
    start = time.perf_counter()
    vectors = dict(zip(pool, embedder.embed(pool), strict=True))
    embedding_s = time.perf_counter() - start
    query_vectors = list(embedder.embed(asked))
    timings = []
    for question in asked[:TIMED_EMBEDDINGS]:  # one by one, as a citizen's question comes
        start = time.perf_counter()
        embedder.embed([question])
        timings.append((time.perf_counter() - start) * 1000)
    progress(f"generating {entries} entries")
    items = generate(entries, sources, vectors)
    figures = Figures(entries=entries, phrasings=sum(len(i.vectors) for i in items), queries=len(asked),
                      sources=len(sources), embedded_texts=len(pool), embedding_s=round(embedding_s, 1),
                      query_embedding_ms_p50=percentile(timings, 50), query_embedding_ms_p95=percentile(timings, 95))
    results: dict[str, list[list[str]]] = {}
    candidates: dict[str, list[set[str]]] = {}
    confident: dict[str, list[list[tuple[str, float]]]] = {}
    for name, approximate_from, lexical_from in (("approximate", 0, 0), ("exact", None, 0),
                                                 ("exact_fts5", None, None)):
        with tempfile.TemporaryDirectory() as folder:
            index_file = Path(folder) / "index.npz"
            progress(f"{name}: indexing")
            before = rss_mb()
            backend = EmbeddedBackend(approximate_from=approximate_from, index_file=index_file,
                                      lexical_from=lexical_from)
            start = time.perf_counter()
            backend.upsert(items)
            backend.search("", query_vectors[0], limit=1)  # the first search builds the arrays
            index_s = time.perf_counter() - start
            measured = {"index_s": round(index_s, 1), "memory_mb": round(rss_mb() - before, 0)}
            progress(f"{name}: querying")
            measured.update(_query(backend, asked, query_vectors, results.setdefault(name, []),
                                   candidates.setdefault(name, []), confident.setdefault(name, [])))
            if approximate_from is not None:
                start = time.perf_counter()
                backend.save_index()
                measured["save_s"] = round(time.perf_counter() - start, 1)
                measured["file_mb"] = round(index_file.stat().st_size / 2**20, 0)
                start = time.perf_counter()  # a restart: the saved index is loaded, nothing is added
                restarted = EmbeddedBackend(approximate_from=0, index_file=index_file, lexical_from=0)
                restarted.upsert(items)
                measured["restart_index_s"] = round(time.perf_counter() - start, 1)
                del restarted
            del backend
            getattr(figures, name).update(measured)
    figures.recall_at_3 = round(statistics.mean(
        len(set(a) & set(e)) / max(len(e), 1) for a, e in zip(results["approximate"], results["exact"],
                                                              strict=True)), 4)
    figures.candidates_recall_at_30 = round(statistics.mean(
        len(a & e) / max(len(e), 1) for a, e in zip(candidates["approximate"], candidates["exact"], strict=True)), 4)
    figures.fts5_same_results = round(statistics.mean(
        a == e for a, e in zip(confident["exact"], confident["exact_fts5"], strict=True)), 4)
    one, five, fifteen = os.getloadavg()
    figures.load_average = (round(one, 2), round(five, 2), round(fifteen, 2))
    figures.load_average_start = (round(load_start[0], 2), round(load_start[1], 2), round(load_start[2], 2))
    return figures


def _query(backend: EmbeddedBackend, questions: list[str], vectors: list[np.ndarray], ranked: list[list[str]],
           found: list[set[str]], confidences: list[list[tuple[str, float]]]) -> dict[str, float]:
    """p50/p95 of a question's search and ranking (its vector given), and of the vectors' part alone."""
    published = Filters(state="published")
    for question, vector in list(zip(questions, vectors, strict=True))[:5]:  # warm-up
        ranking.search(backend, None, [question], vector[None, :], top_k=3, filters=published)
    whole, vector_only = [], []
    for question, vector in zip(questions, vectors, strict=True):
        start = time.perf_counter()
        hits = ranking.search(backend, None, [question], vector[None, :], top_k=3, filters=published)
        whole.append((time.perf_counter() - start) * 1000)
        ranked.append([hit.entry.id for hit in hits])
        confidences.append([(hit.entry.id, round(hit.confidence, 9)) for hit in hits])
        start = time.perf_counter()
        dense = backend.search("", vector, limit=ranking.CANDIDATES, filters=published)
        vector_only.append((time.perf_counter() - start) * 1000)
        found.append({c.entry.id for c in dense})
    return {"query_ms_p50": percentile(whole, 50), "query_ms_p95": percentile(whole, 95),
            "vectors_only_ms_p50": percentile(vector_only, 50), "vectors_only_ms_p95": percentile(vector_only, 95)}
