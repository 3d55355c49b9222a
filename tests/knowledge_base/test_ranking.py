"""The shared ranking: evidence fusion, margin confidence, topic context and long messages."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.entry import Entry
from knowledge_base.search.fusion import (
    ANSWER_WEIGHT,
    CLASSIFIER_WEIGHT,
    FEW_PHRASINGS_BOOST,
    LEXICAL_WEIGHT,
    MARGIN_WEIGHT,
    VOTE_SIZE,
    confidences,
    entry_score,
    evidence_weights,
    long_message_score,
    vote,
)
from knowledge_base.search.protocol import Candidate

A = Entry(id="a", question="a?", answer="a")
B = Entry(id="b", question="b?", answer="b")
C = Entry(id="c", question="c?", answer="c")


def candidate(entry: Entry, *scores: float, answer: float = 0.0, lexical: float = 0.0) -> Candidate:
    return Candidate(entry=entry, phrasing_scores=scores, matched_phrasing=entry.question, answer_score=answer,
                     lexical=lexical)


# ---------------------------------------------------------------- fusion


def test_vote_is_the_mean_of_the_three_best_phrasings():
    assert vote([0.9, 0.1, 0.5, 0.7]) == pytest.approx((0.9 + 0.7 + 0.5) / 3)
    assert vote([0.8, 0.6]) == pytest.approx(0.7)  # fewer than three: all of them
    assert vote([]) == 0.0


def test_entry_score_is_the_weighted_mean_of_the_evidence():
    three = (0.9, 0.8, 0.7)  # VOTE_SIZE phrasings: the base weights
    assert entry_score(phrasing_scores=three, answer=0.5, lexical=0.4, classifier=None) == pytest.approx(
        (0.8 + ANSWER_WEIGHT * 0.5 + LEXICAL_WEIGHT * 0.4) / (1 + ANSWER_WEIGHT + LEXICAL_WEIGHT))
    assert entry_score(phrasing_scores=three, answer=0.5, lexical=0.4, classifier=0.9) == pytest.approx(
        (0.8 + ANSWER_WEIGHT * 0.5 + LEXICAL_WEIGHT * 0.4 + CLASSIFIER_WEIGHT * 0.9)
        / (1 + ANSWER_WEIGHT + LEXICAL_WEIGHT + CLASSIFIER_WEIGHT))


def test_an_entry_with_fewer_phrasings_leans_more_on_its_answer_and_words():
    answer, words = ANSWER_WEIGHT * FEW_PHRASINGS_BOOST, LEXICAL_WEIGHT * FEW_PHRASINGS_BOOST
    assert evidence_weights(1) == pytest.approx((answer, words))
    assert evidence_weights(VOTE_SIZE) == evidence_weights(VOTE_SIZE + 5) == (ANSWER_WEIGHT, LEXICAL_WEIGHT)
    assert ANSWER_WEIGHT < evidence_weights(2)[0] < answer
    assert entry_score(phrasing_scores=(0.8,), answer=0.5, lexical=0.4, classifier=None) == pytest.approx(
        (0.8 + answer * 0.5 + words * 0.4) / (1 + answer + words))
    # a FAQ entry with only its question: a strong answer now outweighs a slightly closer question
    one_question = entry_score(phrasing_scores=(0.60,), answer=0.75, lexical=0.0, classifier=None)
    assert one_question > entry_score(phrasing_scores=(0.63,), answer=0.55, lexical=0.0, classifier=None)


def test_confidence_adds_the_lead_over_the_runner_up_and_takes_the_deficit():
    first, second, third = confidences([0.7, 0.6, 0.2])
    assert first == pytest.approx(0.7 + MARGIN_WEIGHT * 0.1)
    assert second == pytest.approx(0.6 - MARGIN_WEIGHT * 0.1)
    assert third == pytest.approx(max(0.0, 0.2 - MARGIN_WEIGHT * 0.5))


def test_two_close_entries_are_less_confident_than_one_clear_one():
    assert confidences([0.7, 0.69])[0] < confidences([0.7, 0.3])[0]


def test_tied_best_entries_have_no_margin_and_confidences_stay_in_the_unit_interval():
    assert confidences([0.5, 0.5, 0.1])[:2] == [pytest.approx(0.5), pytest.approx(0.5)]
    very_sure, sure = confidences([0.95, 0.0])[0], confidences([0.9, 0.1])[0]
    assert 0.99 < sure < very_sure < 1.0  # above 0.9 confidences approach 1 and keep their order: no ties at 1
    assert confidences([0.95, 0.0])[1] == 0.0
    assert confidences([]) == []


def test_a_clear_lead_in_the_classifier_adds_to_the_confidence_and_a_rival_ahead_takes_from_it():
    scores = [0.6, 0.5]
    plain = confidences(scores)
    sure = confidences(scores, [0.9, 0.05], best_probabilities=(0.9, 0.05))
    torn = confidences(scores, [0.3, 0.6], best_probabilities=(0.6, 0.3))
    assert torn[0] < plain[0] < sure[0]
    assert torn[1] > plain[1]  # the second entry is the classifier's favourite


def test_long_message_score_averages_the_whole_and_the_best_sentence():
    assert long_message_score(0.3, 0.9) == pytest.approx(0.6)
    assert long_message_score(0.8, 0.5) == pytest.approx(0.8)  # a weaker sentence never lowers the whole


# ---------------------------------------------------------------- rank


def test_rank_orders_by_fused_score_and_fuses_lexical_and_answer_evidence():
    hits = ranking.rank([([candidate(A, 0.6), candidate(B, 0.6, lexical=0.9), candidate(C, 0.6, answer=0.5)],
                          None)], top_k=3)
    assert [h.entry.id for h in hits] == ["b", "c", "a"]
    assert hits[0].score == pytest.approx(entry_score(phrasing_scores=(0.6,), answer=0.0, lexical=0.9,
                                                      classifier=None))
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)


def test_rank_uses_the_classifier_when_there_is_one():
    parts = [([candidate(A, 0.6), candidate(B, 0.58)], {"a": 0.1, "b": 0.9})]
    assert [h.entry.id for h in ranking.rank(parts, top_k=2)] == ["b", "a"]


def test_rank_merges_the_sentences_of_a_long_message():
    whole = [candidate(A, 0.5), candidate(B, 0.3)]
    sentence = [candidate(B, 0.9), candidate(C, 0.4)]
    hits = {h.entry.id: h for h in ranking.rank([(whole, None), (sentence, None)], top_k=3)}
    score = ranking._score  # the fused score of one candidate
    assert hits["b"].score == pytest.approx(long_message_score(score(whole[1], None), score(sentence[0], None)))
    assert hits["a"].score == pytest.approx(score(whole[0], None))  # no sentence found it: the whole alone
    assert hits["c"].score == pytest.approx(long_message_score(0.0, score(sentence[1], None)))
    assert max(hits.values(), key=lambda h: h.score).entry.id == "b"


def test_confidence_does_not_depend_on_top_k():
    parts = [([candidate(A, 0.7), candidate(B, 0.6), candidate(C, 0.1)], None)]
    assert ranking.rank(parts, top_k=1)[0] == ranking.rank(parts, top_k=3)[0]


# ---------------------------------------------------------------- texts


def test_the_question_is_also_indexed_in_the_context_of_its_topic():
    fee = Entry(id="f", question="How much is the fee?", alt_questions=("bag fee amount",), answer="10 cents",
                topic="Disposable Bag Fee")
    assert ranking.indexed_phrasings(fee) == ("How much is the fee?", "bag fee amount",
                                              "Disposable Bag Fee: How much is the fee?")
    assert ranking.shown_phrasing(fee, 2) == "How much is the fee?"
    same = Entry(id="s", question="Disposable bag fee", answer="10 cents", topic="Disposable Bag Fee")
    assert ranking.indexed_phrasings(same) == ("Disposable bag fee",)


def test_a_short_message_is_not_split():
    assert ranking.sentences("How do I pay a parking ticket? I lost the envelope.") == []


def test_a_long_message_is_split_into_sentences_and_short_fragments_join_the_one_before():
    text = ("I moved to Cedar Street last spring with my wife and our two boys and we love it here. Thanks! The "
            "trash is collected on Mondays, which works well for us and for the neighbours.\n\nBut my question is "
            "about the library: how do I get a card for my son?")
    assert len(text.split()) >= ranking.LONG_MESSAGE_WORDS
    assert ranking.sentences(text) == [
        "I moved to Cedar Street last spring with my wife and our two boys and we love it here. Thanks!",
        "The trash is collected on Mondays, which works well for us and for the neighbours.",
        "But my question is about the library: how do I get a card for my son?"]


def test_a_very_long_message_is_read_in_at_most_max_sentences():
    text = " ".join(f"This is sentence number {i} of a long letter." for i in range(40))
    assert len(ranking.sentences(text)) == ranking.MAX_SENTENCES


# ---------------------------------------------------------------- long messages with the real model

# About 300 words: the model reads only the first 256 tokens of the whole message, which end before the question.
COMPLAINT = (
    "Good morning. I have lived on Cedar Street for almost twenty years and I have always been proud of this "
    "neighbourhood. When we moved here the street was quiet, the trees were young and everybody knew each other. "
    "My husband and I raised three children in this house, and we still host a barbecue for the whole block every "
    "summer. I am writing today because a lot has changed recently and I wanted to share my thoughts with someone "
    "at the city who might actually read them.\n\n"
    "The new apartment building at the end of the road brought many young families, which is wonderful, but it "
    "also brought a lot more traffic at school time, and the corner near the bakery is becoming dangerous for the "
    "little ones who cross there every morning. Some drivers are in such a hurry. I also noticed that the old oak "
    "tree in front of number 14 has lost a big branch in the last storm, and the sidewalk there has cracked. None "
    "of this is urgent, and I know everyone is busy, but I would love to see the city keep an eye on it.\n\n"
    "Our neighbours on both sides have been wonderful over the years. We share tools, we look after each "
    "other's cats when someone is away, and in winter the young man next door clears our driveway before he "
    "goes to work. The community garden two streets over is thriving, and the summer concerts in the park have "
    "become the highlight of the season for my husband, who never misses one.\n\n"
    "Sorry for the long message, the real reason I am writing is something else entirely. My granddaughter is "
    "staying with us for the summer and she reads all the time. How do I get a library card for her?")


def test_a_question_at_the_end_of_a_long_complaint_finds_its_entry(shared_small_kb):
    assert len(COMPLAINT.split()) == 300
    assert len(ranking.sentences(COMPLAINT)) >= 10
    assert shared_small_kb.search(COMPLAINT)[0].entry.id == "t-library"


def test_the_whole_long_complaint_alone_would_not_find_it(shared_small_kb):
    # what the sentences are for: the whole message's vector never saw the question
    kb = shared_small_kb
    whole = ranking.search(kb.backend, kb.classifier, [COMPLAINT], kb.embedder.embed([COMPLAINT]), top_k=3)
    assert whole[0].entry.id != "t-library"


def test_a_long_message_is_embedded_in_one_pass_with_its_sentences(embedder):
    texts, vectors = ranking.message_parts(embedder, COMPLAINT)
    assert texts == [COMPLAINT, *ranking.sentences(COMPLAINT)]
    assert vectors.shape == (len(texts), embedder.dimension)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(len(texts)), abs=1e-5)
    # the whole message's vector is the model's own
    assert float(vectors[0] @ embedder.embed_one(COMPLAINT)) == pytest.approx(1.0, abs=1e-4)
    # a sentence inside the model's window: the mean of its tokens in context, not its own embedding
    first = float(vectors[1] @ embedder.embed_one(texts[1]))
    assert 0.2 < first < 0.9999
    # the question comes after the window: embedded on its own
    assert float(vectors[-1] @ embedder.embed_one(texts[-1])) == pytest.approx(1.0, abs=1e-4)


def test_a_short_message_is_embedded_whole_only(embedder):
    texts, vectors = ranking.message_parts(embedder, "How do I get a library card?")
    assert texts == ["How do I get a library card?"]
    assert vectors.shape == (1, embedder.dimension)
