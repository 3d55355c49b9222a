"""The knowledge base as the assistant uses it: store, embedder, search backend and calibration composed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base import calibration, ranking
from knowledge_base.calibration import Calibration
from knowledge_base.classifier import EntryClassifier
from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.search import Filters, IndexedEntry, SearchBackend, SearchHit
from knowledge_base.store import CalibrationStore, EmbeddingCache, EntryStore, UpsertReport

# Longest query text the search takes; the embedding model reads only its first 256 tokens anyway.
MAX_QUERY_CHARS = 10_000
DEFAULT_TARGET_PRECISION = 0.97
DEFAULT_UNANSWERABLE_SHARE = 0.3


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
    """Answers from the entries; its threshold is `threshold` if given, else the one calibrated on the entries."""

    def __init__(self, *, store: EntryStore, cache: EmbeddingCache, embedder: Embedder, backend: SearchBackend,
                 calibrations: CalibrationStore, threshold: float | None = None,
                 target_precision: float = DEFAULT_TARGET_PRECISION,
                 unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE) -> None:
        self.store = store
        self.embedder = embedder
        self.backend = backend
        self.target_precision = target_precision
        self.unanswerable_share = unanswerable_share
        self.calibration: Calibration | None = None
        self.classifier: EntryClassifier | None = None
        self._explicit_threshold = threshold
        self._cache = cache
        self._calibrations = calibrations
        self._indexed: dict[str, IndexedEntry] = {}

    @property
    def threshold(self) -> float:
        """The explicit threshold if one was given, else the calibrated one, else calibration's default."""
        if self._explicit_threshold is not None:
            return self._explicit_threshold
        return self.calibration.threshold if self.calibration else calibration.DEFAULT_THRESHOLD

    def load_index(self, *, show_progress: bool = False) -> int:
        """Index every stored entry (phrasings embedded before are read from the cache), then calibrate if stale."""
        entries = self.store.all()
        self._index(entries, show_progress=show_progress)
        self._ensure_calibrated()
        return len(entries)

    def import_entries(self, entries: Sequence[Entry], *, show_progress: bool = False) -> UpsertReport:
        """Store entries (all or nothing), index the new and changed ones and recalibrate if any changed."""
        report = self.store.upsert_many(entries)
        # the classifier and the calibration need every entry, including those stored before
        missing = self.store.count() != len(self._indexed.keys() | {e.id for e in entries})
        self._index(self.store.all() if missing else list(entries), show_progress=show_progress)
        self._ensure_calibrated()
        return report

    def calibrate(self) -> Calibration:
        """Calibrate the threshold on the indexed entries now, and store it."""
        result = calibration.calibrate(list(self._indexed.values()), backend=self.backend,
                                       classifier=self.classifier, embedder=self.embedder,
                                       target_precision=self.target_precision,
                                       unanswerable_share=self.unanswerable_share)
        self._calibrations.put(fingerprint=self._fingerprint(), threshold=result.threshold,
                               figures=result.figures())
        self.calibration = result
        return result

    def search(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> list[SearchHit]:
        text = text.strip()[:MAX_QUERY_CHARS]
        if not text:
            return []
        texts, vectors = ranking.message_parts(self.embedder, text)
        return ranking.search(self.backend, self.classifier, texts, vectors, top_k=top_k, filters=filters)

    def answer(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> Answer:
        """Search and decide, with the configured threshold: the one code path the assistant and eval use."""
        return Answer(results=self.search(text, top_k=top_k, filters=filters), threshold=self.threshold)

    def _ensure_calibrated(self) -> None:
        """Use the stored calibration if it was made on these entries, else calibrate (not with an explicit one)."""
        if self._explicit_threshold is not None or not self._indexed:
            return
        stored = self._calibrations.get()
        if stored is not None and stored[0] == self._fingerprint():
            self.calibration = Calibration.from_figures(stored[2])
        else:
            self.calibrate()

    def _fingerprint(self) -> str:
        """What a calibration depends on: the entries, the model, the procedure and its settings."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.embedder.model_name, calibration.VERSION, self.target_precision,
                                  self.unanswerable_share]).encode())
        for entry_id in sorted(self._indexed):
            digest.update(self._indexed[entry_id].entry.model_dump_json().encode())
        return digest.hexdigest()

    def _index(self, entries: list[Entry], *, show_progress: bool) -> None:
        phrasings = {e.id: ranking.indexed_phrasings(e) for e in entries}
        texts = list(dict.fromkeys([*(p for e in entries for p in phrasings[e.id]), *(e.answer for e in entries)]))
        vectors = self._cache.get_many(texts)
        missing = [t for t in texts if t not in vectors]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing, show_progress=show_progress), strict=True))
            self._cache.put_many(fresh)
            vectors.update(fresh)
        items = [IndexedEntry(entry=e, vectors=np.vstack([vectors[p] for p in phrasings[e.id]]),
                              answer_vector=vectors[e.answer]) for e in entries]
        self.backend.upsert(items)
        self._indexed.update((item.entry.id, item) for item in items)
        if items:
            self.classifier = EntryClassifier.train(list(self._indexed.values()))
