"""Calibration of the answer threshold on the knowledge base itself, and its storage."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import calibration
from knowledge_base.calibration import (
    ANSWERABLE,
    CONFIRMED,
    IN_DOMAIN,
    NEVER,
    REWORDED_QUESTION,
    Confirmed,
    Outcome,
    bank_questions,
    choose_threshold,
    reword,
)
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.factory import build_knowledge_base
from tests.knowledge_base.calibration_kb import ENTRIES, HELD_OUT
from tests.knowledge_base.conftest import SMALL_ENTRIES

TARGET = 0.97


def outcome(kind: str, confidence: float, correct: bool = False) -> Outcome:
    return Outcome(kind=kind, confidence=confidence, correct=correct)


# ---------------------------------------------------------------- choose_threshold


def test_threshold_is_the_lowest_confidence_at_which_the_weighted_precision_reaches_the_target():
    # 30 answerable (3 x 10, 0.7 / 30 each at share 0.3), 10 unanswerable in the domain and 10 off-topic
    # (0.015 each)
    outcomes = 3 * ([outcome(ANSWERABLE, 0.9 - 0.05 * i, correct=True) for i in range(8)]   # 0.9 .. 0.55, right
                    + [outcome(ANSWERABLE, 0.62, correct=False), outcome(ANSWERABLE, 0.3, correct=False)])
    outcomes += ([outcome(IN_DOMAIN, c) for c in (0.58, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2)]
                + [outcome("off-topic", 0.1) for _ in range(10)])
    result = choose_threshold(outcomes, target_precision=0.9, unanswerable_share=0.3)
    # at 0.65: six right answers and nothing else, precision 1.0; at 0.62 the first wrong one comes in
    # (0.42 / 0.49 = 0.86) and no lower threshold gets back to 0.9
    assert result.threshold == pytest.approx(0.65)
    assert result.method == "held-out phrasings"
    assert result.expected_precision == 1.0
    assert result.expected_auto_answer_rate == pytest.approx(0.42)
    assert result.answered_by_kind == {ANSWERABLE: 0.6, IN_DOMAIN: 0.0, "off-topic": 0.0}
    assert result.questions_by_kind == {ANSWERABLE: 30, IN_DOMAIN: 10, "off-topic": 10}


def test_a_larger_unanswerable_share_raises_the_threshold():
    outcomes = ([outcome(ANSWERABLE, 0.5 + 0.01 * i, correct=True) for i in range(40)]
                + [outcome(IN_DOMAIN, 0.5 + 0.01 * i) for i in range(0, 40, 4)]
                + [outcome("off-topic", 0.1) for _ in range(10)])
    low = choose_threshold(outcomes, target_precision=0.95, unanswerable_share=0.1).threshold
    high = choose_threshold(outcomes, target_precision=0.95, unanswerable_share=0.5).threshold
    assert low < high


def test_an_unreachable_target_answers_nothing():
    outcomes = [outcome(ANSWERABLE, 0.9, correct=False)] * 40 + [outcome(IN_DOMAIN, 0.5)] * 5
    result = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.3)
    assert (result.threshold, result.expected_auto_answer_rate) == (NEVER, 0.0)
    assert result.threshold > 1.0  # above every confidence: not even a confidence of 1 is answered directly
    assert result.method.endswith("the target cannot be reached")


def test_the_confirm_threshold_is_the_lowest_whose_band_keeps_the_confirm_precision():
    # 40 answerable: 10 right at 0.9 (the direct band), then 0.7: 8 right 2 wrong, 0.5: 5 right 5 wrong,
    # 0.3: 10 wrong. No unanswerable questions (share 0): every answerable question weighs the same.
    outcomes = ([outcome(ANSWERABLE, 0.9, correct=True)] * 10
                + [outcome(ANSWERABLE, 0.7, correct=True)] * 8 + [outcome(ANSWERABLE, 0.7)] * 2
                + [outcome(ANSWERABLE, 0.5, correct=True)] * 5 + [outcome(ANSWERABLE, 0.5)] * 5
                + [outcome(ANSWERABLE, 0.3)] * 10)
    result = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.0, confirm_precision=0.6)
    assert result.threshold == 0.9
    # band [0.7, 0.9): 8 / 10 = 0.8; [0.5, 0.9): 13 / 20 = 0.65 >= 0.6; [0.3, 0.9): 13 / 30 < 0.6
    assert result.confirm_threshold == 0.5
    assert result.expected_confirm_precision == 0.65
    assert result.expected_confirm_rate == 0.5
    stricter = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.0, confirm_precision=0.8)
    assert (stricter.confirm_threshold, stricter.expected_confirm_precision) == (0.7, 0.8)
    assert stricter.confirmed_by_kind == {ANSWERABLE: 0.25}


def test_without_a_band_reaching_the_confirm_precision_there_is_no_confirm_band():
    outcomes = [outcome(ANSWERABLE, 0.9, correct=True)] * 35 + [outcome(ANSWERABLE, 0.5)] * 10
    result = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.0)
    assert result.confirm_threshold == result.threshold == 0.9
    assert (result.expected_confirm_precision, result.expected_confirm_rate) == (None, 0.0)


def test_reworded_questions_and_questions_confirmed_in_use_count_as_answerable():
    outcomes = ([outcome(REWORDED_QUESTION, 0.8, correct=True)] * 20 + [outcome(CONFIRMED, 0.8, correct=True)] * 20
                + [outcome(IN_DOMAIN, 0.2)] * 10)
    result = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.3)
    assert result.threshold == 0.8
    assert result.method == "reworded questions and questions confirmed in use"
    assert result.expected_auto_answer_rate == pytest.approx(0.7)


def test_a_reworded_question_keeps_some_of_its_words_in_their_order():
    rng = np.random.default_rng(0)
    question = "How much is the disposable bag fee at the grocery store?"
    reworded = reword(rng, question)
    words = question.split()
    kept = reworded.split()
    assert 2 <= len(kept) < len(words)
    assert kept == [w for w in words if w in kept]  # the order stays
    assert reword(rng, "Bag fee") == "Bag fee"  # two words or fewer: as it is


def test_without_enough_phrasings_the_threshold_keeps_unanswerable_questions_out():
    outcomes = [outcome(ANSWERABLE, 0.9, correct=True)] * 5 + [outcome("off-topic", i / 100) for i in range(100)]
    result = choose_threshold(outcomes, target_precision=0.97, unanswerable_share=0.3)
    assert result.method.startswith("unanswerable questions only")
    assert result.expected_precision is None
    assert result.answered_by_kind["off-topic"] <= 0.03
    assert 0.96 < result.threshold <= 0.98


def test_the_bank_has_at_least_300_varied_questions():
    bank = bank_questions()
    assert len(bank) >= 300
    assert len({text.lower() for text, _ in bank}) == len(bank)
    assert {kind for _, kind in bank} == {"off-topic", "city-unanswerable"}
    assert min(sum(1 for _, k in bank if k == kind) for kind in ("off-topic", "city-unanswerable")) >= 100


# ---------------------------------------------------------------- with the real model


@pytest.fixture(scope="module")
def calibrated_url(tmp_path_factory, embedder) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('calibrated')}/kb.db"


@pytest.fixture(scope="module")
def calibrated_kb(calibrated_url):
    kb = build_knowledge_base(database_url=calibrated_url, model_name=DEFAULT_MODEL, target_precision=TARGET)
    kb.import_entries(ENTRIES)
    return kb


def test_a_knowledge_base_with_many_phrasings_is_calibrated_on_them(calibrated_kb):
    result = calibrated_kb.calibration
    assert result.method == "held-out phrasings"
    assert calibrated_kb.threshold == result.threshold
    assert result.expected_precision >= TARGET
    assert result.questions_by_kind[ANSWERABLE] >= 60
    assert result.questions_by_kind["off-topic"] + result.questions_by_kind["city-unanswerable"] >= 300
    assert calibrated_kb.classifier is not None  # eleven phrasings an entry: the classifier is used too


def test_the_calibrated_threshold_meets_the_target_on_held_out_questions(calibrated_kb):
    answers = [(calibrated_kb.answer(text), expected) for text, expected in HELD_OUT]
    answered = [(a.entry.id, expected) for a, expected in answers if a.entry is not None]
    right = sum(1 for got, expected in answered if got == expected)
    assert right / len(answered) >= TARGET
    # and it is not met by answering nothing: most answerable questions are answered
    answerable = sum(1 for _, expected in HELD_OUT if expected)
    assert right >= 0.6 * answerable
    assert all(a.entry is None for a, expected in answers if expected is None)


def test_the_calibration_is_stored_and_reused_while_the_entries_are_the_same(calibrated_kb, calibrated_url,
                                                                           monkeypatch):
    url = calibrated_url
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: pytest.fail("recalibrated unchanged entries"))
    again = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, target_precision=TARGET)
    assert again.calibration == calibrated_kb.calibration
    assert again.threshold == calibrated_kb.threshold


def test_changed_entries_or_another_target_recalibrate(tmp_path, embedder):
    url = f"sqlite:///{tmp_path}/kb.db"
    kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL)
    kb.import_entries(ENTRIES[:4])
    first = kb.calibration
    kb.import_entries([ENTRIES[0].model_copy(update={"alt_questions": ENTRIES[0].alt_questions[:5]})])
    assert kb.calibration is not first
    assert kb.calibration.questions_by_kind[ANSWERABLE] < first.questions_by_kind[ANSWERABLE]
    stricter = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, target_precision=0.995)
    assert stricter.calibration.target_precision == 0.995
    assert stricter.threshold >= kb.threshold


def test_an_explicit_threshold_overrides_the_calibration(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: pytest.fail("calibrated with an explicit one"))
    kb = build_knowledge_base(database_url=f"sqlite:///{tmp_path}/kb.db", model_name=DEFAULT_MODEL, threshold=0.42)
    kb.import_entries(SMALL_ENTRIES)
    assert (kb.threshold, kb.answer("where do I pay my parking fine").threshold) == (0.42, 0.42)


def test_an_empty_knowledge_base_has_the_default_threshold(tmp_path, embedder):
    kb = build_knowledge_base(database_url=f"sqlite:///{tmp_path}/kb.db", model_name=DEFAULT_MODEL)
    assert (kb.calibration, kb.threshold) == (None, calibration.DEFAULT_THRESHOLD)


# ---------------------------------------------------------------- a city FAQ: one phrasing an entry


@pytest.fixture(scope="module")
def faq_kb(tmp_path_factory, embedder):
    """The demo knowledge base as most cities have it: each entry's question only."""
    from knowledge_base.importer import read_entries
    from settings import DEMO_KB_FILE

    entries = [e.model_copy(update={"alt_questions": ()}) for e in read_entries(DEMO_KB_FILE)]
    kb = build_knowledge_base(database_url=f"sqlite:///{tmp_path_factory.mktemp('faq')}/kb.db",
                              model_name=DEFAULT_MODEL, target_precision=TARGET)
    kb.import_entries(entries)
    return kb


def test_a_knowledge_base_of_single_phrasings_is_calibrated_on_its_reworded_questions(faq_kb):
    result = faq_kb.calibration
    assert result.method.startswith("reworded questions")
    assert result.questions_by_kind[REWORDED_QUESTION] >= 60
    assert ANSWERABLE not in result.questions_by_kind
    # both thresholds, and what to expect of them
    assert result.confirm_threshold <= result.threshold
    assert result.expected_confirm_precision is None or result.expected_confirm_precision >= 0.8
    assert result.expected_precision is None or result.expected_precision >= TARGET


def test_questions_confirmed_in_use_are_asked_by_the_calibration(faq_kb):
    vectors = faq_kb.embed_cached(["my couch needs to go, when do you pick up big stuff"])
    faq_kb.confirmed = lambda: [Confirmed(text="my couch needs to go, when do you pick up big stuff",
                                          vector=vectors[0], entry_id="demo-0002"),
                                Confirmed(text="an entry that is gone", vector=vectors[0], entry_id="nope")]
    try:
        result = faq_kb.calibrate()
    finally:
        faq_kb.confirmed = None
    assert result.questions_by_kind[CONFIRMED] == 1  # the one whose entry exists
    assert "questions confirmed in use" in result.method
