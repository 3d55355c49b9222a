"""The knowledge base as the assistant uses it: store, embedder and search backend composed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.search import Filters, IndexedEntry, SearchBackend, SearchHit
from knowledge_base.store import EmbeddingCache, EntryStore, UpsertReport

# Longest query text the search takes; the embedding model reads only its first 256 tokens anyway.
MAX_QUERY_CHARS = 10_000


@dataclass(frozen=True)
class Answer:
    """The answer-or-not decision for one question, with the ranking it was made from."""

    results: list[SearchHit]
    threshold: float

    @property
    def entry(self) -> Entry | None:
        """The entry to answer with, or None when no entry is confident enough."""
        if self.results and self.results[0].confidence >= self.threshold:
            return self.results[0].entry
        return None

    @property
    def confidence(self) -> float:
        return self.results[0].confidence if self.results else 0.0


class KnowledgeBase:
    def __init__(self, *, store: EntryStore, cache: EmbeddingCache, embedder: Embedder,
                 backend: SearchBackend, threshold: float) -> None:
        self.store = store
        self.embedder = embedder
        self.backend = backend
        self.threshold = threshold
        self._cache = cache

    def load_index(self, *, show_progress: bool = False) -> int:
        """Index every stored entry; phrasings embedded before are read from the cache."""
        entries = self.store.all()
        self._index(entries, show_progress=show_progress)
        return len(entries)

    def import_entries(self, entries: Sequence[Entry], *, show_progress: bool = False) -> UpsertReport:
        """Store entries (all or nothing) and index the new and changed ones."""
        report = self.store.upsert_many(entries)
        self._index(list(entries), show_progress=show_progress)
        return report

    def search(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> list[SearchHit]:
        text = text.strip()[:MAX_QUERY_CHARS]
        if not text:
            return []
        return self.backend.search(text, self.embedder.embed_one(text), top_k=top_k, filters=filters)

    def answer(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> Answer:
        """Search and decide, with the configured threshold: the one code path the assistant and eval use."""
        return Answer(results=self.search(text, top_k=top_k, filters=filters), threshold=self.threshold)

    def _index(self, entries: list[Entry], *, show_progress: bool) -> None:
        texts = list(dict.fromkeys(p for e in entries for p in e.phrasings))
        vectors = self._cache.get_many(texts)
        missing = [t for t in texts if t not in vectors]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing, show_progress=show_progress), strict=True))
            self._cache.put_many(fresh)
            vectors.update(fresh)
        self.backend.upsert([IndexedEntry(entry=e, vectors=np.vstack([vectors[p] for p in e.phrasings]))
                             for e in entries])
