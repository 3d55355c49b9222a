"""The Elasticsearch backend: the conformance suite against a real cluster (ELASTICSEARCH_URL), and its pure
parts (mapping, request bodies, responses to Candidates), which run everywhere."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.factory import build_knowledge_base, search_backend
from knowledge_base.search import Filters
from knowledge_base.search.elasticsearch import (
    BM25_FIELDS,
    MAX_QUERY_WORDS,
    MAX_WINDOW,
    ElasticsearchBackend,
    ElasticsearchError,
    bm25_body,
    bulk_actions,
    entries_body,
    hits,
    index_body,
    knn_body,
    mapped_dimension,
    phrasing_batches,
    phrasing_scores_body,
    stale_query,
)
from knowledge_base.search.embedded import BM25_WEIGHTS, EmbeddedBackend
from settings import Settings
from tests.fakes.elasticsearch_api import FakeElasticsearch
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.knowledge_base.search_conformance import (
    ANIMALS,
    CORPUS,
    NO_WORDS,
    WASTE,
    SearchBackendConformance,
    indexed,
)

ES_URL = Settings().elasticsearch_url


@pytest.mark.skipif(not ES_URL, reason="ELASTICSEARCH_URL is not set: no Elasticsearch server is reachable here")
class TestElasticsearchBackendConformance(SearchBackendConformance):
    @pytest.fixture(scope="class")
    def throwaway_index(self):
        """An index of its own for this test run, deleted afterwards."""
        settings = Settings()
        api_key = settings.elasticsearch_api_key.get_secret_value() if settings.elasticsearch_api_key else None
        backend = ElasticsearchBackend.connect(ES_URL, api_key=api_key,
                                               index=f"citydesk-test-{uuid.uuid4().hex[:12]}")
        yield backend.client, backend.index
        backend.client.indices.delete(index=backend.index, ignore_unavailable=True)

    @pytest.fixture
    def backend(self, throwaway_index) -> ElasticsearchBackend:
        client, index = throwaway_index
        if client.indices.exists(index=index):
            client.delete_by_query(index=index, query={"match_all": {}}, refresh=True, conflicts="proceed")
        return ElasticsearchBackend(client, index=index)


# ---------------------------------------------------------------- pure parts, without a cluster


@pytest.fixture(scope="module")
def corpus(embedder):
    return [indexed(embedder, entry, state) for entry, state in CORPUS]


@pytest.fixture(scope="module")
def dimension(embedder) -> int:
    return int(embedder.embed(["a question"]).shape[1])


def test_the_mapping_has_the_models_dimension_and_exact_float_vectors(dimension):
    body = index_body(dimension)
    properties = body["mappings"]["properties"]
    assert dimension == 384  # all-MiniLM-L6-v2
    assert properties["vector"] == {"type": "dense_vector", "dims": 384, "index": True, "similarity": "cosine",
                                    "index_options": {"type": "hnsw"}}
    assert properties["answer_vector"] == {"type": "dense_vector", "dims": 384, "index": False}
    assert index_body(768)["mappings"]["properties"]["vector"]["dims"] == 768
    for field in ("id", "kind", "department", "topic", "category", "language", "state"):
        assert properties[field] == {"type": "keyword"}
    analyzers = body["settings"]["analysis"]["analyzer"]
    for field in ("question", "alt_questions", "answer"):
        assert properties[field]["type"] == "text"
        assert properties[field]["analyzer"] in analyzers
    assert json.loads(json.dumps(body)) == body


def test_the_dimension_is_read_back_from_the_mapping_of_the_index_behind_a_name(dimension):
    # get_mapping answers with the concrete index, which differs from the name asked when that is an alias
    assert mapped_dimension({"citydesk-kb-v2": {"mappings": index_body(dimension)["mappings"]}}) == dimension
    assert mapped_dimension({"logs": {"mappings": {"properties": {"message": {"type": "text"}}}}}) is None


def test_documents_hold_only_mapped_fields_and_every_vector(corpus, dimension):
    properties = index_body(dimension)["mappings"]["properties"]
    actions = list(bulk_actions(corpus, index="kb", revision="r1"))
    entries = [a for a in actions if a["_source"]["kind"] == "entry"]
    phrasings = [a for a in actions if a["_source"]["kind"] == "phrasing"]
    assert [a["_id"] for a in entries] == [item.entry.id for item in corpus]
    assert len(phrasings) == sum(len(ranking.indexed_phrasings(item.entry)) for item in corpus)
    assert len({a["_id"] for a in actions}) == len(actions)  # a phrasing's id never equals an entry's
    for action in actions:
        assert action["_index"] == "kb"
        assert set(action["_source"]) <= set(properties), "the mapping is strict: every field must be mapped"
        assert action["_source"]["revision"] == "r1"
    by_id = {item.entry.id: item for item in corpus}
    for action in phrasings:
        source = action["_source"]
        item = by_id[source["id"]]
        assert source["vector"] == pytest.approx(item.vectors[source["row"]].tolist())
        assert (source["state"], source["department"], source["language"], source["phrasing_count"]) == (
            item.state, item.entry.department, item.entry.language, len(item.vectors))
    for action in entries:
        source = action["_source"]
        item = by_id[source["id"]]
        assert source["answer_vector"] == pytest.approx(item.answer_vector.tolist())
        assert {k: source[k] for k in type(item.entry).model_fields} == item.entry.model_dump(mode="json")
    assert json.loads(json.dumps(actions)) == actions


def test_the_knn_request_filters_inside_the_knn(dimension):
    vector = np.full(dimension, 1 / np.sqrt(dimension), dtype=np.float32)
    body = knn_body(vector, limit=30, filters=Filters(department=WASTE, language="es", state="published"))
    knn = body["knn"]
    assert knn["field"] == "vector"
    assert len(knn["query_vector"]) == dimension
    assert knn["filter"] == [{"term": {"kind": "phrasing"}}, {"term": {"department": WASTE}},
                             {"term": {"language": "es"}}, {"term": {"state": "published"}}]
    assert 30 <= knn["k"] <= knn["num_candidates"] <= MAX_WINDOW
    assert body["size"] == knn["k"]
    assert knn_body(vector, limit=30, filters=None)["knn"]["filter"] == [{"term": {"kind": "phrasing"}}]
    huge = knn_body(vector, limit=50_000, filters=None)["knn"]
    assert huge["k"] == huge["num_candidates"] == MAX_WINDOW


def test_the_bm25_request_weighs_the_fields_as_the_embedded_backend():
    body = bm25_body("Where can I pay my PARKING fine? parking!", limit=7, filters=Filters(state="draft"))
    match = body["query"]["bool"]["must"][0]["multi_match"]
    weights = tuple(float(field.split("^")[1]) for field in match["fields"])
    assert weights == BM25_WEIGHTS
    assert [f.split("^")[0] for f in BM25_FIELDS] == ["question", "alt_questions", "answer"]
    assert match["query"] == "where can i pay my parking fine"  # lower-cased, each word once
    assert match["type"] == "most_fields"
    assert body["query"]["bool"]["filter"] == [{"term": {"kind": "entry"}}, {"term": {"state": "draft"}}]
    assert body["size"] == 7


@pytest.mark.parametrize("text", ["", "   ", NO_WORDS, "\"' ( ) * ^ ~"])
def test_a_query_without_words_sends_no_bm25_request(text):
    assert bm25_body(text, limit=5, filters=None) is None


def test_a_long_query_sends_a_bounded_number_of_words():
    text = " ".join(f"w{i}x" for i in range(4000))
    words = bm25_body(text, limit=5, filters=None)["query"]["bool"]["must"][0]["multi_match"]["query"].split()
    assert words == [f"w{i}x" for i in range(MAX_QUERY_WORDS)]


def test_exact_scoring_requests_name_the_entries_and_the_vector():
    vector = np.array([0.6, 0.8], dtype=np.float32)
    phrasings = phrasing_scores_body(vector, ["a", "b"], size=7)
    script_score = phrasings["query"]["script_score"]
    assert script_score["query"]["bool"]["filter"] == [{"term": {"kind": "phrasing"}}, {"terms": {"id": ["a", "b"]}}]
    assert script_score["script"]["params"]["query_vector"] == pytest.approx([0.6, 0.8])
    assert "dotProduct(params.query_vector, 'vector')" in script_score["script"]["source"]
    assert phrasings["size"] == 7
    answers = entries_body(vector, ["a", "b"])
    assert "'answer_vector'" in answers["query"]["script_score"]["script"]["source"]
    assert answers["size"] == 2
    assert stale_query(["a", "b"], "r2") == {"bool": {"filter": [{"terms": {"id": ["a", "b"]}}],
                                                      "must_not": [{"term": {"revision": "r2"}}]}}


def test_phrasing_batches_fit_one_response_each():
    counts = {f"e{i:04}": 150 for i in range(200)} | {"big": 201}
    batches = phrasing_batches(counts)
    assert sorted(e for batch in batches for e in batch) == sorted(counts)
    assert all(sum(counts[e] for e in batch) <= MAX_WINDOW for batch in batches)
    assert len(batches) == 4
    assert phrasing_batches({}) == []


def test_an_error_in_a_multi_search_response_is_raised_with_its_reason():
    with pytest.raises(ElasticsearchError, match="index_not_found_exception"):
        hits({"error": {"type": "index_not_found_exception", "reason": "no such index [kb]"}, "status": 404})


@pytest.fixture
def fake_es():
    fake = FakeElasticsearch().start()
    yield fake
    fake.stop()


@pytest.fixture
def over_http(fake_es, corpus) -> ElasticsearchBackend:
    """The backend through the real client, over HTTP, on tests/fakes/elasticsearch_api.py, with the corpus."""
    backend = ElasticsearchBackend.connect(fake_es.url, index="kb")
    backend.upsert(corpus)
    return backend


def test_the_first_upsert_creates_the_index_for_the_models_dimension(over_http, fake_es, corpus, dimension):
    assert fake_es.indices["kb"]["mappings"] == index_body(dimension)["mappings"]
    assert over_http.count() == len(CORPUS)
    assert len(fake_es.docs("kb")) == len(CORPUS) + sum(len(item.vectors) for item in corpus)
    writes = [r for r in fake_es.requests if r.path.endswith(("_bulk", "_delete_by_query"))]
    # every write is searchable when upsert returns
    assert [(r.path, r.params.get("refresh")) for r in writes] == [("/_bulk", "wait_for"),
                                                                   ("/kb/_delete_by_query", "true")]


def test_re_indexing_over_http_keeps_one_document_per_phrasing(over_http, fake_es, corpus, embedder):
    documents = len(fake_es.docs("kb"))
    over_http.upsert(corpus)
    assert (over_http.count(), len(fake_es.docs("kb"))) == (len(CORPUS), documents)
    shorter = corpus[0].entry.model_copy(update={"alt_questions": ()})
    over_http.upsert([indexed(embedder, shorter)])
    rows = sorted(d["row"] for d in fake_es.docs("kb").values() if d["id"] == shorter.id and d["kind"] == "phrasing")
    assert rows == list(range(len(ranking.indexed_phrasings(shorter)))) == [0, 1]  # the stale rows are deleted
    over_http.delete([shorter.id, "no-such-id"])
    assert over_http.count() == len(CORPUS) - 1
    assert not [d for d in fake_es.docs("kb").values() if d["id"] == shorter.id]


@pytest.mark.parametrize(("question", "limit", "filters"), [
    ("where do I pay my parking fine", 30, None),
    ("can plastic bags be recycled", 3, None),
    ("I want to throw away an old sofa", 1, Filters(state="published")),
    ("necesito licencia para mi perro", 30, Filters(department=ANIMALS, language="es")),
    ("when is the trash collected", 2, Filters(department=WASTE, state="published")),
])
def test_the_vector_path_returns_the_candidates_of_the_embedded_backend(over_http, fake_es, embedder, corpus,
                                                                        question, limit, filters):
    vector = embedder.embed([question])[0]
    expected = _loaded(corpus).search(NO_WORDS, vector, limit=limit, filters=filters)
    fake_es.requests.clear()
    found = over_http.search(NO_WORDS, vector, limit=limit, filters=filters)
    assert [c.entry for c in found] == [c.entry for c in expected]
    for mine, theirs in zip(found, expected, strict=True):
        assert mine.phrasing_scores == pytest.approx(theirs.phrasing_scores, abs=1e-5)
        assert mine.answer_score == pytest.approx(theirs.answer_score, abs=1e-5)
        assert (mine.matched_phrasing, mine.lexical) == (theirs.matched_phrasing, 0.0)
    # two round trips: kNN, then the phrasings' and the answers' exact scores
    assert [(r.path, len(r.body) // 2) for r in fake_es.requests] == [("/_msearch", 1), ("/_msearch", 2)]


def test_the_lexical_path_adds_the_allowed_entries_with_the_words(over_http, embedder):
    vector = embedder.embed(["library card"])[0]
    found = over_http.search("parking", vector, limit=1, filters=Filters(state="published"))
    assert {c.entry.id: c.lexical > 0 for c in found} == {"c-library": False, "c-ticket": True}
    assert 0 < next(c.lexical for c in found if c.entry.id == "c-ticket") < 1


def test_an_answerless_entry_scores_zero_like_the_embedded_backend(fake_es, embedder, corpus):
    bare = [type(item)(entry=item.entry, vectors=item.vectors, state=item.state) for item in corpus[:3]]
    backend = ElasticsearchBackend.connect(fake_es.url, index="bare")
    backend.upsert(bare)
    vector = embedder.embed(["bulk trash"])[0]
    assert [c.answer_score for c in backend.search("", vector, limit=5)] == [0.0, 0.0, 0.0]
    assert [c.answer_score for c in _loaded(bare).search("", vector, limit=5)] == [0.0, 0.0, 0.0]


def test_nothing_found_sends_no_second_request(over_http, fake_es, embedder):
    fake_es.requests.clear()
    assert over_http.search("", embedder.embed(["x"])[0], limit=5, filters=Filters(language="de")) == []
    assert len(fake_es.requests) == 1


def test_a_missing_index_counts_nothing_and_finds_nothing(fake_es, embedder):
    backend = ElasticsearchBackend.connect(fake_es.url, index="never-written")
    assert backend.count() == 0
    assert backend.search("parking", embedder.embed(["parking"])[0], limit=5) == []
    backend.delete(["c-ticket"])
    assert "never-written" not in fake_es.indices


def test_an_index_of_another_dimension_is_refused_with_the_reason(over_http, fake_es, corpus):
    item = corpus[0]
    small = type(item)(entry=item.entry, vectors=np.eye(len(item.vectors), 8, dtype=np.float32))
    with pytest.raises(ValueError, match="holds vectors of 384 numbers but the embedding model gives 8"):
        ElasticsearchBackend.connect(fake_es.url, index="kb").upsert([small])
    assert over_http.count() == len(CORPUS)  # nothing lost


def test_documents_the_cluster_refuses_are_a_short_clear_error(fake_es, corpus, dimension):
    # an index made by an older version, without the `state` field: its strict mapping refuses the documents
    body = index_body(dimension)
    del body["mappings"]["properties"]["state"]
    fake_es.indices["old"] = {**body, "docs": {}}
    with pytest.raises(ElasticsearchError, match="strict_dynamic_mapping_exception") as error:
        ElasticsearchBackend.connect(fake_es.url, index="old").upsert(corpus)
    documents = len(corpus) + sum(len(item.vectors) for item in corpus)
    assert str(error.value) == (f"Elasticsearch refused {documents} of the documents written, e.g. 'c-bulk': "
                                "strict_dynamic_mapping_exception: unmapped fields ['state']")
    assert len(str(error.value)) < 500  # no vectors in the message


def _loaded(items) -> EmbeddedBackend:
    backend = EmbeddedBackend()
    backend.upsert(items)
    return backend


# ---------------------------------------------------------------- selection by ELASTICSEARCH_URL


def test_elasticsearch_url_alone_selects_the_backend(monkeypatch):
    for name in ("ELASTICSEARCH_URL", "ELASTICSEARCH_API_KEY", "CITYDESK_ELASTICSEARCH_INDEX"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).elasticsearch_options == {
        "elasticsearch_url": None, "elasticsearch_api_key": None, "elasticsearch_index": "citydesk-kb"}
    assert isinstance(search_backend(None), EmbeddedBackend)
    monkeypatch.setenv("ELASTICSEARCH_URL", "https://search.example:9200")
    monkeypatch.setenv("ELASTICSEARCH_API_KEY", "key-1")
    assert Settings(_env_file=None).elasticsearch_options == {
        "elasticsearch_url": "https://search.example:9200", "elasticsearch_api_key": "key-1",
        "elasticsearch_index": "citydesk-kb"}


def test_the_knowledge_base_searches_the_cluster_when_given_its_url(fake_es, tmp_path):
    kb = build_knowledge_base(database_url=f"sqlite:///{tmp_path}/kb.db", model_name=DEFAULT_MODEL, threshold=0.6,
                              elasticsearch_url=fake_es.url, elasticsearch_index="desk-kb")
    kb.import_entries(SMALL_ENTRIES)
    assert isinstance(kb.backend, ElasticsearchBackend)
    assert kb.backend.count() == len(SMALL_ENTRIES)
    assert {d["id"] for d in fake_es.docs("desk-kb").values()} == {e.id for e in SMALL_ENTRIES}
    assert kb.answer("where do I pay my parking fine").entry.id == "t-ticket"
    assert [h.entry.id for h in kb.search("dog licence", filters=Filters(language="es"))] == ["t-perros"]


def test_an_unreachable_cluster_is_a_clear_error_that_keeps_the_password_secret():
    with pytest.raises(ElasticsearchError, match="not usable") as error:
        search_backend("http://desk:s3cret-pw@127.0.0.1:9", index="kb")
    assert "s3cret-pw" not in str(error.value)


@pytest.mark.parametrize("url", ["localhost:9200", "http://desk:s3cret-pw@exa mple:9200",
                                 "http://desk:s3cret-pw@host:99999"])
def test_a_malformed_url_is_a_clear_error_that_keeps_the_password_secret(url):
    with pytest.raises(ElasticsearchError, match="not a valid URL") as error:
        search_backend(url)
    assert "s3cret-pw" not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_vectors_that_are_not_unit_length_are_refused(corpus):
    item = corpus[0]
    doubled = type(item)(entry=item.entry, vectors=item.vectors * 2, answer_vector=item.answer_vector)
    with pytest.raises(ValueError, match="not normalised"):
        ElasticsearchBackend(client=None).upsert([doubled])


def test_the_words_of_the_entries_the_vectors_found_are_scored_in_the_second_round_trip(over_http, fake_es, embedder):
    vector = embedder.embed(["library card"])[0]
    fake_es.requests.clear()
    found = {c.entry.id: c for c in over_http.search("library parking", vector, limit=1)}
    assert found["c-library"].lexical > 0  # found by its vectors; its words are scored as well
    second = fake_es.requests[1].body[1::2]  # header, body, header, body …
    restricted = [body for body in second if "multi_match" in json.dumps(body)]
    assert len(restricted) == 1
    assert {"terms": {"id": ["c-library"]}} in restricted[0]["query"]["bool"]["filter"]
