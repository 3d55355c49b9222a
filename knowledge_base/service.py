"""The knowledge base as the assistant uses it: store, embedder, search backend and calibration composed."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from knowledge_base import calibration, ranking
from knowledge_base.bands import Band, Thresholds, decide
from knowledge_base.calibration import DEFAULT_CONFIRM_PRECISION, Calibration, Confirmed
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
    """The decision for one question (its band, knowledge_base/bands.py), with the ranking it was made from.

    `threshold` is the answer threshold, `confirm_threshold` the lower end of the confirm band (None: the same as
    `threshold`, no confirm band).
    """

    results: list[SearchHit]
    threshold: float
    # the message's embedding, for whoever needs it next (no second pass of the model)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    confirm_threshold: float | None = None

    @property
    def thresholds(self) -> Thresholds:
        confirm = self.threshold if self.confirm_threshold is None else min(self.confirm_threshold, self.threshold)
        return Thresholds(answer=self.threshold, confirm=confirm)

    @property
    def band(self) -> Band:
        """answer, confirm, clarify or handoff."""
        return decide(self.results, self.thresholds)[0]

    @property
    def entry(self) -> Entry | None:
        """The entry to answer with directly (band `answer`), or None when no entry is confident enough."""
        return self.results[0].entry if self.band is Band.ANSWER else None

    @property
    def proposed(self) -> Entry | None:
        """The entry given as the answer in band `answer` or `confirm` (then with "Did this answer your
        question?"), else None."""
        return self.results[0].entry if self.band in (Band.ANSWER, Band.CONFIRM) else None

    @property
    def confidence(self) -> float:
        return self.results[0].confidence if self.results else 0.0

    @property
    def options(self) -> list[SearchHit]:
        """The close entries to offer ("Did you mean …?") in band `clarify`; see knowledge_base/clarification.py."""
        return decide(self.results, self.thresholds)[1]


class KnowledgeBase:
    """Answers from the entries; its thresholds are `threshold` (and `confirm_threshold`) if given, else the ones
    calibrated on the entries.

    `confirmed`, when set (by the learning of knowledge_base/learning.py), gives the questions confirmed in use that
    are not yet phrasings: the calibration asks them as real traffic.
    """

    def __init__(self, *, store: EntryStore, cache: EmbeddingCache, embedder: Embedder, backend: SearchBackend,
                 calibrations: CalibrationStore, threshold: float | None = None,
                 target_precision: float = DEFAULT_TARGET_PRECISION,
                 unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE,
                 confirm_threshold: float | None = None,
                 confirm_precision: float = DEFAULT_CONFIRM_PRECISION,
                 recalibration_interval_s: float = 0.0) -> None:
        self.store = store
        self.embedder = embedder
        self.backend = backend
        self.target_precision = target_precision
        self.unanswerable_share = unanswerable_share
        self.confirm_precision = confirm_precision
        self.confirmed: Callable[[], Sequence[Confirmed]] | None = None
        # a refresh recalibrates changed entries no more often than this (approved phrasings arrive one by one,
        # and a large knowledge base takes a minute to calibrate); imports and calibrate() are never held back
        self.recalibration_interval_s = recalibration_interval_s
        self._calibrated_at = float("-inf")
        self._explicit_confirm_threshold = confirm_threshold
        self.calibration: Calibration | None = None
        self.classifier: EntryClassifier | None = None
        self._explicit_threshold = threshold
        self._cache = cache
        self._calibrations = calibrations
        self._indexed: dict[str, IndexedEntry] = {}  # every entry's live content, whatever its state
        self._live: dict[str, tuple[int, str]] = {}  # (version, state) of each indexed entry
        self._marker = -1  # the store's change marker when the index was last brought up to date
        self._calibration_stale = False
        self._classifier_stale = False  # entries re-indexed without retraining: the next recalibration retrains
        self._lock = threading.RLock()  # one writer of the index at a time (desk poller, editor requests)

    @property
    def threshold(self) -> float:
        """The explicit threshold if one was given, else the calibrated one, else calibration's default."""
        if self._explicit_threshold is not None:
            return self._explicit_threshold
        return self.calibration.threshold if self.calibration else calibration.DEFAULT_THRESHOLD

    @property
    def confirm_threshold(self) -> float:
        """The lower end of the confirm band: the explicit one if given; with an explicit answer threshold and no
        explicit confirm threshold, the answer threshold (no confirm band); else the calibrated one."""
        if self._explicit_confirm_threshold is not None:
            return min(self._explicit_confirm_threshold, self.threshold)
        if self._explicit_threshold is not None or self.calibration is None:
            return self.threshold
        stored = self.calibration.confirm_threshold
        return self.threshold if stored is None else min(stored, self.threshold)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(answer=self.threshold, confirm=self.confirm_threshold)

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
        self.refresh(show_progress=show_progress, force_calibration=True)
        return report

    def refresh(self, *, calibrate: bool = True, show_progress: bool = False, force_calibration: bool = False,
                retrain: bool = True) -> int:
        """Bring the index up to date with the store: re-index only entries whose live version or state changed.

        Cheap when nothing changed (one query of the change marker), so a desk polls it every few seconds to see
        changes other processes made. `calibrate` False: recalibrate later, at the next call that may; a stale
        calibration is redone at most every `recalibration_interval_s`, unless `force_calibration`. `retrain`
        False: the entry classifier keeps its training until the next recalibration or `retrain_classifier`
        (approved phrasings answer at once through the phrasing vote; retraining a large knowledge base's
        classifier takes seconds).
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
                    self._index(self.store.live(changed), show_progress=show_progress, retrain=retrain)
                if gone:
                    self.backend.delete(gone)
                    for entry_id in gone:
                        self._indexed.pop(entry_id, None)
                        self._live.pop(entry_id, None)
                self._marker = marker
                self._calibration_stale = self._calibration_stale or bool(changed or gone)
            due = time.monotonic() - self._calibrated_at >= self.recalibration_interval_s
            recalibrate = calibrate and self._calibration_stale and (due or force_calibration)
            self._calibration_stale = self._calibration_stale and not recalibrate
        if recalibrate:  # outside the lock: editors' changes are indexed meanwhile, and recalibrated next time
            if self._classifier_stale:
                self.retrain_classifier()
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
        confirmed = self.confirmed() if self.confirmed is not None else ()
        result = calibration.calibrate(items, backend=backend, classifier=classifier, embedder=self.embedder,
                                       target_precision=self.target_precision,
                                       unanswerable_share=self.unanswerable_share,
                                       confirm_precision=self.confirm_precision, confirmed=confirmed,
                                       embed=self.embed_cached)
        self._calibrations.put(fingerprint=fingerprint, threshold=result.threshold, figures=result.figures())
        self.calibration = result
        self._calibrated_at = time.monotonic()
        return result

    def search(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> list[SearchHit]:
        """The best entries for `text`; published ones unless `filters.state` asks for another state."""
        return self._search(text, top_k=top_k, filters=filters)[0]

    def answer(self, text: str, *, top_k: int = 5, filters: Filters | None = None) -> Answer:
        """Search and decide, with the configured threshold: the one code path the assistant and eval use."""
        results, vector = self._search(text, top_k=top_k, filters=filters)
        thresholds = self.thresholds
        return Answer(results=results, threshold=thresholds.answer, confirm_threshold=thresholds.confirm,
                      vector=vector)

    def embed_cached(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The vectors of `texts`, from the embedding cache when they were embedded before (stored when not)."""
        texts = list(texts)
        vectors = self._cache.get_many(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in vectors))
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing, show_progress=show_progress), strict=True))
            self._cache.put_many(fresh)
            vectors.update(fresh)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.vstack([vectors[t] for t in texts])

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
                                  self.unanswerable_share, self.confirm_precision]).encode())
        for item in sorted(self.published(), key=lambda i: i.entry.id):
            digest.update(item.entry.model_dump_json().encode())
        return digest.hexdigest()

    def retrain_classifier(self) -> None:
        """Train the entry classifier again on the published entries' phrasings (after approved phrasings)."""
        with self._lock:
            self.classifier = EntryClassifier.train(self.published())
            self._classifier_stale = False

    def _index(self, live: list[LiveEntry], *, show_progress: bool, retrain: bool = True) -> None:
        entries = [item.entry for item in live]
        phrasings = {e.id: ranking.indexed_phrasings(e) for e in entries}
        texts = list(dict.fromkeys([*(p for e in entries for p in phrasings[e.id]), *(e.answer for e in entries)]))
        vectors = dict(zip(texts, self.embed_cached(texts, show_progress=show_progress), strict=True))
        items = [IndexedEntry(entry=e.entry, vectors=np.vstack([vectors[p] for p in phrasings[e.entry.id]]),
                              answer_vector=vectors[e.entry.answer], state=e.state) for e in live]
        self.backend.upsert(items)
        self._indexed.update((item.entry.id, item) for item in items)
        self._live.update((e.entry.id, (e.version, e.state)) for e in live)
        if items and retrain:
            self.classifier = EntryClassifier.train(self.published())
            self._classifier_stale = False
        elif items:
            self._classifier_stale = True
