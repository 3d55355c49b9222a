"""Which department the best-matching entries point to: the knowledge base's evidence for routing a hand-off."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

# Entries matched this weakly say nothing about the department.
MIN_ENTRY_CONFIDENCE = 0.35
ENTRIES_CONSIDERED = 3


def vote_department(entry_matches: Sequence[tuple[str | None, float]],
                    accept: Callable[[str], str | None] = lambda name: name) -> str | None:
    """The department the best entries vote for, weighted by confidence; `accept` names it or rejects it."""
    votes: dict[str, float] = defaultdict(float)
    for name, confidence in entry_matches[:ENTRIES_CONSIDERED]:
        key = accept(name) if name else None
        if key is not None and confidence >= MIN_ENTRY_CONFIDENCE:
            votes[key] += confidence
    return max(votes, key=lambda key: (votes[key], key)) if votes else None
