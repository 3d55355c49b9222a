"""The in-memory BM25 index gives SQLite FTS5's bm25() scores (within 1e-6) on the conformance corpus and on random
text, through changes, removals and merges; the embedded backend with it in use passes the conformance suite."""

from __future__ import annotations

import random
import re
import sqlite3

import numpy as np
import pytest

from knowledge_base.search import Filters
from knowledge_base.search.embedded import BM25_WEIGHTS, EmbeddedBackend
from knowledge_base.search.lexical import TOKENIZE, Document, LexicalIndex
from tests.knowledge_base.search_conformance import CORPUS, LIMIT, SearchBackendConformance, indexed

WEIGHTS = ", ".join(str(w) for w in BM25_WEIGHTS)
# stems, case, diacritics, digits, repeated words, words FTS5 splits ("foo_bar", "don't") and characters it drops
VOCABULARY = ("parking", "parked", "Parks", "park", "ticket", "tickets", "fine", "café", "CAFE", "naïve", "über",
              "straße", "3pm", "2024", "x²", "bin", "bins", "recycling", "recycled", "the", "a", "of", "dog", "dogs",
              "licence", "license", "perro", "perros", "señal", "niño", "foo_bar", "don't", "e-mail", "pay",
              "paying", "payment", "online", "hole", "holes", "road", "Road's", "snow", "snowing", "zzz", "ﬁle")


class TestLexicalBackendConformance(SearchBackendConformance):
    @pytest.fixture
    def backend(self) -> EmbeddedBackend:
        return EmbeddedBackend(lexical_from=0)


