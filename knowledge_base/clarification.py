"""When to ask "Did you mean …?" instead of guessing or handing off, and which entries to offer.

The levels were chosen by measurement on the demo knowledge base and the development sets of ../shared/eval
(README, "Did you mean …? and was this helpful?"): when the best entry's confidence is below the answer threshold
but within CLARIFY_BAND of it, the entries whose fused score is at least CLARIFY_MIN_SCORE and within
CLARIFY_MARGIN of the best are offered, two or three of them. The band follows the threshold calibrated on each
knowledge base: on one whose entries are all alike (banking77: threshold 0.98) a fixed level offered entries for
a third of the questions no entry answers. Above the threshold the margin term of the confidence
(search/fusion.py) already keeps a close runner-up from being answered, so an answer is never turned into a
question: clarification cannot lower the automatic answers' precision.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge_base.search import SearchHit

CLARIFY_MIN_SCORE = 0.4
CLARIFY_MARGIN = 0.08
CLARIFY_BAND = 0.3
MIN_OPTIONS = 2
MAX_OPTIONS = 3


def clarification_options(results: Sequence[SearchHit], threshold: float, *, min_score: float = CLARIFY_MIN_SCORE,
                          margin: float = CLARIFY_MARGIN, band: float = CLARIFY_BAND) -> list[SearchHit]:
    """The entries to offer, best first; empty when the best one answers or no two are close and good enough.

    `results` are ranked best first, `threshold` is the answer threshold their confidences are compared to.
    """
    if not results or not threshold - band <= results[0].confidence < threshold:
        return []
    best = results[0].score
    close = [hit for hit in results[:MAX_OPTIONS] if hit.score >= min_score and best - hit.score <= margin]
    return close if len(close) >= MIN_OPTIONS else []
