"""Search through KnowledgeBase with the real model, and EmbeddedBackend with hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.entry import Entry
from knowledge_base.search import Filters, IndexedEntry
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.search.fusion import VOTE_SIZE, evidence_weights, vote
from tests.knowledge_base.conftest import SMALL_ENTRIES

BY_ID = {e.id: e for e in SMALL_ENTRIES}
ALL_IDS = set(BY_ID)


def ids(hits) -> list[str]:
    return [h.entry.id for h in hits]


# ---------------------------------------------------------------- ranking with the real model


@pytest.mark.parametrize(("question", "expected"), [
    ("where do I pay my parking fine", "t-ticket"),
    ("I want to throw away an old sofa", "t-bulk"),
    ("how can I become a library member", "t-library"),
    ("does my puppy need to be registered", "t-dog"),
    ("necesito licencia para mi perro", "t-perros"),
])
def test_paraphrased_question_ranks_the_right_entry_first(shared_small_kb, question, expected):
    assert shared_small_kb.search(question)[0].entry.id == expected


def test_hits_carry_the_stored_entry(shared_small_kb):
    top = shared_small_kb.search("where do I pay my parking fine")[0]
    assert top.entry == BY_ID["t-ticket"]


def test_confidences_are_in_unit_interval_and_sorted_descending(shared_small_kb):
    for question in ("where do I pay my parking fine", "who won the football game last night", "library"):
        hits = shared_small_kb.search(question)
        confidences = [h.confidence for h in hits]
        assert len(hits) == 5
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert confidences == sorted(confidences, reverse=True)


def test_matched_phrasing_is_one_of_the_entrys_phrasings(shared_small_kb):
    for question in ("where do I pay my parking fine", "get rid of a couch", "dog registration"):
        for hit in shared_small_kb.search(question):
            assert hit.matched_phrasing in hit.entry.phrasings


def test_matched_phrasing_is_the_closest_phrasing(shared_small_kb):
    top = shared_small_kb.search("how do I get rid of an old couch")[0]
    assert (top.entry.id, top.matched_phrasing) == ("t-bulk", "how do I get rid of an old couch")


def test_off_topic_question_gets_no_answer(shared_small_kb):
    answer = shared_small_kb.answer("who won the football game last night")
    assert answer.entry is None
    assert answer.confidence < shared_small_kb.threshold
    assert answer.threshold == 0.6


def test_on_topic_question_gets_an_answer(shared_small_kb):
    answer = shared_small_kb.answer("where do I pay my parking fine")
    assert answer.entry == BY_ID["t-ticket"]
    assert answer.confidence >= shared_small_kb.threshold


def test_answer_uses_the_configured_threshold(make_kb):
    strict = make_kb(SMALL_ENTRIES, threshold=0.999)
    answer = strict.answer("I want to throw away an old sofa")
    assert answer.threshold == 0.999
    assert answer.entry is None
    assert answer.results[0].entry.id == "t-bulk"


def test_department_filter_restricts_results(shared_small_kb):
    hits = shared_small_kb.search("how do I pay a parking ticket", filters=Filters(department="Animal Services"))
    assert set(ids(hits)) == {"t-dog", "t-perros"}
    assert all(h.entry.department == "Animal Services" for h in hits)


def test_language_filter_restricts_results(shared_small_kb):
    assert ids(shared_small_kb.search("dog licence", filters=Filters(language="es"))) == ["t-perros"]
    english = shared_small_kb.search("dog licence", filters=Filters(language="en"))
    assert set(ids(english)) == ALL_IDS - {"t-perros"}
    assert ids(english)[0] == "t-dog"


def test_department_and_language_filters_combine(shared_small_kb):
    hits = shared_small_kb.search("dog licence", filters=Filters(department="Animal Services", language="en"))
    assert ids(hits) == ["t-dog"]


def test_filter_matching_nothing_gives_no_results(shared_small_kb):
    assert shared_small_kb.search("dog licence", filters=Filters(department="Fire Department")) == []
    assert shared_small_kb.answer("dog licence", filters=Filters(language="de")).entry is None


def test_empty_filters_change_nothing(shared_small_kb):
    assert ids(shared_small_kb.search("dog licence", filters=Filters())) == ids(shared_small_kb.search("dog licence"))


@pytest.mark.parametrize("top_k", [1, 2, 3, 5])
def test_top_k_is_respected(shared_small_kb, top_k):
    assert len(shared_small_kb.search("where do I pay my parking fine", top_k=top_k)) == top_k


def test_top_k_beyond_the_entry_count_returns_every_entry_once(shared_small_kb):
    hits = shared_small_kb.search("where do I pay my parking fine", top_k=50)
    assert sorted(ids(hits)) == sorted(ALL_IDS)


def test_default_top_k_is_five(make_kb):
    extra = [Entry(id=f"x-{i}", question=f"Question number {i} about parking", answer="a") for i in range(4)]
    kb = make_kb([*SMALL_ENTRIES, *extra])
    assert len(kb.search("parking")) == 5


@pytest.mark.parametrize("query", ["", " ", "   \n\t  "])
def test_empty_or_whitespace_query_returns_nothing(shared_small_kb, query):
    assert shared_small_kb.search(query) == []
    answer = shared_small_kb.answer(query)
    assert (answer.results, answer.entry, answer.confidence) == ([], None, 0.0)


def test_punctuation_only_query_does_not_fail(shared_small_kb):
    assert len(shared_small_kb.search("?!? ... ___ \"' OR AND NEAR(")) == 5


def test_a_twenty_thousand_character_query_does_not_fail(shared_small_kb):
    query = ("where do I pay my parking fine " * 700)[:20_000]
    assert len(query) == 20_000
    hits = shared_small_kb.search(query)
    assert len(hits) == 5
    assert hits[0].entry.id == "t-ticket"


def test_a_twenty_thousand_character_query_of_distinct_words_does_not_fail(shared_small_kb):
    words = " ".join(f"w{i}x" for i in range(4000))[:20_000]
    assert len(shared_small_kb.search(words)) == 5


def test_search_on_an_empty_knowledge_base_returns_nothing(make_kb):
    kb = make_kb()
    assert kb.search("where do I pay my parking fine") == []
    assert kb.answer("where do I pay my parking fine").entry is None


def test_deleting_an_entry_removes_it_from_results(small_kb):
    assert ids(small_kb.search("where do I pay my parking fine"))[0] == "t-ticket"
    small_kb.backend.delete(["t-ticket", "no-such-id"])
    hits = small_kb.search("where do I pay my parking fine")
    assert set(ids(hits)) == ALL_IDS - {"t-ticket"}
    assert small_kb.backend.count() == 4
    # the lexical index forgets it too: its exact words no longer bring it back
    assert "t-ticket" not in ids(small_kb.search("parking citation portal City Hall", top_k=50))


def test_upserting_a_changed_entry_changes_results_without_duplicates(small_kb):
    before = small_kb.search("renew my resident parking permit")
    assert before[0].entry.id == "t-ticket"
    library = BY_ID["t-library"]
    changed = library.model_copy(update={"question": "How do I renew my resident parking permit?",
                                         "alt_questions": ("resident parking permit renewal",)})
    small_kb.import_entries([changed])
    after = small_kb.search("renew my resident parking permit", top_k=50)
    assert after[0].entry == changed
    assert after[0].matched_phrasing in changed.phrasings
    assert sorted(ids(after)) == sorted(ALL_IDS)
    assert small_kb.backend.count() == 5
    # the old phrasings' vectors are gone: the old question no longer finds the entry (it did, at about 1.0)
    old = small_kb.search("How do I get a library card?", top_k=50)
    assert old[0].entry.id != "t-library"
    assert next(h for h in old if h.entry.id == "t-library").dense < 0.6


def test_load_index_rebuilds_the_same_results(small_kb):
    query = "I want to throw away an old sofa"
    before = [(h.entry.id, round(h.confidence, 5)) for h in small_kb.search(query)]
    small_kb.backend.delete(list(ALL_IDS))
    assert small_kb.search(query) == []
    assert small_kb.load_index() == 5
    assert [(h.entry.id, round(h.confidence, 5)) for h in small_kb.search(query)] == before


# ---------------------------------------------------------------- EmbeddedBackend with hand-made vectors


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def indexed(entry_id: str, vectors: list[np.ndarray], *, alt: tuple[str, ...] | None = None,
            department: str | None = None, language: str = "en") -> IndexedEntry:
    alt = alt if alt is not None else tuple(f"{entry_id} phrasing {i}" for i in range(1, len(vectors)))
    entry = Entry(id=entry_id, question=f"{entry_id} question", alt_questions=alt, answer=f"{entry_id} answer",
                  department=department, language=language)
    assert len(entry.phrasings) == len(vectors)
    return IndexedEntry(entry=entry, vectors=np.vstack(vectors).astype(np.float32))


NO_WORDS = "zzzqqq"  # matches no indexed text, so lexical evidence is 0


def test_phrasing_scores_are_the_entrys_best_cosines_best_first_and_name_the_matched_phrasing():
    backend = EmbeddedBackend()
    backend.upsert([indexed("multi", [unit(1, 0, 0), unit(0, 1, 0), unit(0.6, 0.8, 0), unit(0, 0, 1)]),
                    indexed("single", [unit(0, 0, 1)])])
    query = unit(1, 2, 0)
    cosines = sorted((float(v @ query) for v in (unit(1, 0, 0), unit(0, 1, 0), unit(0.6, 0.8, 0), unit(0, 0, 1))),
                     reverse=True)
    found = {c.entry.id: c for c in backend.search(NO_WORDS, query, limit=5)}
    assert set(found) == {"multi", "single"}
    multi = found["multi"]
    assert multi.phrasing_scores == pytest.approx(cosines[:VOTE_SIZE], abs=1e-6)  # the best three, not all four
    assert multi.matched_phrasing == "multi phrasing 2"
    assert multi.lexical == 0.0
    assert found["single"].phrasing_scores == pytest.approx((0.0,), abs=1e-6)
    assert vote(multi.phrasing_scores) > vote(found["single"].phrasing_scores)


def test_the_answer_vector_is_scored_too():
    backend = EmbeddedBackend()
    item = indexed("e", [unit(1, 0)])
    backend.upsert([IndexedEntry(entry=item.entry, vectors=item.vectors, answer_vector=unit(0.6, 0.8))])
    assert backend.search(NO_WORDS, unit(0, 1), limit=1)[0].answer_score == pytest.approx(0.8, abs=1e-6)


def test_limit_keeps_the_entries_with_the_best_vote():
    backend = EmbeddedBackend()
    # "many" has one very close phrasing but two far ones; "agree" has three fairly close ones
    backend.upsert([indexed("many", [unit(1, 0), unit(0, 1), unit(0, 1)]),
                    indexed("agree", [unit(1, 0.4), unit(1, 0.5), unit(1, 0.6)]),
                    indexed("far", [unit(-1, 0.1)])])
    assert ids(backend.search(NO_WORDS, unit(1, 0), limit=1)) == ["agree"]


@pytest.mark.parametrize(("query", "phrasing"), [
    (unit(1, 0, 0), "e question"),
    (unit(0, 1, 0), "e phrasing 1"),
    (unit(0, 0, 1), "e phrasing 2"),
    (unit(0.1, 0.2, 1), "e phrasing 2"),
])
def test_matched_phrasing_is_the_best_scoring_one(query, phrasing):
    backend = EmbeddedBackend()
    backend.upsert([indexed("e", [unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])])
    assert backend.search(NO_WORDS, query, limit=1)[0].matched_phrasing == phrasing


def test_matched_phrasing_per_entry_when_several_entries_have_several_phrasings():
    backend = EmbeddedBackend()
    backend.upsert([indexed("p", [unit(1, 0, 0, 0), unit(0, 1, 0, 0)]),
                    indexed("q", [unit(0, 0, 1, 0), unit(0.5, 0.5, 0.5, 0.5), unit(0, 0, 0, 1)]),
                    indexed("r", [unit(0, 0, 0, 1)])])
    hits = {h.entry.id: h for h in backend.search(NO_WORDS, unit(0, 0.2, 0, 1), limit=3)}
    assert hits["p"].matched_phrasing == "p phrasing 1"
    assert hits["q"].matched_phrasing == "q phrasing 2"
    assert hits["r"].matched_phrasing == "r question"
    assert hits["q"].phrasing_scores[0] == pytest.approx(float(unit(0, 0.2, 0, 1) @ unit(0, 0, 0, 1)), abs=1e-6)


def test_tied_phrasings_match_the_first_one():
    backend = EmbeddedBackend()
    backend.upsert([indexed("t", [unit(0, 1), unit(1, 0), unit(1, 0)])])
    hit = backend.search(NO_WORDS, unit(1, 0), limit=1)[0]
    assert hit.matched_phrasing == "t phrasing 1"
    assert hit.phrasing_scores == pytest.approx((1.0, 1.0, 0.0), abs=1e-6)


def test_equal_scores_are_ordered_by_id():
    backend = EmbeddedBackend()
    backend.upsert([indexed("b", [unit(1, 0)]), indexed("a", [unit(1, 0)]), indexed("c", [unit(0, 1)])])
    candidates = backend.search(NO_WORDS, unit(1, 0), limit=10)
    assert ids(candidates) == ["a", "b", "c"]
    assert ids(ranking.rank([(candidates, None)], top_k=3)) == ["a", "b", "c"]


def test_a_lexical_match_is_found_and_raises_the_fused_score():
    backend = EmbeddedBackend()
    backend.upsert([indexed("word", [unit(1, 0)], alt=()), indexed("other", [unit(1, 0)], alt=())])
    found = {c.entry.id: c for c in backend.search("word", unit(1, 0), limit=2)}
    assert found["other"].lexical == 0.0
    assert 0.0 < found["word"].lexical < 1.0
    hits = ranking.rank([(list(found.values()), None)], top_k=2)
    assert ids(hits) == ["word", "other"]
    answer_weight, lexical_weight = evidence_weights(1)  # one phrasing each
    assert hits[0].score == pytest.approx((1.0 + lexical_weight * found["word"].lexical)
                                          / (1 + answer_weight + lexical_weight), abs=1e-6)


def test_backend_upsert_replaces_vectors_and_delete_forgets():
    backend = EmbeddedBackend()
    backend.upsert([indexed("a", [unit(1, 0)]), indexed("b", [unit(1, 1)])])
    assert ids(backend.search(NO_WORDS, unit(1, 0), limit=2)) == ["a", "b"]
    backend.upsert([indexed("a", [unit(0, 1), unit(-1, 0)])])
    hits = backend.search(NO_WORDS, unit(1, 0), limit=5)
    assert ids(hits) == ["b", "a"]
    assert hits[1].phrasing_scores == pytest.approx((0.0, -1.0), abs=1e-6)
    assert backend.count() == 2
    backend.delete(["b", "unknown"])
    assert ids(backend.search(NO_WORDS, unit(1, 0), limit=5)) == ["a"]
    assert backend.count() == 1


def test_backend_department_filter_finds_an_entry_outside_the_dense_candidates():
    # Twelve entries of department A are closer to the query than the one entry of department B.
    # A search restricted to department B must still return that entry: it is the only one allowed.
    backend = EmbeddedBackend()
    backend.upsert([indexed(f"a{i:02}", [unit(1, 0.01 * i, 0)], department="A") for i in range(12)]
                   + [indexed("b", [unit(0, 0, 1)], department="B")])
    hits = backend.search(NO_WORDS, unit(1, 0, 0), limit=1, filters=Filters(department="B"))
    assert ids(hits) == ["b"]


def test_backend_language_filter_fills_top_k_when_enough_entries_match():
    backend = EmbeddedBackend()
    backend.upsert([indexed(f"en{i:02}", [unit(1, 0.01 * i, 0)]) for i in range(30)]
                   + [indexed(f"es{i}", [unit(0.01 * i, 0, 1)], language="es") for i in range(3)])
    hits = backend.search(NO_WORDS, unit(1, 0, 0), limit=2, filters=Filters(language="es"))
    assert ids(hits) == ["es2", "es1"]
