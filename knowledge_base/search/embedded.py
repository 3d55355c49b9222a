"""In-process search: exact cosine over normalised phrasing vectors (NumPy) and BM25 (SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence, Set

import numpy as np

from knowledge_base.ranking import shown_phrasing
from knowledge_base.search.fusion import VOTE_SIZE, lexical_strength
from knowledge_base.search.protocol import Candidate, Filters, IndexedEntry

# Column weights of bm25(): question, alternative phrasings, answer.
BM25_WEIGHTS = (2.0, 1.5, 1.0)
_WORD = re.compile(r"\w+", re.UNICODE)
# Left out of BM25 queries, as Elasticsearch's "_english_" stop filter leaves them out of the other backend's:
# they carry no evidence, and each matched nearly every entry (most of a query's cost at 100,000 entries).
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"})


class EmbeddedBackend:
    """Exact and fast up to hundreds of thousands of entries on one machine; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, IndexedEntry] = {}
        self._matrix: np.ndarray | None = None  # phrasing vectors of all entries, entry by entry
        self._answers: np.ndarray = np.zeros((0, 0), dtype=np.float32)  # one answer vector per entry
        self._starts: np.ndarray = np.zeros(0, dtype=np.int64)  # first phrasing row of each entry
        self._owner: np.ndarray = np.zeros(0, dtype=np.int64)  # entry position of each phrasing row
        self._departments: np.ndarray = np.zeros(0, dtype=object)
        self._languages: np.ndarray = np.zeros(0, dtype=object)
        self._states: np.ndarray = np.zeros(0, dtype=object)
        self._position: dict[str, int] = {}
        self._order: list[str] = []
        self._rowids: dict[str, int] = {}  # FTS row of each entry
        self._next_rowid = 0
        self._fts = sqlite3.connect(":memory:", check_same_thread=False)
        self._fts.execute("CREATE VIRTUAL TABLE fts USING fts5(entry_id UNINDEXED, department UNINDEXED,"
                          " language UNINDEXED, state UNINDEXED, question, alt_questions, answer,"
                          " tokenize='porter unicode61 remove_diacritics 2')")

    def upsert(self, items: Sequence[IndexedEntry]) -> None:
        with self._lock:
            items = list({item.entry.id: item for item in items}.values())  # the last of an id wins
            self._delete_text([item.entry.id for item in items])
            rows = []
            for item in items:
                self._next_rowid += 1
                self._rowids[item.entry.id] = self._next_rowid
                rows.append((self._next_rowid, item.entry.id, item.entry.department, item.entry.language, item.state,
                             item.entry.question, "\n".join(item.entry.alt_questions), item.entry.answer))
            self._fts.executemany(
                "INSERT INTO fts (rowid, entry_id, department, language, state, question, alt_questions, answer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
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

    def search(self, text: str, vector: np.ndarray, *, limit: int,
               filters: Filters | None = None) -> list[Candidate]:
        with self._lock:
            if not self._items:
                return []
            self._build_matrix()
            vector = vector.astype(np.float32)
            best, best_rows, votes = self._phrasing_scores(vector)
            # filter before choosing candidates, so that a filtered search still finds `limit` entries
            allowed = self._allowed(filters)
            ranked = np.argsort(-np.where(allowed, votes, -np.inf), kind="stable")[:limit]
            positions = {int(p) for p in ranked if allowed[p]}
            # the words count for every candidate, also those BM25 does not rank among its own `limit` best
            lexical = self._lexical_scores(text, limit=limit, filters=filters,
                                           also={self._order[p] for p in positions})
            positions.update(self._position[e] for e in lexical)
            order = sorted(positions, key=lambda p: (-votes[p], self._order[p]))
            answers = self._answers[order] @ vector if order else np.zeros(0)
            candidates = []
            for position, answer in zip(order, answers, strict=True):
                entry = self._items[self._order[position]].entry
                scores = tuple(float(b[position]) for b in best if np.isfinite(b[position]))
                candidates.append(Candidate(entry=entry, phrasing_scores=scores,
                                            matched_phrasing=shown_phrasing(entry, int(best_rows[position])),
                                            answer_score=float(answer), lexical=lexical.get(entry.id, 0.0)))
            return candidates

    def _delete_text(self, entry_ids: Sequence[str]) -> None:
        # by rowid: entry_id is UNINDEXED, and deleting by it scanned the whole table once per entry (quadratic)
        rowids = [(self._rowids.pop(e),) for e in entry_ids if e in self._rowids]
        self._fts.executemany("DELETE FROM fts WHERE rowid = ?", rowids)

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
        self._states = np.array([self._items[e].state for e in self._order], dtype=object)
        dimension = blocks[0].shape[1]
        self._answers = np.vstack([vector if (vector := self._items[e].answer_vector) is not None
                                   else np.zeros(dimension, dtype=np.float32) for e in self._order]
                                  ).astype(np.float32)
        self._matrix = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)

    def _phrasing_scores(self, vector: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Per entry: its VOTE_SIZE best phrasing cosines (-inf when it has fewer), the best one's row, the vote."""
        sims = self._matrix @ vector
        best: list[np.ndarray] = []
        best_rows = np.zeros(len(self._starts), dtype=np.int64)
        for round_ in range(min(VOTE_SIZE, int(np.diff(np.append(self._starts, len(sims))).max()))):
            top = np.maximum.reduceat(sims, self._starts)
            rows = np.nonzero(sims >= top[self._owner])[0]
            # ties: take the first best phrasing of each entry (rows ascend, so np.unique's first index)
            owners, first = np.unique(self._owner[rows], return_index=True)
            taken = rows[first]
            if round_ == 0:
                best_rows[owners] = taken - self._starts[owners]
            best.append(np.where(np.isfinite(top), top, -np.inf))
            sims[taken] = -np.inf
        stacked = np.vstack(best)
        finite = np.isfinite(stacked)
        votes = np.where(finite, stacked, 0.0).sum(axis=0) / np.maximum(finite.sum(axis=0), 1)
        return best, best_rows, votes

    def _allowed(self, filters: Filters | None) -> np.ndarray:
        allowed = np.ones(len(self._order), dtype=bool)
        if filters and filters.department is not None:
            allowed &= self._departments == filters.department
        if filters and filters.language is not None:
            allowed &= self._languages == filters.language
        if filters and filters.state is not None:
            allowed &= self._states == filters.state
        return allowed

    def _lexical_scores(self, text: str, *, limit: int, filters: Filters | None,
                        also: Set[str] = frozenset()) -> dict[str, float]:
        """BM25 strength of the `limit` entries best matching the text's words, and of the entries `also` that
        match them at all."""
        words = {w.lower() for w in _WORD.findall(text)} - STOP_WORDS
        if not words:
            return {}
        query = " OR ".join(f'"{w}"' for w in sorted(words))
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        conditions, parameters = ["fts MATCH ?"], [query]
        for column in ("department", "language", "state"):
            value = getattr(filters, column) if filters else None
            if value is not None:
                conditions.append(f"{column} = ?")
                parameters.append(value)
        # the MATCH runs once (it is the costly part: common words match most entries); its scores then give
        # both the `limit` best and those of the entries `also`
        known = [self._rowids[e] for e in also if e in self._rowids]
        rows = self._fts.execute(
            f"WITH scored AS MATERIALIZED (SELECT rowid, entry_id, -bm25(fts, 0, 0, 0, 0, {weights}) AS score"
            f" FROM fts WHERE {' AND '.join(conditions)})"
            " SELECT * FROM (SELECT entry_id, score FROM scored ORDER BY score DESC LIMIT ?)"
            f" UNION SELECT entry_id, score FROM scored WHERE rowid IN ({', '.join('?' * len(known))})",
            (*parameters, limit, *known)).fetchall()
        return {entry_id: lexical_strength(score) for entry_id, score in rows}
