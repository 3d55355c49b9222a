"""The decision for a question: answer, answer and ask, offer the closest entries, or hand off.

Three bands of the best entry's confidence, with two thresholds calibrated on each knowledge base
(knowledge_base/calibration.py):

- `answer`: confidence ≥ the answer threshold: the automatic answers' expected precision is the target
  (`CITYDESK_TARGET_PRECISION`, 0.97).
- `confirm`: between the confirm threshold and the answer threshold: the entry is given, and the citizen is asked
  "Did this answer your question?"; the confirm threshold is the lowest at which the answers of this band alone
  are still expected to be right at least `CITYDESK_CONFIRM_PRECISION` (0.80) of the time, so that a "No" stays rare.
- `clarify`: below, when two or three entries are close and good enough ("Did you mean …?",
  knowledge_base/clarification.py).
- `handoff`: otherwise.

`decide` is one pure function of the ranked hits and the thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from knowledge_base.clarification import clarification_options
from knowledge_base.search import SearchHit


class Band(StrEnum):
    """What the assistant does with a question, from the most to the least automatic."""

    ANSWER = "answer"
    CONFIRM = "confirm"
    CLARIFY = "clarify"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class Thresholds:
    """The two confidence levels that separate the bands: `confirm` ≤ `answer`."""

    answer: float
    confirm: float

    def __post_init__(self) -> None:
        if self.confirm > self.answer:
            raise ValueError(f"the confirm threshold {self.confirm} is above the answer threshold {self.answer}")


def decide(results: Sequence[SearchHit], thresholds: Thresholds) -> tuple[Band, list[SearchHit]]:
    """The band of the best hit, and the entries to offer when the band is `clarify` (else an empty list)."""
    confidence = results[0].confidence if results else 0.0
    if results and confidence >= thresholds.answer:
        return Band.ANSWER, []
    if results and confidence >= thresholds.confirm:
        return Band.CONFIRM, []
    options = clarification_options(results, thresholds.confirm)
    return (Band.CLARIFY, options) if options else (Band.HANDOFF, [])
