"""clarification_options: when close entries are offered instead of guessing or handing off."""

from __future__ import annotations

import pytest

from knowledge_base.clarification import CLARIFY_BAND, CLARIFY_MARGIN, CLARIFY_MIN_SCORE, clarification_options
from knowledge_base.entry import Entry
from knowledge_base.search import SearchHit

THRESHOLD = 0.7


def hits(*scores: float, best_confidence: float = 0.6) -> list[SearchHit]:
    """Ranked hits with these fused scores; the best one's confidence is `best_confidence`."""
    return [SearchHit(entry=Entry(id=f"e{i}", question=f"Question {i}?", answer="An answer."),
                      confidence=best_confidence if i == 0 else 0.1, dense=score, lexical=0.0,
                      matched_phrasing=f"Question {i}?", score=score)
            for i, score in enumerate(scores)]


def ids(found: list[SearchHit]) -> list[str]:
    return [hit.entry.id for hit in found]


def test_two_or_three_close_entries_below_the_threshold_are_offered_best_first():
    assert ids(clarification_options(hits(0.55, 0.53, 0.50, 0.49), THRESHOLD)) == ["e0", "e1", "e2"]
    assert ids(clarification_options(hits(0.55, 0.53, 0.40), THRESHOLD)) == ["e0", "e1"]


def test_an_entry_further_than_the_margin_from_the_best_is_not_offered():
    best = 0.6
    assert ids(clarification_options(hits(best, best - CLARIFY_MARGIN + 0.001, best - CLARIFY_MARGIN - 0.001),
                                     THRESHOLD)) == ["e0", "e1"]


def test_a_clear_leader_is_not_turned_into_a_question():
    assert clarification_options(hits(0.6, 0.6 - CLARIFY_MARGIN - 0.01), THRESHOLD) == []


def test_entries_below_the_clarify_level_are_not_offered_however_close():
    low = CLARIFY_MIN_SCORE - 0.01
    assert clarification_options(hits(low, low, low), THRESHOLD) == []
    assert ids(clarification_options(hits(CLARIFY_MIN_SCORE + 0.01, CLARIFY_MIN_SCORE, low), THRESHOLD)) == [
        "e0", "e1"]


@pytest.mark.parametrize("confidence", [THRESHOLD, THRESHOLD + 0.1])
def test_an_answer_above_the_threshold_is_never_turned_into_a_question(confidence):
    assert clarification_options(hits(0.8, 0.8, 0.8, best_confidence=confidence), THRESHOLD) == []


def test_nothing_found_offers_nothing():
    assert clarification_options([], THRESHOLD) == []
    assert clarification_options(hits(0.6), THRESHOLD) == []


def test_a_best_entry_far_below_the_threshold_offers_nothing_however_close_the_others():
    """The band follows each knowledge base's calibrated threshold: far below it, options are rarely right."""
    assert clarification_options(hits(0.55, 0.54, best_confidence=THRESHOLD - CLARIFY_BAND - 0.01), THRESHOLD) == []
    assert ids(clarification_options(hits(0.55, 0.54, best_confidence=THRESHOLD - CLARIFY_BAND), THRESHOLD)) == [
        "e0", "e1"]
