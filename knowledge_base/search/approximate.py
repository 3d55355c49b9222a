"""An approximate nearest-neighbour index of phrasing vectors (FAISS HNSW) for the embedded backend at scale.

It only finds which entries to consider: the backend scores their phrasings exactly, so a candidate's evidence is
the exact search's, and only the choice of entries may differ (recall@3 against the exact search: README).

An HNSW graph cannot delete: a changed or removed entry's vectors are marked dead and its new ones added; once dead
vectors are more than REBUILD_SHARE of the index, it is rebuilt from the live ones. The index is saved to a file
with a digest of each entry's vectors, so that a restart loads it and adds only the entries whose vectors changed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np

# Graph degree and search breadths. The search breadth is at least the number of rows asked for, which decides the
# recall (knowledge_base/search/embedded.py, PHRASINGS_PER_ENTRY).
HNSW_NEIGHBOURS = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 96
REBUILD_SHARE = 0.25
_FORMAT = 1


def digest(vectors: np.ndarray) -> str:
    """What identifies an entry's vectors: the same digest, the same rows in the index."""
    return hashlib.blake2b(np.ascontiguousarray(vectors, dtype=np.float32).tobytes(), digest_size=16).hexdigest()


class PhrasingIndex:
    """Phrasing vectors of entries by entry id; `search` returns labels, `owner_of` their entries."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._index: Any = self._empty()  # faiss's stubs lack the HNSW classes' attributes
        self._owners: list[str] = []  # entry id of each label
        self._live = np.zeros(0, dtype=bool)  # per label: False once its entry changed or left
        self._entries: dict[str, tuple[str, np.ndarray]] = {}  # entry id -> (digest, labels)
        self.changes = 0  # labels added or killed since the index was last saved or loaded

    def _empty(self) -> Any:
        index = faiss.IndexHNSWFlat(self.dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        return index

    @property
    def size(self) -> int:
        """Labels in the graph, dead ones included."""
        return len(self._owners)

    def labels(self, entry_id: str) -> np.ndarray | None:
        known = self._entries.get(entry_id)
        return None if known is None else known[1]

    def entry_ids(self) -> set[str]:
        return set(self._entries)

    def sync(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Make these entries' rows their vectors (entry id -> one row per phrasing); unchanged ones stay."""
        added: list[np.ndarray] = []
        start = self.size
        for entry_id, rows in vectors.items():
            key = digest(rows)
            known = self._entries.get(entry_id)
            if known is not None and known[0] == key:
                continue
            if known is not None:
                self._kill(known[1])
            labels = np.arange(start, start + len(rows), dtype=np.int64)
            start += len(rows)
            self._entries[entry_id] = (key, labels)
            self._owners.extend([entry_id] * len(rows))
            added.append(np.asarray(rows, dtype=np.float32))
        if added:
            block = np.ascontiguousarray(np.vstack(added), dtype=np.float32)
            self._index.add(block)
            self._live = np.concatenate([self._live, np.ones(len(block), dtype=bool)])
            self.changes += len(block)
        self._compact_if_sparse()

    def remove(self, entry_ids: Iterable[str]) -> None:
        for entry_id in entry_ids:
            known = self._entries.pop(entry_id, None)
            if known is not None:
                self._kill(known[1])
        self._compact_if_sparse()

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Labels of the (about) `k` live rows nearest to `vector` among `allowed` (a bool per label; None: all)."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64)
        mask = self._live if allowed is None else (self._live & allowed)
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = max(EF_SEARCH, k)
        bits = None
        if not mask.all():
            bits = np.packbits(mask, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        _, labels = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k, params=params)
        del bits  # the selector read it during the search
        found = labels[0]
        return found[found >= 0]

    def owner_of(self, labels: np.ndarray) -> list[str]:
        return [self._owners[int(label)] for label in labels]

    def _kill(self, labels: np.ndarray) -> None:
        self._live[labels] = False
        self.changes += len(labels)

    def _compact_if_sparse(self) -> None:
        dead = self.size - int(self._live.sum())
        if dead and dead > REBUILD_SHARE * self.size:
            self.rebuild()

    def rebuild(self) -> None:
        """A new graph of the live rows only."""
        vectors = {entry_id: self._index.reconstruct_batch(labels) for entry_id, (_, labels) in self._entries.items()}
        self._index, self._owners, self._live, self._entries = self._empty(), [], np.zeros(0, dtype=bool), {}
        self.sync(vectors)

    # ------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (a temporary file renamed over it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        ids = list(self._entries)
        arrays = {
            "format": np.array([_FORMAT, self.dimension]),
            "graph": faiss.serialize_index(self._index),
            "owners": np.array(self._owners, dtype=str),
            "live": self._live,
            "entry_ids": np.array(ids, dtype=str),
            "digests": np.array([self._entries[e][0] for e in ids], dtype=str),
            "label_counts": np.array([len(self._entries[e][1]) for e in ids], dtype=np.int64),
            "labels": (np.concatenate([self._entries[e][1] for e in ids]) if ids else np.zeros(0, dtype=np.int64)),
        }
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **arrays)  # type: ignore[arg-type]
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.changes = 0

    @classmethod
    def load(cls, path: Path, dimension: int) -> PhrasingIndex | None:
        """The index saved at `path`, or None when there is none, or one of another format or dimension."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if tuple(int(v) for v in data["format"]) != (_FORMAT, dimension):
                    return None
                index = cls(dimension)
                index._index = faiss.deserialize_index(data["graph"])
                index._owners = data["owners"].tolist()
                index._live = data["live"].astype(bool)
                bounds = np.cumsum(data["label_counts"])[:-1]
                index._entries = {entry_id: (key, labels) for entry_id, key, labels in zip(
                    data["entry_ids"].tolist(), data["digests"].tolist(), np.split(data["labels"], bounds),
                    strict=True)}
        except (OSError, KeyError, ValueError, RuntimeError):
            return None  # missing or unreadable: the caller builds a new one
        if index._index.ntotal != len(index._owners) or len(index._live) != len(index._owners):
            return None
        index._index.hnsw.efConstruction = EF_CONSTRUCTION
        return index
