"""How the evidence of every backend combines into one score and one confidence per entry.

The weights were chosen by measurement on the development sets of ../shared/eval (reports/kb-eval.md);
the answer threshold is not chosen here but calibrated on each knowledge base (knowledge_base/calibration.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# BM25 scores have no fixed scale; s / (s + half) maps them to [0, 1) with 0.5 at `half`,
# the same for every query, so that the confidence means the same thing across questions.
LEXICAL_HALF_SCORE = 8.0
# An entry's phrasings vote: the mean cosine of its VOTE_SIZE closest phrasings, so that one stray
# phrasing close to the question counts for less than several that agree.
VOTE_SIZE = 3
# Weights beside the phrasing vote (weight 1) of the other evidence, for an entry whose vote is the mean of
# VOTE_SIZE phrasings or more. An entry with fewer (a city FAQ has only its question) has a vote that says
# less: it leans more on its answer and its words, FEW_PHRASINGS_BOOST times more with a single phrasing.
ANSWER_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.2
CLASSIFIER_WEIGHT = 0.2
FEW_PHRASINGS_BOOST = 2.0
# How much the lead over the best other entry adds to (or its deficit takes from) the confidence, and, when the
# knowledge base has a classifier, the lead of the entry's probability over the best other entry's. Measured on the
# development sets (reports/kb-eval.md): the share of questions answerable at precision 0.97 by the best possible
# threshold, MiniLM, went from 0.00/0.91/0.41/0.08 (banking77, clinc150, demo, boulder-dev) at weight 0.5 to
# 0.20/0.94/0.41/0.15.
MARGIN_WEIGHT = 1.0
CLASSIFIER_MARGIN_WEIGHT = 0.5
# Confidences above this approach 1 without reaching it: a hard clip at 1 tied the most confident third of the
# questions (clinc150, banking77), so that no threshold could tell them apart.
SOFT_CEILING_FROM = 0.9
# A long message: its score is the mean of the whole message's and of its best sentence's (or the whole's, if
# that is higher), so that a question buried in a long complaint is found, but one stray sentence is not enough.
SENTENCE_SHARE = 0.5


def lexical_strength(bm25_score: float) -> float:
    """A BM25 score (higher is better) as a value in [0, 1)."""
    return bm25_score / (bm25_score + LEXICAL_HALF_SCORE) if bm25_score > 0 else 0.0


def vote(phrasing_scores: Sequence[float]) -> float:
    """The mean of the best VOTE_SIZE phrasing cosines (all of them if the entry has fewer)."""
    best = sorted(phrasing_scores, reverse=True)[:VOTE_SIZE]
    return sum(best) / len(best) if best else 0.0


def evidence_weights(phrasings: int) -> tuple[float, float]:
    """The answer's and the words' weights for an entry whose vote is the mean of `phrasings` phrasings."""
    missing = max(0, VOTE_SIZE - max(phrasings, 1)) / (VOTE_SIZE - 1)  # 0 with VOTE_SIZE or more, 1 with one
    factor = 1.0 + (FEW_PHRASINGS_BOOST - 1.0) * missing
    return ANSWER_WEIGHT * factor, LEXICAL_WEIGHT * factor


def entry_score(*, phrasing_scores: Sequence[float], answer: float, lexical: float, classifier: float | None) -> float:
    """The weighted mean of an entry's evidence; `classifier` is None when the knowledge base has none."""
    answer_weight, lexical_weight = evidence_weights(len(phrasing_scores))
    total = vote(phrasing_scores) + answer_weight * answer + lexical_weight * lexical
    weight = 1.0 + answer_weight + lexical_weight
    if classifier is not None:
        total += CLASSIFIER_WEIGHT * classifier
        weight += CLASSIFIER_WEIGHT
    return total / weight


def long_message_score(whole: float, best_sentence: float) -> float:
    """A long message's score for one entry from the whole message's and its best sentence's."""
    return (1 - SENTENCE_SHARE) * whole + SENTENCE_SHARE * max(whole, best_sentence)


def confidences(scores: Sequence[float], probabilities: Sequence[float] | None = None, *,
                best_probabilities: tuple[float, float] = (0.0, 0.0)) -> list[float]:
    """Per score, in [0, 1): the score plus MARGIN_WEIGHT times its lead over the best other score, plus
    CLASSIFIER_MARGIN_WEIGHT times the lead of its classifier probability (`probabilities`, aligned with `scores`)
    over the best other entry's (`best_probabilities`: the two highest of all entries), softly capped."""
    if not scores:
        return []
    ordered = sorted(scores, reverse=True)
    first, second = ordered[0], (ordered[1] if len(ordered) > 1 else 0.0)
    result = []
    for index, score in enumerate(scores):
        rival = second if score == first else first
        raw = score + MARGIN_WEIGHT * (score - rival)
        if probabilities is not None:
            probability = probabilities[index]
            top, runner_up = best_probabilities
            raw += CLASSIFIER_MARGIN_WEIGHT * (probability - (runner_up if probability >= top else top))
        result.append(soft_ceiling(max(0.0, raw)))
    return result


def soft_ceiling(value: float) -> float:
    """`value` up to SOFT_CEILING_FROM; above, a smooth approach to 1 that keeps the order of any two values."""
    if value <= SOFT_CEILING_FROM:
        return value
    room = 1.0 - SOFT_CEILING_FROM
    return SOFT_CEILING_FROM + room * (1.0 - math.exp(-(value - SOFT_CEILING_FROM) / room))
