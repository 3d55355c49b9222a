"""The emergency wording under the intent classifier: danger to life is caught, everyday words are not."""

from __future__ import annotations

import pytest

from handoff.decide import EMERGENCY_WORDS, Route, decide

DANGER = [
    "help my neighbours house is on fire",
    "strong smell of gas in the stairwell",
    "my son swallowed a bunch of pills from the cabinet",
    "a man collapsed and is not breathing",
    "someone is not responding on the platform",
    "my dad isn't moving",
    "a guy waving a gun outside the shop",
    "the power line snapped in the storm and is sparking on the sidewalk",
    "water is pouring into our basement",
    "a kid fell through the ice on the pond",
    "carbon monoxide alarm going off and we feel dizzy",
    "a cyclist was hit by a car on 3rd ave",
]
EVERYDAY = [
    "fire hydrant leaking on 4th street",
    "do i need a permit for a fire pit",
    "are fireworks legal on july 4th",
    "is the fire station on elm open for tours",
    "my neighbour is moving out, how do i take over the water account",
    "the parking app is not responding",
    "my car isn't moving from the impound lot until i pay?",
    "trash cart got run over by a truck",
]


@pytest.mark.parametrize("text", DANGER)
def test_danger_to_life_is_an_emergency_whatever_the_intent(text):
    assert EMERGENCY_WORDS.search(text), text
    decision = decide(intent="ask_question", text=text, answer_entry=None, best_confidence=0.2, category=None,
                      out_of_scope_below=0.35)
    assert (decision.route, decision.reason) == (Route.EMERGENCY, "emergency wording")


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_words_are_not_taken_for_an_emergency(text):
    assert EMERGENCY_WORDS.search(text) is None, text
    decision = decide(intent="report_problem", text=text, answer_entry=None, best_confidence=0.5, category=None,
                      out_of_scope_below=0.35)
    assert decision.route == Route.CASE
