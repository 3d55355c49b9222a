"""The search-backend conformance suite on the embedded backend with its approximate index (FAISS HNSW) in use
from the first entry, and the index's life: changes, removals, compaction, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.search import Filters, IndexedEntry
from knowledge_base.search.approximate import PhrasingIndex
from knowledge_base.search.embedded import EmbeddedBackend
from tests.knowledge_base.search_conformance import CORPUS, LIMIT, SearchBackendConformance, _rounded, indexed


class TestApproximateBackendConformance(SearchBackendConformance):
    @pytest.fixture
    def backend(self) -> EmbeddedBackend:
        return EmbeddedBackend(approximate_from=0, exact_below=0)


@pytest.fixture
def corpus(embedder) -> list[IndexedEntry]:
    return [indexed(embedder, entry, state) for entry, state in CORPUS]


def ids(found) -> list[str]:
    return [c.entry.id for c in found]


def test_the_searches_go_through_the_index_and_find_what_the_exact_search_finds(corpus, embedder, monkeypatch):
    searched = []
    original = PhrasingIndex.search
    monkeypatch.setattr(PhrasingIndex, "search", lambda self, *a, **k: searched.append(1) or original(self, *a, **k))
    approximate, exact = EmbeddedBackend(approximate_from=0, exact_below=0), EmbeddedBackend()
    approximate.upsert(corpus)
    exact.upsert(corpus)
    vector = embedder.embed(["where do I pay my parking fine"])[0]
    for filters in (None, Filters(state="published"), Filters(language="es")):
        # the same entries and evidence (to float rounding: the exact search sums its products in another order)
        assert _rounded(approximate.search("parking fine", vector, limit=3, filters=filters)) == _rounded(
            exact.search("parking fine", vector, limit=3, filters=filters))
    assert approximate.approximate and not exact.approximate
    assert len(searched) == 3


def test_the_index_is_used_from_the_size_set_on(corpus):
    backend = EmbeddedBackend(approximate_from=len(CORPUS))
    backend.upsert(corpus[:-1])
    assert not backend.approximate
    backend.upsert(corpus[-1:])
    assert backend.approximate


def _rows(item: IndexedEntry, seed: int) -> IndexedEntry:
    """The entry with other (random, unit) vectors."""
    vectors = np.random.default_rng(seed).normal(size=item.vectors.shape).astype(np.float32)
    return IndexedEntry(entry=item.entry, vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
                        answer_vector=item.answer_vector, state=item.state)


def test_changed_and_removed_entries_leave_the_index_and_many_changes_rebuild_it(corpus):
    backend = EmbeddedBackend(approximate_from=0, exact_below=0)
    backend.upsert(corpus)
    moved = _rows(corpus[0], 1)
    backend.upsert([moved])  # its old vectors no longer find it, its new ones do
    found = backend.search("", corpus[0].vectors[0], limit=1)
    assert ids(found) != [moved.entry.id]
    assert ids(backend.search("", moved.vectors[0], limit=1)) == [moved.entry.id]
    backend.delete([corpus[1].entry.id])
    assert corpus[1].entry.id not in ids(backend.search("", corpus[1].vectors[0], limit=len(CORPUS)))
    for seed in range(2, 12):  # more than REBUILD_SHARE of the rows change: a new graph of the live ones
        backend.upsert([_rows(item, 100 * seed + n) for n, item in enumerate(corpus[2:])])
    last = [_rows(item, 1100 + n) for n, item in enumerate(corpus[2:])]
    rows = sum(len(item.vectors) for item in [moved, *last])
    assert backend._ann is not None and backend._ann.size < 2 * rows
    for item in last:
        assert ids(backend.search("", item.vectors[0], limit=1)) == [item.entry.id]


def test_a_saved_index_is_loaded_at_a_restart_and_only_what_changed_is_added(corpus, tmp_path):
    path = tmp_path / "index.npz"
    first = EmbeddedBackend(approximate_from=0, exact_below=0, index_file=path)
    first.upsert(corpus)
    first.save_index()
    saved = PhrasingIndex.load(path, corpus[0].vectors.shape[1])
    assert saved is not None and saved.size == sum(len(item.vectors) for item in corpus)

    # meanwhile an entry changed and one was removed: the restart loads the file, adds one entry's rows, drops one
    changed = _rows(corpus[0], 5)
    restarted = EmbeddedBackend(approximate_from=0, exact_below=0, index_file=path)
    restarted.upsert([changed, *corpus[2:]])
    assert restarted._ann is not None
    assert restarted._ann.size == saved.size + len(changed.vectors)
    assert restarted._ann.entry_ids() == {item.entry.id for item in [changed, *corpus[2:]]}
    assert ids(restarted.search("", changed.vectors[0], limit=1)) == [changed.entry.id]
    everything = ids(restarted.search("", corpus[1].vectors[0], limit=len(CORPUS)))
    assert corpus[1].entry.id not in everything and len(everything) == len(CORPUS) - 1


@pytest.mark.parametrize("content", [b"not an index", None])
def test_an_unreadable_or_foreign_index_file_is_replaced(corpus, tmp_path, content):
    path = tmp_path / "index.npz"
    if content is None:  # an index of vectors of another dimension (another model)
        other = PhrasingIndex(8)
        other.sync({"x": np.eye(8, dtype=np.float32)[:2]})
        other.save(path)
    else:
        path.write_bytes(content)
    backend = EmbeddedBackend(approximate_from=0, exact_below=0, index_file=path)
    backend.upsert(corpus)
    backend.save_index()
    loaded = PhrasingIndex.load(path, corpus[0].vectors.shape[1])
    assert loaded is not None and loaded.entry_ids() == {item.entry.id for item in corpus}
    assert len(backend.search("", corpus[0].vectors[0], limit=LIMIT)) == len(CORPUS)


def test_the_settings_choose_when_the_index_is_used_and_where_it_is_saved(tmp_path):
    from knowledge_base.factory import knowledge_base_for
    from settings import Settings
    from tests.knowledge_base.conftest import SMALL_ENTRIES

    settings = Settings(data_dir=tmp_path, database_url=None, elasticsearch_url=None,
                        search_approximate_from=len(SMALL_ENTRIES), answer_threshold=0.6)
    kb = knowledge_base_for(settings)
    kb.import_entries(SMALL_ENTRIES)
    assert isinstance(kb.backend, EmbeddedBackend) and kb.backend.approximate
    assert kb.search("how do I get a library card")[0].entry.id == "t-library"
    kb.backend.save_index()
    assert settings.search_index_file.is_file() and settings.search_index_file.parent == tmp_path / "search"
    assert not Settings(search_approximate_from=0).search_approximate_from


def test_an_entry_changed_below_the_size_is_found_by_its_new_vectors_above_it_again(corpus):
    backend = EmbeddedBackend(approximate_from=len(CORPUS), exact_below=0)
    backend.upsert(corpus)
    assert backend.approximate
    backend.delete([corpus[-1].entry.id])
    moved = _rows(corpus[0], 7)
    backend.upsert([moved])  # changed while the search is exact
    backend.upsert(corpus[-1:])
    assert backend.approximate
    assert ids(backend.search("", moved.vectors[0], limit=1)) == [moved.entry.id]
    labels = backend._ann.labels(moved.entry.id) if backend._ann else None
    assert labels is not None  # the index holds the new vectors, not those of before the change
    assert np.allclose(backend._ann._index.reconstruct_batch(labels), moved.vectors)
