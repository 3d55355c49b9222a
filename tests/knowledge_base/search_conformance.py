"""The conformance tests every search backend passes (Haystack's document-store style: a mixin per backend).

A backend's test module subclasses `SearchBackendConformance` and provides a `backend` fixture: a fresh,
empty backend for each test. The corpus is embedded with the real model once per session.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.search import Candidate, Filters, IndexedEntry, SearchBackend
from knowledge_base.search.fusion import VOTE_SIZE, vote

WASTE, PARKING, LIBRARY, ANIMALS, WORKS = (
    "Waste & Recycling", "Parking Services", "Public Library", "Animal Services", "Public Works")

# (entry, life-cycle state): two departments have an entry in Spanish, one a draft, one a retired entry.
CORPUS: list[tuple[Entry, str]] = [
    (Entry(id="c-bulk", question="When is bulk trash pickup?",
           alt_questions=("how do I get rid of an old couch", "large item collection schedule"),
           answer="Bulk items are collected on the first Monday of each month.", department=WASTE,
           topic="Bulk pickup", category="Information", url="https://www.alderbrook.example/waste/bulk"), "published"),
    (Entry(id="c-recycling", question="Which plastics can go in the recycling bin?",
           alt_questions=("what goes in the blue bin", "can I recycle plastic bags"),
           answer="Plastics numbered 1, 2 and 5 go in the blue bin; plastic bags do not.", department=WASTE,
           topic="Recycling"), "published"),
    (Entry(id="c-basura", question="¿Cuándo pasa el camión de la basura?",
           alt_questions=("horario de recogida de basura",),
           answer="El camión de la basura pasa los martes y los viernes.", department=WASTE, topic="Basura",
           language="es"), "published"),
    (Entry(id="c-ticket", question="How do I pay a parking ticket?",
           alt_questions=("pay parking fine online", "where can I pay my parking citation"),
           answer="Pay online at the city's payment portal or in person at City Hall.", department=PARKING,
           topic="Citations", category="Payment"), "published"),
    (Entry(id="c-permit", question="How do I get a residential parking permit?",
           alt_questions=("resident parking sticker", "parking permit for my street"),
           answer="Apply with proof of residence and your vehicle registration.", department=PARKING,
           topic="Permits"), "draft"),
    (Entry(id="c-library", question="How do I get a library card?",
           alt_questions=("sign up for a library membership", "library card application"),
           answer="Bring photo ID and proof of address to any branch.", department=LIBRARY,
           topic="Membership"), "published"),
    (Entry(id="c-dog", question="Do I need a licence for my dog?",
           alt_questions=("dog license registration", "register my puppy with the city"),
           answer="Yes, every dog over four months needs a yearly licence.", department=ANIMALS,
           topic="Dog licences", category="Permit"), "published"),
    (Entry(id="c-perros", question="¿Necesito licencia para mi perro?", alt_questions=("registro de perros",),
           answer="Sí, todos los perros mayores de cuatro meses necesitan licencia anual.",
           department=ANIMALS, topic="Licencias", language="es"), "published"),
    (Entry(id="c-pothole", question="How do I report a pothole?",
           alt_questions=("there is a hole in the road", "road damage report"),
           answer="Report it on the 311 app with a photo and the nearest address.", department=WORKS,
           topic="Roads"), "published"),
    (Entry(id="c-snow", question="When are streets plowed after snow?", alt_questions=("snow removal schedule",),
           answer="Main roads are plowed first, side streets within 48 hours.", department=WORKS,
           topic="Winter"), "retired"),
]
ENTRIES = {entry.id: entry for entry, _ in CORPUS}
STATES = {entry.id: state for entry, state in CORPUS}
ALL_IDS = set(ENTRIES)
NO_WORDS = "?!? ... ---"  # a message of punctuation only: BM25 finds nothing, the vectors still do
LIMIT = 30  # ranking.CANDIDATES: what the knowledge base asks every backend for


@functools.cache
def _vectors(embedder: Embedder, texts: tuple[str, ...]) -> np.ndarray:
    return embedder.embed(list(texts))


def indexed(embedder: Embedder, entry: Entry, state: str = "published") -> IndexedEntry:
    """The entry as the knowledge base indexes it: a vector per indexed phrasing, and one of its answer."""
    return IndexedEntry(entry=entry, vectors=_vectors(embedder, ranking.indexed_phrasings(entry)),
                        answer_vector=_vectors(embedder, (entry.answer,))[0], state=state)


def ids(found) -> list[str]:
    return [item.entry.id for item in found]


class SearchBackendConformance:
    """Write, update, delete, filter, rank and re-index: the same expectations for every backend."""

    @pytest.fixture
    def backend(self) -> SearchBackend:
        raise NotImplementedError("a backend's test class provides a fresh, empty backend")

    @pytest.fixture
    def corpus(self, embedder) -> list[IndexedEntry]:
        return [indexed(embedder, entry, state) for entry, state in CORPUS]

    @pytest.fixture
    def loaded(self, backend, corpus) -> SearchBackend:
        backend.upsert(corpus)
        return backend

    @pytest.fixture
    def query(self, embedder):
        """A question as text and vector, as the knowledge base passes it to a backend."""
        return lambda text: (text, _vectors(embedder, (text,))[0])

    @staticmethod
    def rank(backend: SearchBackend, embedder: Embedder, text: str, *, top_k: int = 5,
             filters: Filters | None = None) -> list[str]:
        texts, vectors = ranking.message_parts(embedder, text)
        return ids(ranking.search(backend, None, texts, vectors, top_k=top_k, filters=filters))

    # ------------------------------------------------------------ empty backend, write, count

    def test_an_empty_backend_counts_nothing_and_finds_nothing(self, backend, query):
        assert backend.count() == 0
        assert backend.search(*query("where do I pay my parking fine"), limit=LIMIT) == []
        assert backend.search(*query("parking"), limit=LIMIT, filters=Filters(state="published")) == []
        backend.delete(["c-ticket"])  # deleting from an empty backend is no error
        assert backend.count() == 0

    def test_written_entries_are_counted_and_found_with_every_field(self, loaded, corpus, query):
        assert loaded.count() == len(CORPUS)
        found = loaded.search(*query("how do I pay a parking ticket"), limit=LIMIT)
        assert set(ids(found)) == ALL_IDS
        assert {c.entry.id: c.entry for c in found} == ENTRIES  # every field round-trips, url and topic too

    def test_an_empty_upsert_changes_nothing(self, loaded):
        loaded.upsert([])
        assert loaded.count() == len(CORPUS)

    # ------------------------------------------------------------ the evidence of a candidate

    def test_phrasing_scores_are_the_entrys_best_cosines_and_the_answer_score_its_answers(self, loaded, corpus,
                                                                                         query):
        text, vector = query("can I put plastic bags in the blue bin")
        found = {c.entry.id: c for c in loaded.search(text, vector, limit=LIMIT)}
        for item in corpus:
            candidate = found[item.entry.id]
            cosines = item.vectors @ vector
            best = sorted(cosines.tolist(), reverse=True)[:VOTE_SIZE]
            assert candidate.phrasing_scores == pytest.approx(best, abs=1e-5)
            assert candidate.answer_score == pytest.approx(float(item.answer_vector @ vector), abs=1e-5)
            assert candidate.matched_phrasing == ranking.shown_phrasing(item.entry, int(np.argmax(cosines)))
        assert found["c-recycling"].matched_phrasing == "can I recycle plastic bags"

    def test_lexical_evidence_is_a_strength_for_the_entries_with_the_words(self, loaded, query):
        found = {c.entry.id: c for c in loaded.search(*query("parking"), limit=LIMIT)}
        assert {e for e, c in found.items() if c.lexical > 0} == {"c-ticket", "c-permit"}
        assert all(0.0 <= c.lexical < 1.0 for c in found.values())

    def test_every_candidate_carries_its_lexical_strength_also_past_bm25s_own_limit(self, loaded, query):
        """A candidate the vectors found keeps the words it shares with the question, even when BM25 ranks it
        below its own `limit` best: without them it lost to entries that did match by words."""
        text = "plowed parking recycling"  # BM25 finds c-snow, c-ticket, c-permit, c-recycling …
        everything = {c.entry.id: c.lexical for c in loaded.search(*query(text), limit=LIMIT)}
        matched = {e for e, strength in everything.items() if strength > 0}
        assert {"c-snow", "c-ticket", "c-recycling"} <= matched
        for limit in (1, 2):  # … but with a small limit only its best one or two on its own
            found = {c.entry.id: c.lexical for c in loaded.search(*query(text), limit=limit)}
            assert len(found) > limit
            assert {e: s for e, s in found.items() if e in matched} == pytest.approx(
                {e: everything[e] for e in found if e in matched})
            assert all(found[e] == 0.0 for e in found if e not in matched)

    def test_candidates_come_best_vote_first(self, loaded, query):
        found = loaded.search(*query("my dog needs a license"), limit=LIMIT)
        votes = [vote(c.phrasing_scores) for c in found]
        assert votes == sorted(votes, reverse=True)
        assert found[0].entry.id == "c-dog"

    def test_limit_caps_the_entries_the_vectors_find(self, loaded, query):
        found = loaded.search(*query(NO_WORDS), limit=3)
        assert len(found) == 3
        everything = loaded.search(*query(NO_WORDS), limit=LIMIT)
        assert ids(found) == ids(everything)[:3]

    # ------------------------------------------------------------ ranking on the fixed corpus

    @pytest.mark.parametrize(("question", "expected"), [
        ("where do I pay my parking fine", "c-ticket"),
        ("I want to throw away an old sofa", "c-bulk"),
        ("how can I become a library member", "c-library"),
        ("does my puppy need to be registered", "c-dog"),
        ("necesito licencia para mi perro", "c-perros"),
        ("there is a big hole in my street", "c-pothole"),
        ("can plastic bags be recycled", "c-recycling"),
        ("¿qué día recogen la basura?", "c-basura"),
    ])
    def test_the_right_entry_ranks_first(self, loaded, embedder, question, expected):
        assert self.rank(loaded, embedder, question)[0] == expected

    @pytest.mark.parametrize(("question", "expected"), [
        ("where do I pay my parking fine", ["c-ticket", "c-permit"]),
        ("can plastic bags be recycled", ["c-recycling", "c-bulk"]),
        ("¿qué día recogen la basura?", ["c-basura", "c-perros"]),
        ("necesito licencia para mi perro", ["c-perros", "c-basura"]),
        ("how do I get a residential parking permit", ["c-permit", "c-ticket"]),
    ])
    def test_the_order_of_the_first_candidates(self, loaded, embedder, question, expected):
        assert self.rank(loaded, embedder, question)[:len(expected)] == expected

    # ------------------------------------------------------------ update, delete, re-index

    def test_upserting_an_id_again_replaces_its_text_and_vectors(self, loaded, embedder, query):
        changed = ENTRIES["c-library"].model_copy(update={
            "question": "How do I renew my boat mooring licence?", "alt_questions": ("boat mooring renewal",),
            "answer": "Renew moorings at the harbour office before April.", "topic": "Harbour"})
        loaded.upsert([indexed(embedder, changed)])
        assert loaded.count() == len(CORPUS)
        assert self.rank(loaded, embedder, "renew the mooring for my boat")[0] == "c-library"
        found = {c.entry.id: c for c in loaded.search(*query("library card application"), limit=LIMIT)}
        assert found["c-library"].entry == changed
        assert found["c-library"].lexical == 0.0  # the old words are gone from the text fields
        # the old phrasings' vectors are gone: three indexed phrasings now, the old ones scored about 1.0
        assert len(found["c-library"].phrasing_scores) == len(ranking.indexed_phrasings(changed)) == 3
        assert max(found["c-library"].phrasing_scores) < 0.6
        assert self.rank(loaded, embedder, "library card application")[0] != "c-library"

    def test_an_update_can_move_an_entry_between_departments_and_states(self, loaded, embedder, query):
        moved = ENTRIES["c-permit"].model_copy(update={"department": LIBRARY})
        loaded.upsert([indexed(embedder, moved, "published")])
        found = loaded.search(*query("parking permit"), limit=LIMIT,
                              filters=Filters(department=LIBRARY, state="published"))
        assert set(ids(found)) == {"c-library", "c-permit"}
        assert loaded.search(*query("parking permit"), limit=LIMIT, filters=Filters(state="draft")) == []

    def test_deleting_removes_entries_from_both_paths_and_ignores_unknown_ids(self, loaded, query):
        loaded.delete(["c-ticket", "no-such-id"])
        assert loaded.count() == len(CORPUS) - 1
        found = loaded.search(*query("pay parking fine online"), limit=LIMIT)
        assert set(ids(found)) == ALL_IDS - {"c-ticket"}
        assert {c.entry.id for c in found if c.lexical > 0} == {"c-permit"}
        loaded.delete(["no-such-id"])
        assert loaded.count() == len(CORPUS) - 1

    def test_re_indexing_the_same_entries_changes_nothing(self, loaded, corpus, query):
        questions = ("where do I pay my parking fine", "dog licence", NO_WORDS)
        before = [loaded.search(*query(q), limit=LIMIT) for q in questions]
        loaded.upsert(corpus)
        loaded.upsert(list(reversed(corpus)))
        assert loaded.count() == len(CORPUS)
        after = [loaded.search(*query(q), limit=LIMIT) for q in questions]
        assert [_rounded(c) for c in after] == [_rounded(c) for c in before]

    # ------------------------------------------------------------ filters, in the vector and the BM25 path

    @pytest.mark.parametrize("filters", [
        Filters(department=PARKING), Filters(department=WASTE), Filters(state="published"), Filters(state="draft"),
        Filters(state="retired"), Filters(language="es"), Filters(language="en"),
        Filters(department=WASTE, language="es"), Filters(department=PARKING, state="published"),
        Filters(department=WORKS, language="en", state="retired"), Filters(),
    ])
    def test_the_vectors_find_exactly_the_entries_the_filters_allow(self, loaded, query, filters):
        found = loaded.search(*query(NO_WORDS), limit=LIMIT, filters=filters)
        assert set(ids(found)) == _allowed(filters)
        assert all(c.lexical == 0.0 for c in found)

    @pytest.mark.parametrize(("text", "filters", "expected"), [
        ("parking", Filters(state="published"), {"c-ticket"}),
        ("parking", Filters(state="draft"), {"c-permit"}),
        ("parking", Filters(department=PARKING), {"c-ticket", "c-permit"}),
        ("parking", Filters(department=LIBRARY), set()),
        ("licencia perro dog licence", Filters(language="es"), {"c-perros"}),
        ("licencia perro dog licence", Filters(language="en"), {"c-dog"}),
        ("licencia perro dog licence", Filters(department=ANIMALS, language="en", state="published"), {"c-dog"}),
        ("schedule", Filters(state="retired"), {"c-snow"}),
        ("schedule", Filters(department=WASTE, state="published"), {"c-bulk"}),
    ])
    def test_bm25_finds_exactly_the_allowed_entries_with_the_words(self, loaded, query, text, filters, expected):
        found = loaded.search(text, query(text)[1], limit=LIMIT, filters=filters)
        assert {c.entry.id for c in found if c.lexical > 0} == expected
        assert set(ids(found)) <= _allowed(filters)

    def test_a_filtered_search_finds_an_allowed_entry_far_from_the_query(self, loaded, query):
        found = loaded.search(*query("where do I pay my parking fine"), limit=1, filters=Filters(language="es",
                                                                                             department=WASTE))
        assert ids(found) == ["c-basura"]

    def test_a_filter_matching_nothing_finds_nothing(self, loaded, query):
        assert loaded.search(*query("parking"), limit=LIMIT, filters=Filters(department="Fire Department")) == []
        assert loaded.search(*query("parking"), limit=LIMIT, filters=Filters(language="de")) == []

    # ------------------------------------------------------------ queries without words

    @pytest.mark.parametrize("text", ["", NO_WORDS, "\"' ( ) * ^ ~ : + - / \\ {}[]"])
    def test_a_query_without_words_is_answered_by_the_vectors_alone(self, loaded, query, text):
        vector = query("where do I pay my parking fine")[1]
        found = loaded.search(text, vector, limit=LIMIT)
        assert set(ids(found)) == ALL_IDS
        assert all(c.lexical == 0.0 for c in found)
        assert found[0].entry.id == "c-ticket"


def _allowed(filters: Filters) -> set[str]:
    return {entry_id for entry_id, entry in ENTRIES.items()
            if filters.department in (None, entry.department) and filters.language in (None, entry.language)
            and filters.state in (None, STATES[entry_id])}


def _rounded(candidates: list[Candidate]) -> list[tuple]:
    return [(c.entry.id, tuple(round(s, 5) for s in c.phrasing_scores), c.matched_phrasing, round(c.answer_score, 5),
             round(c.lexical, 5)) for c in candidates]
