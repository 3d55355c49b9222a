"""Search on an Elasticsearch 8 cluster: kNN over phrasing vectors and BM25 over the entry texts.

The index holds two kinds of document: one per entry (its fields, BM25 text fields, its answer vector) and one
per indexed phrasing (its vector, with the entry's filter fields copied). A search takes the entries of the
phrasings kNN finds and the entries BM25 finds, then scores the phrasings and answers of those entries exactly
(script_score, dot product of normalised vectors), so that the Candidates are those the embedded backend returns
and `knowledge_base.ranking` fuses them identically.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from knowledge_base.entry import STORED, Entry
from knowledge_base.ranking import shown_phrasing
from knowledge_base.search.fusion import VOTE_SIZE, lexical_strength, vote
from knowledge_base.search.protocol import Candidate, Filters, IndexedEntry

DEFAULT_INDEX = "citydesk-kb"
# Column weights of the BM25 fields, as in the embedded backend: question, alternative phrasings, answer.
BM25_FIELDS = ("question^2.0", "alt_questions^1.5", "answer^1.0")
# Phrasings kNN returns per entry wanted: an entry's best vote is rarely outside its first few phrasings.
KNN_PHRASINGS_PER_ENTRY = 4
MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window, and the largest num_candidates
# A query's distinct words sent to BM25: a 20,000-character message must not exceed max_clause_count.
MAX_QUERY_WORDS = 512
# script_score must not be negative; the dot product of unit vectors is at least -1.
SCORE_OFFSET = 2.0
_IDS_PER_DELETE = 1_000
_UNIT_TOLERANCE = 1e-3
# Sends search bodies to the index in one request and returns their responses, in order.
MultiSearch = Callable[[Sequence[Mapping[str, Any]]], list[Mapping[str, Any]]]
_WORD = re.compile(r"\w+", re.UNICODE)
_ENTRY_FIELDS = tuple(Entry.model_fields)
_PHRASING_SCRIPT = f"dotProduct(params.query_vector, 'vector') + {SCORE_OFFSET}"
_ANSWER_SCRIPT = (f"doc['answer_vector'].size() == 0 ? {SCORE_OFFSET}"
                  f" : dotProduct(params.query_vector, 'answer_vector') + {SCORE_OFFSET}")


class ElasticsearchError(RuntimeError):
    """The cluster refused a request or is not reachable; the message says which and why."""


def index_body(dimension: int) -> dict[str, Any]:
    """Settings and mappings of the index for vectors of `dimension` numbers."""
    keyword = {"type": "keyword"}
    text = {"type": "text", "analyzer": "citydesk_english"}
    return {
        "settings": {"analysis": {
            "filter": {"citydesk_english_stop": {"type": "stop", "stopwords": "_english_"},
                       "citydesk_english_stemmer": {"type": "stemmer", "language": "english"},
                       "citydesk_english_possessive": {"type": "stemmer", "language": "possessive_english"}},
            "analyzer": {"citydesk_english": {
                "type": "custom", "tokenizer": "standard",
                # asciifolding like the embedded backend's remove_diacritics: "perró" finds "perro"
                "filter": ["citydesk_english_possessive", "lowercase", "asciifolding", "citydesk_english_stop",
                           "citydesk_english_stemmer"]}}}},
        "mappings": {"dynamic": "strict", "properties": {
            "kind": keyword,  # "entry" or "phrasing"
            "id": keyword,  # the entry's id, on both kinds
            "revision": keyword,  # the upsert that wrote the document; older ones of the same entry are stale
            "department": keyword, "topic": keyword, "category": keyword, "language": keyword, "state": keyword,
            "url": {"type": "keyword", "index": False, "doc_values": False},
            "question": text, "alt_questions": text, "answer": text,
            "phrasing_count": {"type": "integer"},
            "row": {"type": "integer"},
            # float HNSW, not the int8 quantisation that 8.14+ would choose: cosines stay exact
            "vector": {"type": "dense_vector", "dims": dimension, "index": True, "similarity": "cosine",
                       "index_options": {"type": "hnsw"}},
            "answer_vector": {"type": "dense_vector", "dims": dimension, "index": False},
        }},
    }


def mapped_dimension(mapping: Mapping[str, Any]) -> int | None:
    """The phrasing vectors' dimension in a get_mapping response (keyed by the index behind the name or alias);
    None when the index has no such field: it is not a knowledge base index."""
    for index in mapping.values():
        vector = index.get("mappings", {}).get("properties", {}).get("vector", {})
        if vector.get("type") == "dense_vector" and "dims" in vector:
            return int(vector["dims"])
    return None


def bulk_actions(items: Sequence[IndexedEntry], *, index: str, revision: str) -> Iterator[dict[str, Any]]:
    """Index actions for the entry document and the phrasing documents of each item."""
    for item in items:
        entry = item.entry
        shared = {"id": entry.id, "revision": revision, "department": entry.department,
                  "language": entry.language, "state": item.state, "phrasing_count": len(item.vectors)}
        source = {**entry.model_dump(mode="json"), **shared, "kind": "entry"}
        if item.answer_vector is not None:
            source["answer_vector"] = _floats(item.answer_vector)
        yield {"_op_type": "index", "_index": index, "_id": entry.id, "_source": source}
        for row, vector in enumerate(item.vectors):
            # entry ids have no whitespace, so a phrasing's id never equals an entry's
            yield {"_op_type": "index", "_index": index, "_id": f"{entry.id} {row}",
                   "_source": {**shared, "kind": "phrasing", "row": row, "vector": _floats(vector)}}


def stale_query(entry_ids: Sequence[str], revision: str) -> dict[str, Any]:
    """The documents of these entries that an earlier upsert wrote (e.g. phrasings the entry no longer has)."""
    return {"bool": {"filter": [{"terms": {"id": list(entry_ids)}}],
                     "must_not": [{"term": {"revision": revision}}]}}


def filter_clauses(kind: str, filters: Filters | None) -> list[dict[str, Any]]:
    """Term filters on the document kind and on every field that `filters` sets."""
    clauses: list[dict[str, Any]] = [{"term": {"kind": kind}}]
    for field in ("department", "language", "state"):
        value = getattr(filters, field) if filters else None
        if value is not None:
            clauses.append({"term": {field: value}})
    return clauses


def knn_body(vector: np.ndarray, *, limit: int, filters: Filters | None) -> dict[str, Any]:
    """The phrasings nearest to `vector` among the allowed entries' (enough to find `limit` entries)."""
    k = min(limit * KNN_PHRASINGS_PER_ENTRY, MAX_WINDOW)
    return {"knn": {"field": "vector", "query_vector": _floats(vector), "k": k,
                    "num_candidates": min(max(2 * k, 100), MAX_WINDOW),
                    "filter": filter_clauses("phrasing", filters)},
            "size": k, "_source": ["id", "phrasing_count"]}


