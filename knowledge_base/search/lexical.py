"""An in-memory inverted index that computes SQLite FTS5's bm25() exactly, for the embedded backend at scale.

FTS5 scores every row that matches any query word before the best are taken: at 100,000 entries the common words
match tens of thousands of rows, and a query takes hundreds of milliseconds. This index gives the same scores
(fts5_aux.c: IDF = log((N - n + 0.5) / (n + 0.5)), at least 1e-6; k1 1.2, b 0.75; a phrase's frequency in a row is
the sum of its columns' weights over its instances; N, n and the average length over the whole table, whatever
the filters) from postings in NumPy, so that the calibrated thresholds stay valid.

The tokens are FTS5's own: a batch of texts is written to a contentless FTS5 table with the same tokenizer and
read back through fts5vocab, so that stemming, case folding and diacritics are never re-implemented. A query word
that FTS5 reads as several tokens (a phrase, "foo_bar") is not handled here: `scores` returns None and the caller
asks FTS5.

Changes: a changed entry gets a new slot and its old one is marked dead (dead slots are skipped and do not count in
N or n); postings added since the last merge are kept apart and merged, dropping dead slots, once they or the dead
slots pass MERGE_SHARE of the index.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TOKENIZE = "porter unicode61 remove_diacritics 2"  # the embedded backend's FTS5 table's tokenizer
K1, B = 1.2, 0.75  # fts5_aux.c's constants
MIN_IDF = 1e-6
MERGE_SHARE = 0.25
WORD_CACHE_SIZE = 100_000
MAX_BATCHES = 16  # batches of postings kept apart before they are joined into one
_COLUMNS = ("question", "alt_questions", "answer")


@dataclass(frozen=True)
class Document:
    """An entry's indexed texts (one per column, as in the FTS5 table) and its FTS5 rowid (the order of ties)."""

    rowid: int
    texts: tuple[str, str, str]


class _Tokenizer:
    """FTS5's tokens, from a contentless table with the same tokenizer (read through fts5vocab)."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5({', '.join(_COLUMNS)}, content='',"
                         f" tokenize='{TOKENIZE}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")

    def postings(self, texts: Sequence[tuple[str, str, str]]) -> tuple[list[str], np.ndarray, np.ndarray,
                                                                          np.ndarray]:
        """Terms, and per instance of a term (term by term): its term's index, its text's index and its column."""
        self._db.executemany(f"INSERT INTO t (rowid, {', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?)",
                             [(i, *columns) for i, columns in enumerate(texts)])
        # fts5vocab returns its rows term by term (GROUP BY term needs no sorting); doc * 4 + column per instance
        rows = self._db.execute(
            "SELECT term, count(*), group_concat(doc * 4 + CASE col WHEN 'question' THEN 0"
            " WHEN 'alt_questions' THEN 1 ELSE 2 END) FROM v GROUP BY term").fetchall()
        self._db.execute("INSERT INTO t (t) VALUES ('delete-all')")
        terms = [row[0] for row in rows]
        counts = np.array([row[1] for row in rows], dtype=np.int64)
        codes = (np.fromstring(",".join(row[2] for row in rows), dtype=np.int64, sep=",")
                 if rows else np.zeros(0, dtype=np.int64))
        return terms, np.repeat(np.arange(len(terms)), counts), codes >> 2, codes & 3

    def words(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Each word's tokens, as FTS5 reads it in a query's quoted phrase."""
        self._db.executemany("INSERT INTO t (rowid, question) VALUES (?, ?)", list(enumerate(words)))
        tokens: list[list[tuple[int, str]]] = [[] for _ in words]
        for term, doc, offset in self._db.execute("SELECT term, doc, offset FROM v"):
            tokens[doc].append((offset, term))
        self._db.execute("INSERT INTO t (t) VALUES ('delete-all')")
        return [tuple(term for _, term in sorted(found)) for found in tokens]


