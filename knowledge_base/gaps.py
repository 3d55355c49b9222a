"""What citizens asked that the knowledge base could not answer, grouped by meaning for the editors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from knowledge_base.embedder import Embedder
from knowledge_base.store import EmbeddingCache

# Average cosine within a group. 0.55 keeps "when does the pool open" with "swimming pool opening hours" and
# apart from "when is the library open" (all-MiniLM-L6-v2; tests/knowledge_base/test_gaps.py).
DEFAULT_SIMILARITY = 0.55
MAX_EXAMPLES = 3

# What editors see of a citizen's text: personal data redacted (editors copy examples into public answers).
Redact = Callable[[str], str]


@dataclass(frozen=True)
class Question:
    """A citizen's message, when it came."""

    text: str
    at: datetime


@dataclass(frozen=True)
class Gap:
    """Questions that mean the same thing: how many, the newest time, and up to three redacted examples."""

    count: int
    newest: datetime
    examples: tuple[str, ...]


def group(vectors: np.ndarray, similarity: float = DEFAULT_SIMILARITY) -> list[int]:
    """A group number per row: average-linkage clusters of normalised vectors whose mean cosine is >= similarity.

    Agglomerative clustering does not depend on the order of the rows, so the groups are the same on every run.
    """
    if len(vectors) == 0:
        return []
    if len(vectors) == 1:
        return [0]
    # rounding: identical texts give cosine distances of -1e-8 or so, which linkage refuses
    distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
    condensed = distances[np.triu_indices(len(vectors), k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - similarity, criterion="distance")
    return [int(label) for label in labels]


def gaps_of(questions: Sequence[Question], vectors: np.ndarray, *, redact: Redact,
            similarity: float = DEFAULT_SIMILARITY) -> list[Gap]:
    """The groups of `questions` (one vector per question), the group with the newest question first."""
    members: dict[int, list[Question]] = {}
    for question, label in zip(questions, group(vectors, similarity), strict=True):
        members.setdefault(label, []).append(question)
    gaps = []
    for found in members.values():
        found.sort(key=lambda q: q.at, reverse=True)
        examples = list(dict.fromkeys(redact(q.text) for q in found))[:MAX_EXAMPLES]
        gaps.append(Gap(count=len(found), newest=found[0].at, examples=tuple(examples)))
    gaps.sort(key=lambda g: (g.newest, g.count, g.examples), reverse=True)
    return gaps


class GapFinder:
    """Groups questions with the embedding model; a text's vector is stored once (the knowledge base's cache)."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache, *, redact: Redact,
                 similarity: float = DEFAULT_SIMILARITY) -> None:
        self.redact = redact
        self.embedder = embedder
        self.similarity = similarity
        self._cache = cache

    def gaps(self, questions: Sequence[Question]) -> list[Gap]:
        if not questions:
            return []
        texts = list(dict.fromkeys(q.text for q in questions))
        vectors = self._cache.get_many(texts)
        missing = [t for t in texts if t not in vectors]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing), strict=True))
            self._cache.put_many(fresh)
            vectors.update(fresh)
        return gaps_of(questions, np.vstack([vectors[q.text] for q in questions]), redact=self.redact,
                       similarity=self.similarity)
