"""The knowledge base as the assistant uses it: store, embedder, search backend and calibration composed."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from knowledge_base import calibration, ranking
from knowledge_base.calibration import Calibration
from knowledge_base.clarification import clarification_options
from knowledge_base.classifier import EntryClassifier
from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.lifecycle import PUBLISHED
from knowledge_base.search import Filters, IndexedEntry, SearchBackend, SearchHit
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.store import CalibrationStore, EmbeddingCache, EntryStore, LiveEntry, UpsertReport

# Longest query text the search takes; the embedding model reads only its first 256 tokens anyway.
MAX_QUERY_CHARS = 10_000
DEFAULT_TARGET_PRECISION = 0.97
DEFAULT_UNANSWERABLE_SHARE = 0.3


@dataclass(frozen=True)
class Answer:
    """The answer-or-not decision for one question, with the ranking it was made from."""

    results: list[SearchHit]
    threshold: float
    # the message's embedding, for whoever needs it next (no second pass of the model)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def entry(self) -> Entry | None:
        """The entry to answer with, or None when no entry is confident enough."""
        if self.results and self.results[0].confidence >= self.threshold:
            return self.results[0].entry
        return None

    @property
    def confidence(self) -> float:
        return self.results[0].confidence if self.results else 0.0

    @property
    def options(self) -> list[SearchHit]:
        """The close entries to offer ("Did you mean …?") when none answers; see knowledge_base/clarification.py."""
        return clarification_options(self.results, self.threshold)


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
        self._indexed: dict[str, IndexedEntry] = {}  # every entry's live content, whatever its state
        self._live: dict[str, tuple[int, str]] = {}  # (version, state) of each indexed entry
        self._marker = -1  # the store's change marker when the index was last brought up to date
        self._calibration_stale = False
        self._lock = threading.RLock()  # one writer of the index at a time (desk poller, editor requests)

    @property
    def threshold(self) -> float:
        """The explicit threshold if one was given, else the calibrated one, else calibration's default."""
        if self._explicit_threshold is not None:
            return self._explicit_threshold
        return self.calibration.threshold if self.calibration else calibration.DEFAULT_THRESHOLD

    def load_index(self, *, show_progress: bool = False) -> int:
        """Index every stored entry (phrasings embedded before are read from the cache), then calibrate if stale."""
        with self._lock:
            self._marker = self.store.change_marker()
            entries = self.store.live()
            self._index(entries, show_progress=show_progress)
            self._ensure_calibrated()
            return len(entries)

    def import_entries(self, entries: Sequence[Entry], *, show_progress: bool = False, editor: str = "import",
                       note: str = "imported", state: str = PUBLISHED) -> UpsertReport:
        """Store entries as new versions (all or nothing), index the new and changed ones, recalibrate if needed."""
        report = self.store.upsert_many(entries, editor=editor, note=note, state=state)
        self.refresh(show_progress=show_progress)
        return report

    def refresh(self, *, calibrate: bool = True, show_progress: bool = False) -> int:
        """Bring the index up to date with the store: re-index only entries whose live version or state changed.

        Cheap when nothing changed (one query of the change marker), so a desk polls it every few seconds to see
        changes other processes made. `calibrate` False: recalibrate later, at the next call that may.
        Returns the number of entries re-indexed.
        """
        with self._lock:
            changed: list[str] = []
            marker = self.store.change_marker()
            if marker != self._marker:
                live = self.store.live_versions()
                changed = [entry_id for entry_id, seen in live.items() if self._live.get(entry_id) != seen]
                gone = [entry_id for entry_id in self._live if entry_id not in live]
                if changed:
                    self._index(self.store.live(changed), show_progress=show_progress)
                if gone:
                    self.backend.delete(gone)
                    for entry_id in gone:
                        self._indexed.pop(entry_id, None)
                        self._live.pop(entry_id, None)
                self._marker = marker
                self._calibration_stale = self._calibration_stale or bool(changed or gone)
            recalibrate = calibrate and self._calibration_stale
            self._calibration_stale = self._calibration_stale and not recalibrate
        if recalibrate:  # outside the lock: editors' changes are indexed meanwhile, and recalibrated next time
            self._ensure_calibrated()
        return len(changed)

    def published_version(self, entry_id: str) -> int | None:
        """The version of an entry that answers citizens now, or None when it is not published."""
        version, state = self._live.get(entry_id, (None, None))
        return version if state == PUBLISHED else None

    def published(self) -> list[IndexedEntry]:
        """The indexed entries that answer citizens."""
        return [item for item in self._indexed.values() if item.state == PUBLISHED]

    def calibrate(self) -> Calibration:
        """Calibrate the threshold on the published entries now, and store it."""
        with self._lock:  # a snapshot: the index may change while the calibration runs
            items, classifier, fingerprint = self.published(), self.classifier, self._fingerprint()
            backend = self.backend
            if len(items) != len(self._indexed):  # the bank questions must not see drafts or retired entries
                backend = EmbeddedBackend()
                backend.upsert(items)
        result = calibration.calibrate(items, backend=backend, classifier=classifier, embedder=self.embedder,
                                       target_precision=self.target_precision,
                                       unanswerable_share=self.unanswerable_share)
        self._calibrations.put(fingerprint=fingerprint, threshold=result.threshold, figures=result.figures())
        self.calibration = result
        return result

    def search(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> list[SearchHit]:
        """The best entries for `text`; published ones unless `filters.state` asks for another state."""
        return self._search(text, top_k=top_k, filters=filters)[0]

    def answer(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> Answer:
        """Search and decide, with the configured threshold: the one code path the assistant and eval use."""
        results, vector = self._search(text, top_k=top_k, filters=filters)
        return Answer(results=results, threshold=self.threshold, vector=vector)

    def _search(self, text: str, *, top_k: int, filters: Filters | None) -> tuple[list[SearchHit], np.ndarray | None]:
        """The ranked entries and the whole message's vector (None for an empty message)."""
        text = text.strip()[:MAX_QUERY_CHARS]
        if not text:
            return [], None
        filters = filters or Filters()
        if filters.state is None:
            filters = replace(filters, state=PUBLISHED)
        texts, vectors = ranking.message_parts(self.embedder, text)
        hits = ranking.search(self.backend, self.classifier, texts, vectors, top_k=top_k, filters=filters)
        return hits, vectors[0]

    def _ensure_calibrated(self) -> None:
        """Use the stored calibration if it was made on these entries, else calibrate (not with an explicit one)."""
        with self._lock:
            if self._explicit_threshold is not None or not self.published():
                return
            fingerprint = self._fingerprint()
        stored = self._calibrations.get()
        if stored is not None and stored[0] == fingerprint:
            self.calibration = Calibration.from_figures(stored[2])
        else:
            self.calibrate()

    def _fingerprint(self) -> str:
        """What a calibration depends on: the entries, the model, the procedure and its settings."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.embedder.model_name, calibration.VERSION, self.target_precision,
                                  self.unanswerable_share]).encode())
        for item in sorted(self.published(), key=lambda i: i.entry.id):
            digest.update(item.entry.model_dump_json().encode())
        return digest.hexdigest()

    def _index(self, live: list[LiveEntry], *, show_progress: bool) -> None:
        entries = [item.entry for item in live]
        phrasings = {e.id: ranking.indexed_phrasings(e) for e in entries}
        texts = list(dict.fromkeys([*(p for e in entries for p in phrasings[e.id]), *(e.answer for e in entries)]))
        vectors = self._cache.get_many(texts)
        missing = [t for t in texts if t not in vectors]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing, show_progress=show_progress), strict=True))
            self._cache.put_many(fresh)
            vectors.update(fresh)
        items = [IndexedEntry(entry=e.entry, vectors=np.vstack([vectors[p] for p in phrasings[e.entry.id]]),
                              answer_vector=vectors[e.entry.answer], state=e.state) for e in live]
        self.backend.upsert(items)
        self._indexed.update((item.entry.id, item) for item in items)
        self._live.update((e.entry.id, (e.version, e.state)) for e in live)
        if items:
            self.classifier = EntryClassifier.train(self.published())