class LexicalIndex:
    """BM25 of entries' texts by entry id, equal to FTS5's bm25(fts, ..., *weights) over the same rows."""

    def __init__(self, weights: tuple[float, float, float]) -> None:
        if min(weights) <= 0:
            raise ValueError("a column weight of 0 would let a matching row score 0")
        self._weights = np.array(weights, dtype=np.float64)
        self._tokenizer = _Tokenizer()
        self._word_tokens: dict[str, tuple[str, ...]] = {}
        self._term_ids: dict[str, int] = {}
        # merged postings, term by term (CSR): slots and weighted frequencies (multiples of 0.5: exact in float32)
        self._indptr = np.zeros(1, dtype=np.int64)
        self._slots = np.zeros(0, dtype=np.int32)
        self._freqs = np.zeros(0, dtype=np.float32)
        # postings added since the merge, batch by batch: (term ids sorted, slots, weighted frequencies)
        self._added: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._added_count = 0
        # per slot
        self._lengths = np.zeros(0, dtype=np.float64)  # tokens in the row (all columns)
        self._live = np.zeros(0, dtype=bool)
        self._rowids = np.zeros(0, dtype=np.int64)
        self._owners: list[str] = []
        self._entries: dict[str, tuple[int, int]] = {}  # entry id -> (hash of its texts, slot)
        self._live_count = 0
        self._total_tokens = 0
        self._norm: np.ndarray | None = None  # per slot: k1 * (1 - b + b * D / avgdl), until the next change

    @property
    def size(self) -> int:
        """Slots, dead ones included."""
        return len(self._owners)

    def slot(self, entry_id: str) -> int | None:
        known = self._entries.get(entry_id)
        return None if known is None else known[1]

    def owner(self, slot: int) -> str:
        return self._owners[slot]

    def update(self, documents: Mapping[str, Document]) -> None:
        """Make these entries' texts these (entry id -> document); unchanged ones keep their postings."""
        fresh: dict[str, tuple[int, Document]] = {}
        for entry_id, document in documents.items():
            key = hash(document.texts)  # in memory only: the process's hash suffices
            known = self._entries.get(entry_id)
            if known is not None and known[0] == key:
                self._rowids[known[1]] = document.rowid
                continue
            if known is not None:
                self._kill(known[1])
            fresh[entry_id] = (key, document)
        if fresh:
            self._add(fresh)
        self._norm = None
        self._merge_if_due()

    def remove(self, entry_ids: Sequence[str]) -> None:
        for entry_id in entry_ids:
            known = self._entries.pop(entry_id, None)
            if known is not None:
                self._kill(known[1])
        self._norm = None
        self._merge_if_due()

    def scores(self, words: Sequence[str], allowed: np.ndarray, *, limit: int,
               also: Sequence[int] = ()) -> dict[int, float] | None:
        """bm25 (higher is better) of the allowed slots (a bool per slot) matching any of the words (the query
        `"w1" OR "w2" ...` in this order): the `limit` best (ties: the lower rowid first, as FTS5 scans), and the
        slots `also` that match at all. None when a word is a phrase of several tokens (FTS5 must answer)."""
        tokens = self._tokens(words)
        if any(len(t) > 1 for t in tokens) or self._live_count == 0:
            return None if self._live_count else {}
        rows, average = self._live_count, self._total_tokens / self._live_count
        if self._norm is None:
            self._norm = K1 * ((1 - B) + (B * self._lengths) / average)
        norm, scores = self._norm, np.zeros(self.size, dtype=np.float64)
        for phrase in tokens:  # in the query's order: the sum is rounded as FTS5 rounds it
            term = self._term_ids.get(phrase[0]) if phrase else None
            if term is None:
                continue
            slots, freqs = self._postings(term)
            live = self._live[slots]
            hits = int(np.count_nonzero(live))
            if not hits:
                continue
            slots, freqs = slots[live], freqs[live].astype(np.float64)
            idf = math.log((rows - hits + 0.5) / (hits + 0.5))
            idf = MIN_IDF if idf <= 0.0 else idf
            scores[slots] += idf * ((freqs * (K1 + 1.0)) / (freqs + norm[slots]))
        scores[~allowed] = 0.0  # every matching row scores above 0 (weights and IDF are positive)
        matched = np.flatnonzero(scores > 0)
        if len(matched) > limit:
            cut = np.partition(scores[matched], len(matched) - limit)[len(matched) - limit]
            near = matched[scores[matched] >= cut]
            best = near[np.lexsort((self._rowids[near], -scores[near]))[:limit]]
        else:
            best = matched
        chosen = {int(s): float(scores[s]) for s in best}
        chosen.update((int(s), float(scores[s])) for s in also if scores[s] > 0)
        return chosen

    # ------------------------------------------------------------ internals

    def _tokens(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        unknown = list(dict.fromkeys(w for w in words if w not in self._word_tokens))
        if unknown:
            if len(self._word_tokens) + len(unknown) > WORD_CACHE_SIZE:
                self._word_tokens.clear()
            self._word_tokens.update(zip(unknown, self._tokenizer.words(unknown), strict=True))
        return [self._word_tokens[w] for w in words]

    def _postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        merged = slice(self._indptr[term], self._indptr[term + 1]) if term + 1 < len(self._indptr) else slice(0, 0)
        slots, freqs = [self._slots[merged]], [self._freqs[merged]]
        for terms, batch_slots, batch_freqs in self._added:
            found = slice(*np.searchsorted(terms, [term, term + 1]))
            slots.append(batch_slots[found])
            freqs.append(batch_freqs[found])
        if len(slots) == 1:
            return slots[0], freqs[0]
        return np.concatenate(slots), np.concatenate(freqs)

    def _add(self, fresh: Mapping[str, tuple[int, Document]]) -> None:
        ids = list(fresh)
        terms, term_index, doc, column = self._tokenizer.postings([fresh[e][1].texts for e in ids])
        first = self.size
        lengths = np.bincount(doc, minlength=len(ids)).astype(np.float64)
        term_ids = np.array([self._term_ids.setdefault(t, len(self._term_ids)) for t in terms], dtype=np.int64)
        for entry_id, slot in zip(ids, range(first, first + len(ids)), strict=True):
            self._entries[entry_id] = (fresh[entry_id][0], slot)
        self._owners.extend(ids)
        self._lengths = np.concatenate([self._lengths, lengths])
        self._live = np.concatenate([self._live, np.ones(len(ids), dtype=bool)])
        self._rowids = np.concatenate([self._rowids, [fresh[e][1].rowid for e in ids]]).astype(np.int64)
        self._live_count += len(ids)
        self._total_tokens += int(lengths.sum())
        # one posting per (term, text), the weights of its instances summed; fts5vocab gives the instances term by
        # term and text by text, so that equal keys are adjacent (sorted anyway when they are not)
        key = term_index * len(ids) + doc
        weights = self._weights[column]
        if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):
            order = np.argsort(key, kind="stable")
            key, weights = key[order], weights[order]
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else key
        keys = key[starts]
        freqs = np.add.reduceat(weights, starts).astype(np.float32) if len(key) else np.zeros(0, dtype=np.float32)
        posting_terms, slots = term_ids[keys // len(ids)], (keys % len(ids) + first).astype(np.int32)
        order = np.argsort(posting_terms, kind="stable")  # by term, for searchsorted
        self._added.append((posting_terms[order], slots[order], freqs[order]))
        self._added_count += len(keys)
        if len(self._added) > MAX_BATCHES:  # one batch of the small ones, so that a query looks in few places
            joined_terms, joined_slots, joined_freqs = (np.concatenate(parts) for parts in zip(*self._added,
                                                                                                 strict=True))
            order = np.argsort(joined_terms, kind="stable")
            self._added = [(joined_terms[order], joined_slots[order], joined_freqs[order])]

    def _added_terms(self) -> list[np.ndarray]:
        return [terms for terms, _, _ in self._added]

    def _kill(self, slot: int) -> None:
        self._live[slot] = False
        self._live_count -= 1
        self._total_tokens -= int(self._lengths[slot])

    def _merge_if_due(self) -> None:
        dead = self.size - self._live_count
        if self._added_count > MERGE_SHARE * len(self._slots) or dead > MERGE_SHARE * max(self.size, 1):
            self._merge()

    def _merge(self) -> None:
        """One CSR of every live posting, term by term; the live slots renumbered in their order."""
        counts = np.diff(self._indptr)
        term_all = np.concatenate([np.repeat(np.arange(len(counts)), counts), *self._added_terms()])
        slot_all = np.concatenate([self._slots, *(slots for _, slots, _ in self._added)])
        freq_all = np.concatenate([self._freqs, *(freqs for _, _, freqs in self._added)])
        keep = self._live[slot_all]
        renumber = np.cumsum(self._live) - 1
        term_all, slot_all, freq_all = term_all[keep], renumber[slot_all[keep]], freq_all[keep]
        order = np.argsort(term_all, kind="stable")  # runs already sorted: cheap
        self._slots, self._freqs = slot_all[order].astype(np.int32), freq_all[order]
        self._indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(term_all, minlength=len(self._term_ids)))]).astype(np.int64)
        self._added, self._added_count = [], 0
        live = self._live
        self._owners = [owner for owner, alive in zip(self._owners, live, strict=True) if alive]
        self._lengths, self._rowids = self._lengths[live], self._rowids[live]
        self._live = np.ones(len(self._owners), dtype=bool)
        self._entries = {entry_id: (key, int(renumber[slot])) for entry_id, (key, slot) in self._entries.items()}
        self._norm = None
