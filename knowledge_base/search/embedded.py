"""In-process search: cosine over normalised phrasing vectors (NumPy, exact; FAISS HNSW at scale) and BM25
(SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence, Set
from pathlib import Path

import numpy as np

from knowledge_base.entry import Entry
from knowledge_base.ranking import shown_phrasing
from knowledge_base.search.approximate import PhrasingIndex
from knowledge_base.search.fusion import VOTE_SIZE, lexical_strength
from knowledge_base.search.lexical import TOKENIZE, Document, LexicalIndex
from knowledge_base.search.protocol import Candidate, Filters, IndexedEntry

# Column weights of bm25(): question, alternative phrasings, answer.
BM25_WEIGHTS = (2.0, 1.5, 1.0)
_WORD = re.compile(r"\w+", re.UNICODE)
# Phrasings the approximate index returns per entry wanted (the exact votes of their entries then choose), and the
# allowed phrasings below which a filtered search is exact instead (a narrow filter starves a graph search).
# Per entry wanted, on 100,000 generated entries (100 questions, exact top 3 / top 30 found): 4 phrasings .88 / .77,
# 8 .96 / .92, 16 .98 / .97, 32 1.0 / .996; the graph's search breadth (efSearch 96 to 512) changed nothing.
PHRASINGS_PER_ENTRY = 32
EXACT_BELOW_ROWS = 20_000
# Changed phrasings after which the approximate index is saved again (fewer are re-added at the next start).
SAVE_AFTER_CHANGES = 1_000
# Left out of BM25 queries, as Elasticsearch's "_english_" stop filter leaves them out of the other backend's:
# they carry no evidence, and each matched nearly every entry (most of a query's cost at 100,000 entries).
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"})


class EmbeddedBackend:
    """Exact cosine up to `approximate_from` entries, an approximate index of the phrasings (FAISS HNSW) from
    there on; BM25 in SQLite FTS5 up to `lexical_from` entries, from there on in an inverted index in memory that
    gives FTS5's scores (knowledge_base/search/lexical.py). Thread-safe.

    `approximate_from`, `lexical_from` None: never. `index_file`: where the approximate index is saved, so that a
    restart loads it instead of building it again (None: it lives in memory only). A filter that leaves `exact_below`
    phrasings or fewer is searched exactly.
    """

    def __init__(self, *, approximate_from: int | None = None, index_file: Path | None = None,
                 exact_below: int = EXACT_BELOW_ROWS, lexical_from: int | None = None) -> None:
        self._lock = threading.RLock()
        self._lexical_from = lexical_from
        self._lexical: LexicalIndex | None = None
        self._slot_position: np.ndarray = np.zeros(0, dtype=np.int64)  # entry position of each lexical slot, or -1
        self._exact_below = exact_below
        self._approximate_from = approximate_from
        self._index_file = index_file
        self._ann: PhrasingIndex | None = None
        self._items: dict[str, IndexedEntry] = {}
        self._built = False  # the arrays below describe self._items
        self._matrix: np.ndarray | None = None  # phrasing vectors of all entries, entry by entry (exact search)
        self._answers: np.ndarray = np.zeros((0, 0), dtype=np.float32)  # one answer vector per entry
        self._starts: np.ndarray = np.zeros(0, dtype=np.int64)  # first phrasing row of each entry
        self._owner: np.ndarray = np.zeros(0, dtype=np.int64)  # entry position of each phrasing row
        self._label_position: np.ndarray = np.zeros(0, dtype=np.int64)  # entry position of each index label, or -1
        self._label_masks: dict[Filters | None, np.ndarray] = {}
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
                          f" tokenize='{TOKENIZE}')")

    @property
    def approximate(self) -> bool:
        """Whether searches go through the approximate index now."""
        return self._approximate_from is not None and len(self._items) >= max(self._approximate_from, 1)

    @property
    def lexical_indexed(self) -> bool:
        """Whether BM25 comes from the in-memory inverted index now (else from FTS5)."""
        return self._lexical_from is not None and len(self._items) >= max(self._lexical_from, 1)

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
            self._changed()
            self._update_lexical({item.entry.id: _document(self._rowids[item.entry.id], item.entry) for item in items})
            if items:
                self._update_index(items)

    def delete(self, entry_ids: Sequence[str]) -> None:
        with self._lock:
            self._delete_text(entry_ids)
            for entry_id in entry_ids:
                self._items.pop(entry_id, None)
            self._changed()
            if self._lexical is not None and not self.lexical_indexed:
                self._lexical = None
            elif self._lexical is not None:
                self._lexical.remove(entry_ids)
            if self._ann is not None and not self.approximate:
                self._ann = None
            elif self._ann is not None:
                self._ann.remove(entry_ids)
                self._save_if_due()

    def count(self) -> int:
        return len(self._items)

    def save_index(self) -> None:
        """Save the approximate index now (a no-op without one or without `index_file`)."""
        with self._lock:
            if self._ann is not None and self._index_file is not None:
                self._ann.save(self._index_file)

    def search(self, text: str, vector: np.ndarray, *, limit: int,
               filters: Filters | None = None) -> list[Candidate]:
        with self._lock:
            if not self._items:
                return []
            self._build()
            vector = vector.astype(np.float32)
            # filter before choosing candidates, so that a filtered search still finds `limit` entries
            allowed = self._allowed(filters)
            if self._matrix is not None:
                pool = np.arange(len(self._order))
                evidence = _best_phrasings(self._matrix @ vector, self._starts, self._owner)
            else:
                pool = self._approximate_pool(vector, allowed, filters, limit)
                evidence = self._pool_evidence(vector, pool)
            votes = evidence[2]
            ranked = np.argsort(-np.where(allowed[pool], votes, -np.inf), kind="stable")[:limit]
            chosen = {int(pool[i]): _scores_at(evidence, int(i)) for i in ranked if allowed[pool[i]]}
            # the words count for every candidate, also those BM25 does not rank among its own `limit` best
            lexical = self._lexical_scores(text, limit=limit, filters=filters, allowed=allowed,
                                           also={self._order[p] for p in chosen})
            extra = sorted(self._position[e] for e in lexical if self._position[e] not in chosen)
            if extra and self._matrix is not None:
                chosen.update((p, _scores_at(evidence, p)) for p in extra)
            elif extra:
                more = self._pool_evidence(vector, np.array(extra, dtype=np.int64))
                chosen.update((p, _scores_at(more, i)) for i, p in enumerate(extra))
            order = sorted(chosen, key=lambda p: (-chosen[p][2], self._order[p]))
            answers = self._answers[order] @ vector if order else np.zeros(0)
            candidates = []
            for position, answer in zip(order, answers, strict=True):
                entry = self._items[self._order[position]].entry
                scores, best_row, _ = chosen[position]
                candidates.append(Candidate(entry=entry, phrasing_scores=scores,
                                            matched_phrasing=shown_phrasing(entry, best_row),
                                            answer_score=float(answer), lexical=lexical.get(entry.id, 0.0)))
            return candidates

    def _delete_text(self, entry_ids: Sequence[str]) -> None:
        # by rowid: entry_id is UNINDEXED, and deleting by it scanned the whole table once per entry (quadratic)
        rowids = [(self._rowids.pop(e),) for e in entry_ids if e in self._rowids]
        self._fts.executemany("DELETE FROM fts WHERE rowid = ?", rowids)

    def _changed(self) -> None:
        self._built = False
        self._matrix = None
        self._label_masks.clear()

    def _update_lexical(self, documents: dict[str, Document]) -> None:
        """Keep the inverted index in step with the entries once it is in use (from `lexical_from` on)."""
        if not self.lexical_indexed:
            self._lexical = None  # below the size again: built anew once above it
            return
        if self._lexical is None:
            self._lexical = LexicalIndex(BM25_WEIGHTS)
            documents = {entry_id: _document(rowid, self._items[entry_id].entry)
                         for entry_id, rowid in sorted(self._rowids.items(), key=lambda pair: pair[1])}
        self._lexical.update(documents)

    # ------------------------------------------------------------ the approximate index

    def _update_index(self, items: Sequence[IndexedEntry]) -> None:
        """Keep the approximate index in step with the entries once it is in use (from `approximate_from` on)."""
        if not self.approximate:
            self._ann = None  # below the size again: once above, it is loaded or built anew with every entry
            return
        if self._ann is None:
            dimension = int(items[0].vectors.shape[1])
            loaded = PhrasingIndex.load(self._index_file, dimension) if self._index_file else None
            self._ann = loaded or PhrasingIndex(dimension)
            self._ann.remove(self._ann.entry_ids() - self._items.keys())  # saved, but gone meanwhile
            items = list(self._items.values())
        self._ann.sync({item.entry.id: item.vectors for item in items})
        self._save_if_due()

    def _save_if_due(self) -> None:
        # saving a large index takes seconds: not for every edit; edits not saved are added again at the next start
        if self._ann is not None and self._index_file is not None and self._ann.changes >= SAVE_AFTER_CHANGES:
            self._ann.save(self._index_file)

    def _approximate_pool(self, vector: np.ndarray, allowed: np.ndarray, filters: Filters | None,
                          limit: int) -> np.ndarray:
        """Positions of the allowed entries whose phrasings the index finds nearest (enough for `limit` entries);
        all the allowed ones when they are few, so that a narrow filter is searched exactly."""
        assert self._ann is not None
        if filters not in self._label_masks:
            valid = self._label_position >= 0
            mask = valid & allowed[np.where(valid, self._label_position, 0)]
            self._label_masks[filters] = mask
        mask = self._label_masks[filters]
        rows, wanted = int(mask.sum()), min(limit, int(allowed.sum()))
        if rows > self._exact_below:
            k = limit * PHRASINGS_PER_ENTRY
            while True:
                labels = self._ann.search(vector, min(k, rows), None if rows == len(mask) else mask)
                positions = np.unique(self._label_position[labels])
                positions = positions[positions >= 0]
                if len(positions) >= wanted:
                    return positions
                if k >= rows:
                    break
                k *= 4
        return np.flatnonzero(allowed)

    def _pool_evidence(self, vector: np.ndarray, pool: np.ndarray) -> _Evidence:
        """The phrasing evidence of the entries at these positions, aligned with `pool`."""
        blocks = [self._items[self._order[p]].vectors for p in pool]
        if not blocks:
            return [], np.zeros(0, dtype=np.int64), np.zeros(0)
        sizes = np.array([len(b) for b in blocks], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        owner = np.repeat(np.arange(len(blocks)), sizes)
        return _best_phrasings(np.vstack(blocks) @ vector, starts, owner)

    # ------------------------------------------------------------ arrays of the entries

    def _build(self) -> None:
        if self._built:
            return
        self._order = list(self._items)
        self._position = {entry_id: i for i, entry_id in enumerate(self._order)}
        self._departments = np.array([self._items[e].entry.department for e in self._order], dtype=object)
        self._languages = np.array([self._items[e].entry.language for e in self._order], dtype=object)
        self._states = np.array([self._items[e].state for e in self._order], dtype=object)
        dimension = self._items[self._order[0]].vectors.shape[1]
        self._answers = np.vstack([vector if (vector := self._items[e].answer_vector) is not None
                                   else np.zeros(dimension, dtype=np.float32) for e in self._order]
                                  ).astype(np.float32)
        if self._lexical is not None:
            self._slot_position = np.full(self._lexical.size, -1, dtype=np.int64)
            for position, entry_id in enumerate(self._order):
                slot = self._lexical.slot(entry_id)
                if slot is not None:
                    self._slot_position[slot] = position
        if self.approximate and self._ann is not None:
            self._label_position = np.full(self._ann.size, -1, dtype=np.int64)
            for position, entry_id in enumerate(self._order):
                labels = self._ann.labels(entry_id)
                if labels is not None:
                    self._label_position[labels] = position
        else:
            blocks = [self._items[e].vectors for e in self._order]
            sizes = np.array([len(b) for b in blocks], dtype=np.int64)
            self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            self._owner = np.repeat(np.arange(len(blocks)), sizes)
            self._matrix = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
        self._built = True

    def _allowed(self, filters: Filters | None) -> np.ndarray:
        allowed = np.ones(len(self._order), dtype=bool)
        if filters and filters.department is not None:
            allowed &= self._departments == filters.department
        if filters and filters.language is not None:
            allowed &= self._languages == filters.language
        if filters and filters.state is not None:
            allowed &= self._states == filters.state
        return allowed

    def _lexical_scores(self, text: str, *, limit: int, filters: Filters | None, allowed: np.ndarray,
                        also: Set[str] = frozenset()) -> dict[str, float]:
        """BM25 strength of the `limit` entries best matching the text's words, and of the entries `also` that
        match them at all (`allowed`: per entry position, what the filters allow)."""
        words = sorted({w.lower() for w in _WORD.findall(text)} - STOP_WORDS)
        if not words:
            return {}
        if self._lexical is not None:
            valid = self._slot_position >= 0
            known = [slot for e in also if (slot := self._lexical.slot(e)) is not None]
            slots = self._lexical.scores(words, valid & allowed[np.where(valid, self._slot_position, 0)],
                                         limit=limit, also=known)
            if slots is not None:
                return {self._lexical.owner(slot): lexical_strength(score) for slot, score in slots.items()}
        query = " OR ".join(f'"{w}"' for w in words)
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


def _document(rowid: int, entry: Entry) -> Document:
    """An entry's texts as the FTS5 table holds them."""
    return Document(rowid, (entry.question, "\n".join(entry.alt_questions), entry.answer))


