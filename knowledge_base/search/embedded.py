"""In-process search: exact cosine over normalised phrasing vectors (NumPy) fused with BM25 (SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence

import numpy as np

from knowledge_base.search.fusion import confidence, lexical_strength
from knowledge_base.search.protocol import Filters, IndexedEntry, SearchHit

# Column weights of bm25(): question, alternative phrasings, answer.
BM25_WEIGHTS = (2.0, 1.5, 0.5)
CANDIDATES_PER_RESULT = 10
_WORD = re.compile(r"\w+", re.UNICODE)


class EmbeddedBackend:
    """Exact and fast up to hundreds of thousands of entries on one machine; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, IndexedEntry] = {}
        self._matrix: np.ndarray | None = None  # phrasing vectors of all entries, entry by entry
        self._starts: np.ndarray = np.zeros(0, dtype=np.int64)  # first phrasing row of each entry
        self._owner: np.ndarray = np.zeros(0, dtype=np.int64)  # entry position of each phrasing row
        self._departments: np.ndarray = np.zeros(0, dtype=object)
        self._languages: np.ndarray = np.zeros(0, dtype=object)
        self._position: dict[str, int] = {}
        self._order: list[str] = []
        self._fts = sqlite3.connect(":memory:", check_same_thread=False)
        self._fts.execute("CREATE VIRTUAL TABLE fts USING fts5(entry_id UNINDEXED, department UNINDEXED,"
                          " language UNINDEXED, question, alt_questions, answer,"
                          " tokenize='porter unicode61 remove_diacritics 2')")

    def upsert(self, items: Sequence[IndexedEntry]) -> None:
        with self._lock:
            ids = [item.entry.id for item in items]
            self._delete_text(ids)
            self._fts.executemany(
                "INSERT INTO fts (entry_id, department, language, question, alt_questions, answer)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(i.entry.id, i.entry.department, i.entry.language, i.entry.question,
                  "\n".join(i.entry.alt_questions), i.entry.answer) for i in items])
            for item in items:
                self._items[item.entry.id] = item
            self._matrix = None

    def delete(self, entry_ids: Sequence[str]) -> None:
        with self._lock:
            self._delete_text(entry_ids)
            for entry_id in entry_ids:
                self._items.pop(entry_id, None)
            self._matrix = None

    def count(self) -> int:
        return len(self._items)

    def search(self, text: str, vector: np.ndarray, *, top_k: int,
               filters: Filters | None = None) -> list[SearchHit]:
        with self._lock:
            if not self._items:
                return []
            self._build_matrix()
            dense, best_rows = self._dense_scores(vector)
            # filter before choosing candidates, so that a filtered search still finds top_k entries
            allowed = self._allowed(filters)
            ranked = np.argsort(-np.where(allowed, dense, -np.inf))[: top_k * CANDIDATES_PER_RESULT]
            candidates = {int(p) for p in ranked if allowed[p]}
            lexical = self._lexical_scores(text, limit=top_k * CANDIDATES_PER_RESULT, filters=filters)
            candidates.update(self._position[e] for e in lexical)
            hits = []
            for position in candidates:
                item = self._items[self._order[position]]
                lex = lexical.get(item.entry.id, 0.0)
                d = float(dense[position])
                hits.append(SearchHit(entry=item.entry, confidence=confidence(d, lex), dense=d,
                                      lexical=lex, matched_phrasing=item.entry.phrasings[best_rows[position]]))
            hits.sort(key=lambda h: (-h.confidence, h.entry.id))
            return hits[:top_k]

    def _delete_text(self, entry_ids: Sequence[str]) -> None:
        self._fts.executemany("DELETE FROM fts WHERE entry_id = ?", [(e,) for e in entry_ids])

    def _build_matrix(self) -> None:
        if self._matrix is not None:
            return
        self._order = list(self._items)
        self._position = {entry_id: i for i, entry_id in enumerate(self._order)}
        blocks = [self._items[e].vectors for e in self._order]
        sizes = np.array([len(b) for b in blocks], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._owner = np.repeat(np.arange(len(blocks)), sizes)
        self._departments = np.array([self._items[e].entry.department for e in self._order], dtype=object)
        self._languages = np.array([self._items[e].entry.language for e in self._order], dtype=object)
        self._matrix = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)

    def _dense_scores(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the best cosine over its phrasings, and the index of that phrasing."""
        sims = self._matrix @ vector.astype(np.float32)
        best = np.maximum.reduceat(sims, self._starts)
        best_rows = np.nonzero(sims >= best[self._owner])[0]
        # ties: keep the first best phrasing of each entry (rows ascend, so np.unique's first index)
        owners, first = np.unique(self._owner[best_rows], return_index=True)
        local = np.zeros(len(best), dtype=np.int64)
        local[owners] = best_rows[first] - self._starts[owners]
        return best, local

    def _allowed(self, filters: Filters | None) -> np.ndarray:
        allowed = np.ones(len(self._order), dtype=bool)
        if filters and filters.department is not None:
            allowed &= self._departments == filters.department
        if filters and filters.language is not None:
            allowed &= self._languages == filters.language
        return allowed

    def _lexical_scores(self, text: str, *, limit: int, filters: Filters | None) -> dict[str, float]:
        words = {w.lower() for w in _WORD.findall(text)}
        if not words:
            return {}
        query = " OR ".join(f'"{w}"' for w in sorted(words))
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        conditions, parameters = ["fts MATCH ?"], [query]
        for column in ("department", "language"):
            value = getattr(filters, column) if filters else None
            if value is not None:
                conditions.append(f"{column} = ?")
                parameters.append(value)
        rows = self._fts.execute(
            f"SELECT entry_id, -bm25(fts, 0, 0, 0, {weights}) AS score FROM fts WHERE {' AND '.join(conditions)}"
            " ORDER BY score DESC LIMIT ?", (*parameters, limit)).fetchall()
        return {entry_id: lexical_strength(score) for entry_id, score in rows}
