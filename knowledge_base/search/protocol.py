"""The search-backend protocol every backend implements and the conformance tests check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge_base.entry import Entry


@dataclass(frozen=True)
class IndexedEntry:
    """An entry with one normalised vector per phrasing (question first, then alt_questions)."""

    entry: Entry
    vectors: np.ndarray


@dataclass(frozen=True)
class Filters:
    """Restrict a search to entries whose fields equal these values (None: any)."""

    department: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """One entry found for a query, best first; `confidence` is what the answer threshold is compared to."""

    entry: Entry
    confidence: float
    dense: float
    lexical: float
    matched_phrasing: str


class SearchBackend(Protocol):
    def upsert(self, items: Sequence[IndexedEntry]) -> None:
        """Add or replace entries by id."""

    def delete(self, entry_ids: Sequence[str]) -> None:
        """Remove entries; unknown ids are ignored."""

    def search(self, text: str, vector: np.ndarray, *, top_k: int,
               filters: Filters | None = None) -> list[SearchHit]:
        """The `top_k` best entries for the query text and its vector, best first."""

    def count(self) -> int:
        """Number of indexed entries."""
