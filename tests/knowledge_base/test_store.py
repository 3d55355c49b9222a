"""EntryStore and EmbeddingCache on real SQLite files; KnowledgeBase never embeds a text twice."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import text as sql

from database import create_db_engine, session_factory
from knowledge_base import ranking
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.entry import Entry
from knowledge_base.factory import build_knowledge_base
from knowledge_base.lifecycle import EntryError
from knowledge_base.store import EmbeddingCache, EntryStore, UpsertReport
from tests.knowledge_base.conftest import SMALL_ENTRIES

A = Entry(id="a", question="Where is City Hall?", alt_questions=("city hall address",), answer="1 Main St.",
          department="Clerk", topic="Visiting", category="Information", url="https://example.org/a")
B = Entry(id="b", question="When is the pool open?", answer="9 to 5.", department="Parks", language="en")
C = Entry(id="c", question="¿Dónde está el ayuntamiento?", answer="Calle Mayor 1.", language="es")


@pytest.fixture
def store(sessions):
    return EntryStore(sessions)


@pytest.fixture
def count_embedded(monkeypatch, embedder):
    """Every list of texts given to the shared embedder's embed() from now on (the real method still runs)."""
    calls: list[list[str]] = []
    real = embedder.embed

    def counting(texts, **kwargs):
        calls.append(list(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(embedder, "embed", counting)
    return calls


# ---------------------------------------------------------------- EntryStore


def test_new_store_is_empty(store):
    assert store.count() == 0
    assert store.all() == []
    assert store.get("a") is None


def test_upsert_creates_entries(store):
    assert store.upsert_many([A, B, C]) == UpsertReport(created=3, updated=0, unchanged=0)
    assert store.count() == 3
    assert store.all() == [A, B, C]
    assert store.get("b") == B


def test_re_upserting_the_same_entries_changes_nothing(store):
    store.upsert_many([A, B, C])
    assert store.upsert_many([A, B, C]) == UpsertReport(created=0, updated=0, unchanged=3)
    assert store.upsert_many([C, A]) == UpsertReport(created=0, updated=0, unchanged=2)
    assert store.all() == [A, B, C]


def test_upsert_reports_created_updated_and_unchanged_exactly(store):
    store.upsert_many([A, B])
    changed_b = B.model_copy(update={"answer": "8 to 8."})
    report = store.upsert_many([A, changed_b, C])
    assert report == UpsertReport(created=1, updated=1, unchanged=1)
    assert store.count() == 3


def test_an_update_replaces_every_field(store):
    store.upsert_many([A])
    replacement = Entry(id="a", question="How do I reach City Hall?", alt_questions=("bus to city hall", "parking"),
                        answer="Bus 4.", department=None, topic="Transport", category=None, url=None,
                        language="fr")
    assert store.upsert_many([replacement]) == UpsertReport(created=0, updated=1, unchanged=0)
    assert store.get("a") == replacement
    assert store.count() == 1


def test_an_update_can_remove_every_alt_question(store):
    store.upsert_many([A])
    without = A.model_copy(update={"alt_questions": ()})
    assert store.upsert_many([without]) == UpsertReport(created=0, updated=1, unchanged=0)
    assert store.get("a").alt_questions == ()
    assert store.upsert_many([without]) == UpsertReport(created=0, updated=0, unchanged=1)


def test_alt_question_order_is_a_change(store):
    two = A.model_copy(update={"alt_questions": ("one", "two")})
    store.upsert_many([two])
    swapped = A.model_copy(update={"alt_questions": ("two", "one")})
    assert store.upsert_many([swapped]) == UpsertReport(created=0, updated=1, unchanged=0)
    assert store.get("a").alt_questions == ("two", "one")


def test_entries_survive_a_new_engine_on_the_same_file(store, db_url):
    store.upsert_many([A, B])
    again = EntryStore(session_factory(create_db_engine(db_url)))
    assert again.all() == [A, B]


def test_upsert_is_all_or_nothing(store):
    store.upsert_many([A])
    # the same new id twice is refused: neither that nor the update of A may be kept
    with pytest.raises(EntryError, match="duplicate id"):
        store.upsert_many([A.model_copy(update={"answer": "moved"}), B, B])
    assert store.all() == [A]


# ---------------------------------------------------------------- EmbeddingCache


def test_a_source_url_saved_before_urls_were_checked_stays_readable(store, sessions):
    store.upsert_many([A])
    legacy = "not a url " + "x" * 3_000  # neither a web address nor short enough
    with sessions.begin() as session:  # as the API could save it before the rule
        session.execute(sql("UPDATE kb_entries SET url = :url"), {"url": legacy})
        session.execute(sql("UPDATE kb_entry_versions SET snapshot = json_set(snapshot, '$.url', :url)"),
                        {"url": legacy})
    assert store.get("a").url == legacy and store.page()[0][0].entry.url == legacy
    assert store.transition("a", "retired", editor="eddie", note="").state == "retired"
    with pytest.raises(ValidationError, match="not a web address"):  # new content must still be a web address
        Entry.model_validate({**A.model_dump(), "url": "not a url"})


def test_the_text_filter_matches_id_question_phrasings_and_answer_whatever_the_case(store):
    store.upsert_many([A, B, C, Entry(id="pct", question="Is the 100% refund rule real?", answer="No.")])
    store.upsert_many([Entry(id="under_score", question="A draft", answer="Draft text.")], state="draft")

    def ids(**filters) -> list[str]:
        return [r.entry.id for r in store.page(**filters)[0]]

    assert ids(text="UNDER_SCORE") == ["under_score"]  # the id
    assert ids(text="pool OPEN") == ["b"]  # the question
    assert ids(text="HALL ADDRESS") == ["a"]  # an alternative phrasing
    assert ids(text="calle MAYOR") == ["c"]  # the answer
    assert ids(text="¿DÓNDE") == ["c"]  # case folded beyond ASCII
    assert ids(text="100%") == ["pct"] and ids(text="0%r") == []  # % is a character, not a wildcard
    assert ids(text="r_score") == ["under_score"] and ids(text="e_") == []  # so is _
    assert ids(text="draft", state="draft") == ["under_score"] and ids(text="draft", state="published") == []


def test_paging_a_text_filter_gives_the_total_on_every_page(store):
    store.upsert_many([Entry(id=f"e{n:02d}", question=f"Question {n} about permits?", answer="Apply online.")
                       for n in range(30)] + [B])
    first, total = store.page(text="PERMITS", limit=20)
    second, again = store.page(text="PERMITS", limit=20, offset=20)
    beyond, still = store.page(text="PERMITS", limit=20, offset=40)
    assert (total, again, still) == (30, 30, 30)
    assert [r.entry.id for r in first + second] == [f"e{n:02d}" for n in range(30)] and beyond == []


def test_embedding_cache_round_trips_float32_vectors(sessions):
    cache = EmbeddingCache(sessions, "model-one")
    vectors = {"hello": np.array([0.1, -0.2, 0.3], dtype=np.float32),
               "wörld": np.array([1.0, 0.0, -1.5], dtype=np.float32)}
    cache.put_many(vectors)
    found = cache.get_many(["hello", "wörld", "absent"])
    assert set(found) == {"hello", "wörld"}
    for text, vector in vectors.items():
        assert found[text].dtype == np.float32
        np.testing.assert_array_equal(found[text], vector)


def test_embedding_cache_stores_float64_input_as_float32(sessions):
    cache = EmbeddingCache(sessions, "model-one")
    cache.put_many({"x": np.array([0.1, 0.2], dtype=np.float64)})
    found = cache.get_many(["x"])["x"]
    assert found.dtype == np.float32
    np.testing.assert_array_equal(found, np.array([0.1, 0.2], dtype=np.float32))


def test_embedding_cache_keeps_models_apart(sessions):
    one, two = EmbeddingCache(sessions, "model-one"), EmbeddingCache(sessions, "model-two")
    one.put_many({"same text": np.array([1.0, 0.0], dtype=np.float32)})
    assert two.get_many(["same text"]) == {}
    two.put_many({"same text": np.array([0.0, 1.0], dtype=np.float32)})
    np.testing.assert_array_equal(one.get_many(["same text"])["same text"], [1.0, 0.0])
    np.testing.assert_array_equal(two.get_many(["same text"])["same text"], [0.0, 1.0])


def test_embedding_cache_put_replaces_a_vector(sessions):
    cache = EmbeddingCache(sessions, "m")
    cache.put_many({"t": np.array([1.0, 2.0], dtype=np.float32)})
    cache.put_many({"t": np.array([3.0, 4.0], dtype=np.float32)})
    np.testing.assert_array_equal(cache.get_many(["t"])["t"], [3.0, 4.0])


def test_embedding_cache_reads_more_texts_than_one_query_chunk(sessions):
    cache = EmbeddingCache(sessions, "m")
    cache.put_many({f"text {i}": np.array([i, -i], dtype=np.float32) for i in range(1200)})
    found = cache.get_many([f"text {i}" for i in range(1300)])
    assert len(found) == 1200
    np.testing.assert_array_equal(found["text 1199"], [1199.0, -1199.0])


def test_embedding_cache_survives_a_new_engine(sessions, db_url):
    EmbeddingCache(sessions, "m").put_many({"t": np.array([0.5, 0.25], dtype=np.float32)})
    again = EmbeddingCache(session_factory(create_db_engine(db_url)), "m")
    np.testing.assert_array_equal(again.get_many(["t"])["t"], [0.5, 0.25])


# ---------------------------------------------------------------- KnowledgeBase: embed only what is new


def test_importing_an_unchanged_entry_set_embeds_nothing(small_kb, count_embedded):
    report = small_kb.import_entries(SMALL_ENTRIES)
    assert report == UpsertReport(created=0, updated=0, unchanged=len(SMALL_ENTRIES))
    assert count_embedded == []


def test_changing_one_alt_question_embeds_only_the_new_text(small_kb, count_embedded):
    bulk = SMALL_ENTRIES[0]
    changed = bulk.model_copy(update={"alt_questions": (bulk.alt_questions[0], "collect my broken fridge")})
    report = small_kb.import_entries([changed, *SMALL_ENTRIES[1:]])
    assert report == UpsertReport(created=0, updated=1, unchanged=len(SMALL_ENTRIES) - 1)
    assert count_embedded == [["collect my broken fridge"]]
    # and the index uses it
    top = small_kb.search("collect my broken fridge", top_k=1)[0]
    assert (top.entry, top.matched_phrasing) == (changed, "collect my broken fridge")


def test_a_new_entry_embeds_only_its_own_new_phrasings(small_kb, count_embedded):
    # "dog license registration" is already an alt question of t-dog: its vector is reused
    new = Entry(id="t-cat", question="Do cats need a licence?", alt_questions=("dog license registration",),
                answer="No.")
    assert small_kb.import_entries([new]) == UpsertReport(created=1, updated=0, unchanged=0)
    assert count_embedded == [["Do cats need a licence?", "No."]]  # its new phrasing and its answer


def test_a_second_knowledge_base_on_the_same_database_embeds_nothing(tmp_path, embedder, count_embedded):
    url = f"sqlite:///{tmp_path}/shared.db"
    first = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.6)
    first.import_entries(SMALL_ENTRIES)
    # every phrasing, each question in the context of its topic, and every answer: once
    texts = [*(p for e in SMALL_ENTRIES for p in ranking.indexed_phrasings(e)), *(e.answer for e in SMALL_ENTRIES)]
    assert len(count_embedded) == 1 and sorted(count_embedded[0]) == sorted(texts)  # one batch, each text once
    assert "Bulk pickup: When is bulk trash pickup?" in texts
    count_embedded.clear()
    second = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.6)
    assert count_embedded == []
    assert second.backend.count() == len(SMALL_ENTRIES)
    assert second.store.all() == sorted(SMALL_ENTRIES, key=lambda e: e.id)


def test_duplicate_phrasings_in_one_import_are_embedded_once(make_kb, count_embedded):
    kb = make_kb()
    one = Entry(id="one", question="Same words here", answer="1")
    two = Entry(id="two", question="Other words", alt_questions=("Same words here",), answer="2")
    kb.import_entries([one, two])
    assert count_embedded == [["Same words here", "Other words", "1", "2"]]
