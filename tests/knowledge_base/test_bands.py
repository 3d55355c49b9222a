"""The bands of a decision (knowledge_base/bands.py) and how an Answer exposes them."""

from __future__ import annotations

import pytest

from knowledge_base.bands import Band, Thresholds, decide
from knowledge_base.entry import Entry
from knowledge_base.search.protocol import SearchHit
from knowledge_base.service import Answer

THRESHOLDS = Thresholds(answer=0.8, confirm=0.6)


def hits(*ranked: tuple[float, float]) -> list[SearchHit]:
    """(confidence, fused score) per entry, best first."""
    return [SearchHit(entry=Entry(id=f"e{i}", question=f"Question {i}?", answer="An answer."), confidence=c,
                      dense=s, lexical=0.0, matched_phrasing=f"Question {i}?", score=s)
            for i, (c, s) in enumerate(ranked)]


def test_band_answer_at_or_above_the_answer_threshold():
    assert decide(hits((0.8, 0.7), (0.1, 0.1)), THRESHOLDS) == (Band.ANSWER, [])


def test_band_confirm_between_the_two_thresholds_even_with_close_runners_up():
    assert decide(hits((0.79, 0.6), (0.6, 0.58)), THRESHOLDS) == (Band.CONFIRM, [])
    assert decide(hits((0.6, 0.6)), THRESHOLDS)[0] is Band.CONFIRM


def test_band_clarify_below_the_confirm_threshold_when_close_entries_are_good_enough():
    ranked = hits((0.55, 0.5), (0.5, 0.48), (0.45, 0.46), (0.3, 0.2))
    band, options = decide(ranked, THRESHOLDS)
    assert band is Band.CLARIFY
    assert [h.entry.id for h in options] == ["e0", "e1", "e2"]


def test_band_handoff_when_nothing_is_close_enough():
    assert decide(hits((0.55, 0.5), (0.2, 0.1)), THRESHOLDS) == (Band.HANDOFF, [])
    assert decide([], THRESHOLDS) == (Band.HANDOFF, [])


def test_a_confirm_threshold_above_the_answer_threshold_is_refused():
    with pytest.raises(ValueError, match="above the answer threshold"):
        Thresholds(answer=0.5, confirm=0.6)


def test_band_is_a_string_enum_for_json_and_the_desk():
    assert [str(b) for b in Band] == ["answer", "confirm", "clarify", "handoff"]


def test_answer_exposes_the_band_the_direct_entry_the_proposed_entry_and_the_options():
    direct = Answer(results=hits((0.9, 0.8)), threshold=0.8, confirm_threshold=0.6)
    assert (direct.band, direct.entry.id, direct.proposed.id, direct.options) == (Band.ANSWER, "e0", "e0", [])
    asked = Answer(results=hits((0.7, 0.6), (0.65, 0.59)), threshold=0.8, confirm_threshold=0.6)
    assert (asked.band, asked.entry, asked.proposed.id) == (Band.CONFIRM, None, "e0")
    assert asked.options == []  # the middle band answers and asks: nothing to choose from
    alone = Answer(results=hits((0.7, 0.6), (0.1, 0.2)), threshold=0.8, confirm_threshold=0.6)
    assert (alone.band, alone.options) == (Band.CONFIRM, [])
    offered = Answer(results=hits((0.55, 0.5), (0.5, 0.48)), threshold=0.8, confirm_threshold=0.6)
    assert (offered.band, offered.entry, offered.proposed) == (Band.CLARIFY, None, None)
    assert [h.entry.id for h in offered.options] == ["e0", "e1"]


def test_an_answer_without_a_confirm_threshold_has_no_confirm_band():
    answer = Answer(results=hits((0.7, 0.6), (0.65, 0.59)), threshold=0.8)
    assert answer.thresholds == Thresholds(answer=0.8, confirm=0.8)
    assert answer.band is Band.CLARIFY
