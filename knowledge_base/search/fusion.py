"""How dense and lexical evidence combine into one ranking and one confidence, for every backend."""

from __future__ import annotations

# BM25 scores have no fixed scale; s / (s + half) maps them to [0, 1) with 0.5 at `half`,
# the same for every query, so that the confidence means the same thing across questions.
LEXICAL_HALF_SCORE = 8.0
# Weight of the lexical evidence beside the cosine similarity of the best phrasing.
LEXICAL_WEIGHT = 0.1


def lexical_strength(bm25_score: float) -> float:
    """A BM25 score (higher is better) as a value in [0, 1)."""
    return bm25_score / (bm25_score + LEXICAL_HALF_SCORE) if bm25_score > 0 else 0.0


def confidence(dense: float, lexical: float) -> float:
    """Fused score in [0, 1]: the best phrasing's cosine, nudged up by lexical agreement."""
    return max(0.0, min(1.0, (dense + LEXICAL_WEIGHT * lexical) / (1.0 + LEXICAL_WEIGHT)))