def bm25_body(text: str, *, limit: int, filters: Filters | None,
              entry_ids: Sequence[str] | None = None) -> dict[str, Any] | None:
    """The `limit` allowed entries best matching the text's words (among `entry_ids` if given), or None when
    it has no words."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:MAX_QUERY_WORDS]
    if not words:
        return None
    clauses = filter_clauses("entry", filters)
    if entry_ids is not None:
        clauses.append({"terms": {"id": list(entry_ids)}})
    # most_fields sums the fields' weighted scores, as FTS5's bm25() sums its columns'
    return {"query": {"bool": {"must": [{"multi_match": {"query": " ".join(words), "fields": list(BM25_FIELDS),
                                                         "type": "most_fields", "operator": "or"}}],
                               "filter": clauses}},
            "size": limit, "_source": ["id", "phrasing_count"]}


def phrasing_scores_body(vector: np.ndarray, entry_ids: Sequence[str], *, size: int) -> dict[str, Any]:
    """Every phrasing of these entries, scored exactly: dot product with `vector` plus SCORE_OFFSET."""
    return {"query": {"script_score": {
                "query": {"bool": {"filter": [{"term": {"kind": "phrasing"}}, {"terms": {"id": list(entry_ids)}}]}},
                "script": {"source": _PHRASING_SCRIPT, "params": {"query_vector": _floats(vector)}}}},
            "size": size, "_source": ["id", "row"]}


def entries_body(vector: np.ndarray, entry_ids: Sequence[str]) -> dict[str, Any]:
    """These entries' documents, scored by their answer vector (SCORE_OFFSET when they have none)."""
    return {"query": {"script_score": {
                "query": {"bool": {"filter": [{"term": {"kind": "entry"}}, {"terms": {"id": list(entry_ids)}}]}},
                "script": {"source": _ANSWER_SCRIPT, "params": {"query_vector": _floats(vector)}}}},
            "size": len(entry_ids), "_source": list(_ENTRY_FIELDS)}