class _Fts5:
    """The reference: an FTS5 table of the same texts, queried as the embedded backend queries it."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(f"CREATE VIRTUAL TABLE fts USING fts5(entry_id UNINDEXED, question, alt_questions, answer,"
                        f" tokenize='{TOKENIZE}')")

    def put(self, rowid: int, entry_id: str, texts: tuple[str, str, str]) -> None:
        self.db.execute("DELETE FROM fts WHERE entry_id = ?", (entry_id,))
        self.db.execute(
            "INSERT INTO fts (rowid, entry_id, question, alt_questions, answer) VALUES (?, ?, ?, ?, ?)",
            (rowid, entry_id, *texts))

    def remove(self, entry_id: str) -> None:
        self.db.execute("DELETE FROM fts WHERE entry_id = ?", (entry_id,))

    def scores(self, words: list[str]) -> dict[str, float]:
        query = " OR ".join(f'"{w}"' for w in words)
        return dict(self.db.execute(f"SELECT entry_id, -bm25(fts, 0, {WEIGHTS}) FROM fts WHERE fts MATCH ?",
                                    (query,)).fetchall())


def _index_scores(index: LexicalIndex, words: list[str]) -> dict[str, float] | None:
    found = index.scores(words, np.ones(index.size, dtype=bool), limit=10**9)
    return None if found is None else {index.owner(slot): score for slot, score in found.items()}


def _assert_equal(index: LexicalIndex, reference: _Fts5, words: list[str]) -> None:
    expected, found = reference.scores(words), _index_scores(index, words)
    assert found is not None
    assert found.keys() == expected.keys(), words
    assert found == pytest.approx(expected, abs=1e-6, rel=0), words


def _corpus_texts() -> dict[str, tuple[str, str, str]]:
    return {entry.id: (entry.question, "\n".join(entry.alt_questions), entry.answer) for entry, _ in CORPUS}


def test_the_scores_are_fts5s_on_the_conformance_corpus():
    index, reference = LexicalIndex(BM25_WEIGHTS), _Fts5()
    for rowid, (entry_id, texts) in enumerate(_corpus_texts().items(), start=1):
        reference.put(rowid, entry_id, texts)
        index.update({entry_id: Document(rowid, texts)})
    words = sorted({w.lower() for entry, _ in CORPUS for w in entry.question.replace("?", " ").split()})
    for size in (1, 2, 3, 5):
        for start in range(0, len(words), size):
            _assert_equal(index, reference, words[start:start + size])
    _assert_equal(index, reference, ["parking", "pay", "ticket", "library", "perro", "schedule"])


def _random_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)) + rng.choice(("", "?", ". ¡Sí!", "\n(ok)"))


def test_the_scores_are_fts5s_on_random_text_through_changes_removals_and_merges():
    rng = random.Random(6)
    index, reference = LexicalIndex(BM25_WEIGHTS), _Fts5()
    rowid = 0
    live: set[str] = set()
    for round_ in range(40):
        batch = {}
        for _ in range(rng.choice((1, 3, 25))):
            entry_id = f"e{rng.randrange(120)}"
            texts = (_random_text(rng, rng.randint(1, 8)), _random_text(rng, rng.randint(0, 12)),
                     _random_text(rng, rng.randint(0, 40)))
            rowid += 1
            reference.put(rowid, entry_id, texts)
            batch[entry_id] = Document(rowid, texts)
            live.add(entry_id)
        index.update(batch)
        if round_ % 3 == 2:
            gone = rng.sample(sorted(live), min(len(live), rng.randint(1, 10)))
            for entry_id in gone:
                reference.remove(entry_id)
            index.remove(gone)
            live -= set(gone)
        for _ in range(10):
            picked = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 6)))
            words = sorted({w.lower() for w in re.findall(r"\w+", picked)} - {"foo_bar"})  # as the backend reads
            _assert_equal(index, reference, words)


def test_a_word_fts5_reads_as_a_phrase_is_left_to_fts5_and_words_it_drops_match_nothing():
    index = LexicalIndex(BM25_WEIGHTS)
    index.update({"a": Document(1, ("foo bar", "", "")), "b": Document(2, ("bar", "", ""))})
    assert _index_scores(index, ["bar", "foo_bar"]) is None
    assert _index_scores(index, ["_", "bar"]) == _index_scores(index, ["bar"])


def test_ties_at_the_limit_go_to_the_lower_rowid_as_in_fts5():
    index, reference = LexicalIndex(BM25_WEIGHTS), _Fts5()
    for number in range(12):  # identical texts: equal scores
        reference.put(100 - number, f"e{number}", ("parking ticket", "", "pay it"))
        index.update({f"e{number}": Document(100 - number, ("parking ticket", "", "pay it"))})
    found = index.scores(["parking"], np.ones(index.size, dtype=bool), limit=5)
    assert found is not None
    fts = reference.db.execute(f"SELECT entry_id FROM fts WHERE fts MATCH 'parking' ORDER BY -bm25(fts, 0, {WEIGHTS})"
                               " DESC LIMIT 5").fetchall()
    assert {index.owner(slot) for slot in found} == {entry_id for (entry_id,) in fts}


def test_the_backend_gives_the_same_lexical_evidence_with_the_index_as_with_fts5(embedder):
    corpus = [indexed(embedder, entry, state) for entry, state in CORPUS]
    with_index, with_fts5 = EmbeddedBackend(lexical_from=len(CORPUS)), EmbeddedBackend()
    for backend in (with_index, with_fts5):
        backend.upsert(corpus)
        backend.delete(["c-snow"])
        backend.upsert(corpus[-1:])
    assert with_index.lexical_indexed and not with_fts5.lexical_indexed
    vector = embedder.embed(["where do I pay my parking fine"])[0]
    for text in ("where do I pay my parking fine", "plowed parking recycling", "licencia perro dog licence"):
        for filters in (None, Filters(state="published"), Filters(language="es"), Filters(department="Nobody")):
            for limit in (1, 2, LIMIT):
                found = {c.entry.id: c.lexical for c in with_index.search(text, vector, limit=limit, filters=filters)}
                expected = {c.entry.id: c.lexical for c in with_fts5.search(text, vector, limit=limit,
                                                                           filters=filters)}
                assert found == pytest.approx(expected, abs=1e-9)
    with_index.delete(["c-snow"])
    assert not with_index.lexical_indexed and with_index._lexical is None


def test_the_settings_choose_when_the_index_is_used(tmp_path):
    from knowledge_base.factory import knowledge_base_for
    from settings import Settings
    from tests.knowledge_base.conftest import SMALL_ENTRIES

    settings = Settings(data_dir=tmp_path, database_url=None, elasticsearch_url=None,
                        search_lexical_from=len(SMALL_ENTRIES), answer_threshold=0.6)
    kb = knowledge_base_for(settings)
    kb.import_entries(SMALL_ENTRIES)
    assert isinstance(kb.backend, EmbeddedBackend) and kb.backend.lexical_indexed
    assert kb.search("how do I get a library card")[0].entry.id == "t-library"
    off = knowledge_base_for(Settings(data_dir=tmp_path / "off", database_url=None, elasticsearch_url=None,
                                      search_lexical_from=0, answer_threshold=0.6))
    off.import_entries(SMALL_ENTRIES)
    assert isinstance(off.backend, EmbeddedBackend) and not off.backend.lexical_indexed
