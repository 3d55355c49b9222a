"""The search-backend protocol every backend implements and the conformance tests check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge_base.entry import Entry


@dataclass(frozen=True)
class IndexedEntry:
    """An entry with its vectors: one per text of `ranking.indexed_phrasings(entry)`, and one of its answer."""

    entry: Entry
    vectors: np.ndarray
    answer_vector: np.ndarray | None = None
    state: str = "published"  # life cycle: draft | published | retired; only published entries answer citizens


@dataclass(frozen=True)
class Filters:
    """Restrict a search to entries whose fields equal these values (None: any)."""

    department: str | None = None
    language: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class Candidate:
    """An entry a backend found for a query, with the raw evidence that `knowledge_base.ranking` fuses."""

    entry: Entry
    phrasing_scores: tuple[float, ...]  # cosines of the entry's closest phrasings, best first, at most VOTE_SIZE
    matched_phrasing: str
    answer_score: float
    lexical: float  # BM25 as a strength in [0, 1), see fusion.lexical_strength


@dataclass(frozen=True)
class SearchHit:
    """One entry found for a query, best first; `confidence` is what the answer threshold is compared to."""

    entry: Entry
    confidence: float
    dense: float
    lexical: float
    matched_phrasing: str
    score: float = 0.0  # fused evidence before the margin to the other entries is taken into account


class SearchBackend(Protocol):
    def upsert(self, items: Sequence[IndexedEntry]) -> None:
        """Add or replace entries by id."""

    def delete(self, entry_ids: Sequence[str]) -> None:
        """Remove entries; unknown ids are ignored."""

    def search(self, text: str, vector: np.ndarray, *, limit: int,
               filters: Filters | None = None) -> list[Candidate]:
        """The `limit` entries whose phrasings vote closest to `vector`, plus those matching the text's words."""

    def count(self) -> int:
        """Number of indexed entries."""