# per entry of a pool: its VOTE_SIZE best phrasing cosines (-inf when it has fewer), the best one's row, the vote
_Evidence = tuple[list[np.ndarray], np.ndarray, np.ndarray]


def _best_phrasings(sims: np.ndarray, starts: np.ndarray, owner: np.ndarray) -> _Evidence:
    """Per entry (its rows from `starts`, `owner` the entry of each row): the evidence of its cosines `sims`."""
    best: list[np.ndarray] = []
    best_rows = np.zeros(len(starts), dtype=np.int64)
    for round_ in range(min(VOTE_SIZE, int(np.diff(np.append(starts, len(sims))).max()))):
        top = np.maximum.reduceat(sims, starts)
        rows = np.nonzero(sims >= top[owner])[0]
        # ties: take the first best phrasing of each entry (rows ascend, so np.unique's first index)
        owners, first = np.unique(owner[rows], return_index=True)
        taken = rows[first]
        if round_ == 0:
            best_rows[owners] = taken - starts[owners]
        best.append(np.where(np.isfinite(top), top, -np.inf))
        sims[taken] = -np.inf
    stacked = np.vstack(best)
    finite = np.isfinite(stacked)
    votes = np.where(finite, stacked, 0.0).sum(axis=0) / np.maximum(finite.sum(axis=0), 1)
    return best, best_rows, votes


def _scores_at(evidence: _Evidence, index: int) -> tuple[tuple[float, ...], int, float]:
    """(phrasing scores best first, best row, vote) of the entry at `index` of the evidence."""
    best, best_rows, votes = evidence
    return tuple(float(b[index]) for b in best if np.isfinite(b[index])), int(best_rows[index]), float(votes[index])
