"""A local server speaking the part of the Elasticsearch 8 REST API that knowledge_base.search.elasticsearch uses.

It lets the real `elasticsearch` client run unchanged over HTTP where no cluster can be installed: GET / (info,
with the X-Elastic-Product header the client checks), HEAD/PUT/DELETE /<index>, GET /<index>/_mapping, POST
/_bulk (index actions, NDJSON), /<index>/_delete_by_query, /<index>/_count and /_msearch (NDJSON). Queries:
match_all, term, terms, bool (filter, must, must_not), script_score with the backend's two dot-product scripts,
top-level knn (exact, with Elasticsearch's cosine score (1 + cos) / 2) and multi_match. multi_match is NOT BM25:
a document scores the boost-weighted count of the query's lower-cased words in each field, enough to check which
documents the lexical path and its filters let through, not how BM25 ranks them (the conformance suite does that
against a real cluster). Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

VERSION = "8.15.0"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any  # JSON, or a list of JSON lines for NDJSON endpoints


@dataclass
class FakeElasticsearch:
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"mappings", "settings", "docs"}
    requests: list[Request] = field(default_factory=list)

    def start(self) -> FakeElasticsearch:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                ndjson = url.path.endswith(("/_bulk", "/_msearch"))
                body = [json.loads(line) for line in raw.splitlines() if line.strip()] if ndjson else (
                    json.loads(raw) if raw else None)
                with fake._lock:
                    fake.requests.append(Request(self.command, url.path, params, body))
                    status, payload = fake.answer(self.command, url.path, body)
                data = b"" if self.command == "HEAD" else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def docs(self, index: str) -> dict[str, dict[str, Any]]:
        return self.indices[index]["docs"]

    # ------------------------------------------------------------ routing

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return 200, {"name": "fake", "cluster_name": "fake", "version": {"number": VERSION}, "tagline": "fake"}
        if parts == ["_bulk"]:
            return 200, self._bulk(body)
        if parts == ["_msearch"]:
            return 200, {"responses": [self._search(header["index"], search)
                                       for header, search in zip(body[::2], body[1::2], strict=True)]}
        name = parts[0]
        if len(parts) == 1:
            if method == "HEAD":
                return (200 if name in self.indices else 404), None
            if method == "PUT":
                if name in self.indices:
                    return 400, _error("resource_already_exists_exception", f"index [{name}] already exists")
                self.indices[name] = {"settings": body.get("settings", {}), "mappings": body["mappings"], "docs": {}}
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
            if method == "DELETE":
                self.indices.pop(name, None)
                return 200, {"acknowledged": True}
        if name not in self.indices:
            return 404, _error("index_not_found_exception", f"no such index [{name}]")
        docs = self.docs(name)
        if parts[1] == "_mapping":
            return 200, {name: {"mappings": self.indices[name]["mappings"]}}
        if parts[1] == "_count":
            return 200, {"count": sum(_matches(d, body["query"]) for d in docs.values())}
        if parts[1] == "_delete_by_query":
            gone = [i for i, d in docs.items() if _matches(d, body["query"])]
            for doc_id in gone:
                del docs[doc_id]
            return 200, {"deleted": len(gone), "failures": []}
        return 400, _error("unsupported", f"{method} {path} is not served by the fake")

    def _bulk(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        items = []
        for action, source in zip(lines[::2], lines[1::2], strict=True):
            (op, meta), = action.items()
            assert op == "index", f"the fake indexes only, not {op}"
            properties = self.indices[meta["_index"]]["mappings"]["properties"]
            unmapped = set(source) - set(properties)
            if unmapped:  # the index is dynamic: strict
                items.append({op: {"_id": meta["_id"], "status": 400, "error": _error(
                    "strict_dynamic_mapping_exception", f"unmapped fields {sorted(unmapped)}")["error"]}})
                continue
            self.docs(meta["_index"])[meta["_id"]] = source
            items.append({op: {"_id": meta["_id"], "status": 201, "result": "created"}})
        return {"took": 1, "errors": any(i["index"]["status"] >= 300 for i in items), "items": items}

    def _search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        if index not in self.indices:
            return {**_error("index_not_found_exception", f"no such index [{index}]"), "status": 404}
        docs = self.docs(index)
        if "knn" in body:
            knn = body["knn"]
            query = np.asarray(knn["query_vector"], dtype=np.float32)
            allowed = [(i, d) for i, d in docs.items()
                       if "vector" in d and all(_matches(d, c) for c in knn.get("filter", []))]
            scored = sorted((((1 + _cosine(query, d["vector"])) / 2, i, d) for i, d in allowed),
                            key=lambda hit: -hit[0])[:knn["k"]]
        else:
            scored = sorted(((_score(d, body["query"]), i, d) for i, d in docs.items() if _matches(d, body["query"])),
                            key=lambda hit: -hit[0])
        fields = body.get("_source", True)
        return {"hits": {"total": {"value": len(scored), "relation": "eq"}, "hits": [
            {"_index": index, "_id": doc_id, "_score": score,
             "_source": d if fields is True else {k: d[k] for k in fields if k in d}}
            for score, doc_id, d in scored[:body.get("size", 10)]]}}


def _error(kind: str, reason: str) -> dict[str, Any]:
    return {"error": {"type": kind, "reason": reason, "root_cause": [{"type": kind, "reason": reason}]}}


def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind == "term":
        (name, value), = spec.items()
        return doc.get(name) == value
    if kind == "terms":
        (name, values), = spec.items()
        return doc.get(name) in values
    if kind == "bool":
        return (all(_matches(doc, q) for q in spec.get("filter", []) + spec.get("must", []))
                and not any(_matches(doc, q) for q in spec.get("must_not", [])))
    if kind == "script_score":
        return _matches(doc, spec["query"])
    if kind == "multi_match":
        return _word_score(doc, spec) > 0
    raise AssertionError(f"the fake does not evaluate {kind} queries")


def _score(doc: dict[str, Any], query: dict[str, Any]) -> float:
    (kind, spec), = query.items()
    if kind == "bool":
        return sum(_score(doc, q) for q in spec.get("must", []))
    if kind == "multi_match":
        return _word_score(doc, spec)
    if kind == "script_score":
        source, query_vector = spec["script"]["source"], np.asarray(spec["script"]["params"]["query_vector"])
        offset = float(source.rsplit("+", 1)[1])
        name = "answer_vector" if "'answer_vector'" in source else "vector"
        if name not in doc:
            return offset
        return float(np.float32(np.dot(query_vector.astype(np.float32), np.asarray(doc[name], dtype=np.float32))
                                + offset))  # Lucene scores are float32
    return 0.0


def _word_score(doc: dict[str, Any], spec: dict[str, Any]) -> float:
    words = set(_WORD.findall(spec["query"].lower()))
    total = 0.0
    for weighted in spec["fields"]:
        name, _, boost = weighted.partition("^")
        value = doc.get(name)
        text = " ".join(value) if isinstance(value, list) else (value or "")
        total += float(boost or 1.0) * sum(1 for w in _WORD.findall(text.lower()) if w in words)
    return total


def _cosine(a: np.ndarray, b: list[float]) -> float:
    vector = np.asarray(b, dtype=np.float32)
    return float(a @ vector / (np.linalg.norm(a) * np.linalg.norm(vector)))