def phrasing_batches(counts: Mapping[str, int]) -> list[list[str]]:
    """Entry ids in batches whose phrasings fit one response (MAX_WINDOW hits)."""
    batches: list[list[str]] = [[]]
    total = 0
    for entry_id in sorted(counts):
        if batches[-1] and total + counts[entry_id] > MAX_WINDOW:
            batches.append([])
            total = 0
        batches[-1].append(entry_id)
        total += counts[entry_id]
    return [b for b in batches if b]


def hits(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The hits of a search response, or the error it carries (one response of an msearch) as an exception."""
    if "error" in response:
        raise ElasticsearchError(f"Elasticsearch refused a search: {response['error']}")
    return list(response["hits"]["hits"])


def knn_entries(response: Mapping[str, Any]) -> dict[str, int]:
    """The entries of the phrasings kNN found, nearest first, with their phrasing counts."""
    found: dict[str, int] = {}
    for hit in hits(response):
        found.setdefault(hit["_source"]["id"], int(hit["_source"]["phrasing_count"]))
    return found


def lexical_entries(response: Mapping[str, Any] | None) -> tuple[dict[str, float], dict[str, int]]:
    """Per entry BM25 found: its lexical strength, and its phrasing count."""
    strengths: dict[str, float] = {}
    counts: dict[str, int] = {}
    for hit in hits(response) if response is not None else []:
        entry_id = hit["_source"]["id"]
        strengths[entry_id] = lexical_strength(float(hit["_score"]))
        counts[entry_id] = int(hit["_source"]["phrasing_count"])
    return strengths, counts


def best_phrasings(responses: Sequence[Mapping[str, Any]]) -> dict[str, tuple[tuple[float, ...], int]]:
    """Per entry: its VOTE_SIZE best phrasing cosines, best first, and the row of the best (the first on ties)."""
    rows: dict[str, list[tuple[float, int]]] = {}
    for response in responses:
        for hit in hits(response):
            rows.setdefault(hit["_source"]["id"], []).append(
                (float(hit["_score"]) - SCORE_OFFSET, int(hit["_source"]["row"])))
    best = {}
    for entry_id, scored in rows.items():
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        best[entry_id] = (tuple(score for score, _ in scored[:VOTE_SIZE]), scored[0][1])
    return best


def answered_entries(response: Mapping[str, Any]) -> dict[str, tuple[Entry, float]]:
    """Per entry document found: the Entry and its answer score."""
    result = {}
    for hit in hits(response):
        source = hit["_source"]
        entry = Entry.model_validate({field: source.get(field) for field in _ENTRY_FIELDS if field in source},
                                      context=STORED)
        result[entry.id] = (entry, float(hit["_score"]) - SCORE_OFFSET)
    return result


def candidates(*, dense: Sequence[str], lexical: Mapping[str, float], limit: int,
               phrasings: Mapping[str, tuple[tuple[float, ...], int]],
               entries: Mapping[str, tuple[Entry, float]]) -> list[Candidate]:
    """The `limit` entries of `dense` with the best vote plus the `lexical` ones, by vote then id, as Candidates.

    Entries deleted between the requests (absent from `phrasings` or `entries`) are left out.
    """
    present = [e for e in dense if e in phrasings and e in entries]
    chosen = set(sorted(present, key=lambda e: (-vote(phrasings[e][0]), e))[:limit])
    chosen.update(e for e in lexical if e in phrasings and e in entries)
    result = []
    for entry_id in sorted(chosen, key=lambda e: (-vote(phrasings[e][0]), e)):
        scores, row = phrasings[entry_id]
        entry, answer = entries[entry_id]
        result.append(Candidate(entry=entry, phrasing_scores=scores, matched_phrasing=shown_phrasing(entry, row),
                                answer_score=answer, lexical=lexical.get(entry_id, 0.0)))
    return result


def search_with(msearch: MultiSearch, text: str, vector: np.ndarray, *, limit: int,
                filters: Filters | None) -> list[Candidate]:
    """A search in two multi-searches: find the entries (kNN, BM25), then score their phrasings and answers."""
    vector = np.asarray(vector, dtype=np.float32)
    lexical_body = bm25_body(text, limit=limit, filters=filters)
    found = msearch([knn_body(vector, limit=limit, filters=filters), *([lexical_body] if lexical_body else [])])
    dense = knn_entries(found[0])
    lexical, lexical_counts = lexical_entries(found[1] if lexical_body else None)
    counts = {**dense, **lexical_counts}
    if not counts:
        return []
    batches = phrasing_batches(counts)
    # the words count for every candidate, also those BM25 did not rank among its own `limit` best
    unmatched = sorted(e for e in dense if e not in lexical)
    words_body = bm25_body(text, limit=len(unmatched), filters=filters, entry_ids=unmatched) if unmatched else None
    evidence = msearch([*(phrasing_scores_body(vector, batch, size=sum(counts[e] for e in batch)) for batch in batches),
                        entries_body(vector, sorted(counts)), *([words_body] if words_body else [])])
    if words_body:
        lexical = {**lexical, **lexical_entries(evidence[-1])[0]}
        evidence = evidence[:-1]
    return candidates(dense=list(dense), lexical=lexical, limit=limit,
                      phrasings=best_phrasings(evidence[:-1]), entries=answered_entries(evidence[-1]))


class ElasticsearchBackend:
    """The SearchBackend on an Elasticsearch 8 index; every write is searchable when the call returns."""

    def __init__(self, client: Any, *, index: str = DEFAULT_INDEX) -> None:
        self.client = client
        self.index = index
        self._exists = False
        self._dimension: int | None = None  # the index's, once checked

    @classmethod
    def connect(cls, url: str, *, api_key: str | None = None, index: str = DEFAULT_INDEX,
                request_timeout: float = 30.0) -> ElasticsearchBackend:
        """A backend on the cluster at `url` (basic auth in its userinfo, if any), checked to be reachable."""
        from elasticsearch import Elasticsearch
        from elasticsearch import exceptions as es_errors

        try:
            client = Elasticsearch(url, api_key=api_key or None, request_timeout=request_timeout)
        except ValueError:
            # not `from error`: its message repeats the URL, password included
            raise ElasticsearchError("ELASTICSEARCH_URL is not a valid URL: it needs a scheme, host and port, "
                                     "e.g. http://localhost:9200") from None
        try:
            version = client.info()["version"]["number"]
        except (es_errors.ConnectionError, es_errors.AuthenticationException, es_errors.AuthorizationException,
                es_errors.UnsupportedProductError) as error:
            raise ElasticsearchError(f"Elasticsearch at ELASTICSEARCH_URL is not usable: {error}") from error
        if int(str(version).split(".")[0]) < 8:
            raise ElasticsearchError(f"Elasticsearch {version} at ELASTICSEARCH_URL: version 8 or later is needed")
        return cls(client, index=index)

    def upsert(self, items: Sequence[IndexedEntry]) -> None:
        from elasticsearch.helpers import BulkIndexError, bulk

        if not items:
            return
        _check_vectors(items)
        self._ensure_index(int(items[0].vectors.shape[1]))
        revision = uuid.uuid4().hex
        try:
            bulk(self.client, bulk_actions(items, index=self.index, revision=revision), refresh="wait_for",
                 chunk_size=500)
        except BulkIndexError as error:
            # the errors carry whole documents, vectors included: name the first failure only
            first: dict[str, Any] = next(iter(error.errors[0].values()), {}) if error.errors else {}
            reason = first.get("error", {})
            if isinstance(reason, dict):
                reason = f"{reason.get('type')}: {reason.get('reason')}"
            raise ElasticsearchError(f"Elasticsearch refused {len(error.errors)} of the documents written, "
                                     f"e.g. {first.get('_id')!r}: {reason}") from None
        ids = [item.entry.id for item in items]
        for start in range(0, len(ids), _IDS_PER_DELETE):
            self.client.delete_by_query(index=self.index, query=stale_query(ids[start:start + _IDS_PER_DELETE],
                                                                           revision),
                                        refresh=True, conflicts="proceed")

    def delete(self, entry_ids: Sequence[str]) -> None:
        if not entry_ids or not self._index_exists():
            return
        for start in range(0, len(entry_ids), _IDS_PER_DELETE):
            self.client.delete_by_query(index=self.index,
                                        query={"terms": {"id": list(entry_ids[start:start + _IDS_PER_DELETE])}},
                                        refresh=True, conflicts="proceed")

    def count(self) -> int:
        if not self._index_exists():
            return 0
        return int(self.client.count(index=self.index, query={"term": {"kind": "entry"}})["count"])

    def search(self, text: str, vector: np.ndarray, *, limit: int,
               filters: Filters | None = None) -> list[Candidate]:
        if limit <= 0 or not self._index_exists():
            return []
        return search_with(self._msearch, text, vector, limit=limit, filters=filters)

    def _msearch(self, bodies: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        searches: list[Mapping[str, Any]] = []
        for body in bodies:
            searches.extend(({"index": self.index}, body))
        return list(self.client.msearch(searches=searches)["responses"])

    def _index_exists(self) -> bool:
        if not self._exists:
            self._exists = bool(self.client.indices.exists(index=self.index))
        return self._exists

    def _ensure_index(self, dimension: int) -> None:
        """Create the index for `dimension`, or check that the existing one holds vectors of that dimension."""
        from elasticsearch import exceptions as es_errors

        if self._dimension == dimension:
            return
        if not self._index_exists():
            try:
                self.client.indices.create(index=self.index, **index_body(dimension))
            except es_errors.BadRequestError as error:
                if error.error != "resource_already_exists_exception":  # another process created it meanwhile
                    raise
            self._exists = True
        existing = mapped_dimension(self.client.indices.get_mapping(index=self.index).body)
        if existing is None:
            raise ValueError(f"Elasticsearch index {self.index!r} exists but is not a CityDesk knowledge base index "
                             "(no phrasing vectors): choose another index name")
        if existing != dimension:
            raise ValueError(f"Elasticsearch index {self.index!r} holds vectors of {existing} numbers but the "
                             f"embedding model gives {dimension}: delete the index or choose another index name")
        self._dimension = dimension


def _check_vectors(items: Sequence[IndexedEntry]) -> None:
    """Vectors must be unit length (scores are dot products) and of one dimension."""
    dimension = items[0].vectors.shape[-1]
    for item in items:
        if item.vectors.ndim != 2 or not len(item.vectors) or item.vectors.shape[1] != dimension or (
                item.answer_vector is not None and item.answer_vector.shape != (dimension,)):
            raise ValueError(f"entry {item.entry.id!r} needs phrasing vectors (and an answer vector) of {dimension} "
                             "numbers like the other entries'")
        vectors = item.vectors if item.answer_vector is None else np.vstack([item.vectors, item.answer_vector])
        if np.any(np.abs(np.linalg.norm(vectors, axis=1) - 1.0) > _UNIT_TOLERANCE):
            raise ValueError(f"entry {item.entry.id!r} has a vector that is not normalised to unit length")


def _floats(vector: np.ndarray) -> list[float]:
    return [float(x) for x in np.asarray(vector, dtype=np.float32)]
