"""Hostile requests: bad bodies get 400/413/422 with a clear message and never 500, nothing raw reaches the log,
and every answer carries the security headers."""

from __future__ import annotations

import logging
import re
import time

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from desk.http_guards import CSP
from desk.web.templates import STATIC_DIR
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port

TEMPLATES = STATIC_DIR.parent / "templates"
SURROGATE = ("The request body contains a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), "
             "which is not text: send UTF-8 text.")
HEADERS = {"content-security-policy": CSP, "x-frame-options": "DENY", "x-content-type-options": "nosniff",
           "referrer-policy": "strict-origin-when-cross-origin"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("hardening"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(),
                    max_body_bytes=100_000)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def chat(client, body: bytes, content_type: str = "application/json"):
    return client.post("/api/chat", content=body, headers={"content-type": content_type})


@pytest.mark.parametrize(("body", "content_type", "status", "detail"), [
    (b'"\\ud800"', "application/json", 400, SURROGATE),
    (b'{"sender": "web-a", "message": "hello \\ud800"}', "application/json", 400, SURROGATE),
    (b'{"sender": "web-a", "message": "\xed\xa0\x80"}', "application/json", 400,  # a surrogate as bytes
     "The request body is not text: send JSON in UTF-8."),
    (b'{"sender": "web-a", "message": "ok", "message_id": "\\udfff"}', "application/json", 400, SURROGATE),
    (b"\xff\xfe\x00\x81binary", "application/json", 400, "The request body is not text: send JSON in UTF-8."),
])
def test_a_body_that_is_not_text_gets_400_with_the_reason(client, body, content_type, status, detail):
    response = chat(client, body, content_type)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "multipart/form-data"])
def test_a_binary_body_of_another_type_gets_422_saying_its_size_not_its_bytes(client, content_type):
    response = chat(client, b"\xff\xfe\x00\x81binary", content_type)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body"] and problem["input"] in ("<10 bytes>", None)


def test_an_invalid_json_body_gets_422_and_an_echo_cut_short(client):
    assert chat(client, b'{"sender": "web-a", "message": ').status_code == 422
    long_sender = "x" * 5000
    response = client.post("/api/chat", json={"sender": long_sender, "message": "hi"})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "sender"]
    assert problem["input"].endswith("… (5000 characters)") and len(problem["input"]) < 300


def test_open311_refuses_a_bad_body_in_its_own_format(client):
    response = client.post("/open311/v2/requests.json", content=b'{"api_key": "\\ud800"}',
                           headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, [{"code": 400, "description": SURROGATE}])


def test_hostile_bodies_leave_nothing_raw_in_the_log(client, caplog):
    with caplog.at_level(logging.DEBUG):
        for body in (b"\xff\xfe\x00\x81binary", b'"\\ud800"', b'{"sender": "web-a", "message": "\xed\xa0\x80"}'):
            for content_type in ("application/json", "text/plain"):
                assert chat(client, body, content_type).status_code < 500
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "\ufffd" not in logged and "\\xff" not in logged and "\\ud800" not in logged and "binary" not in logged
    assert not [r for r in caplog.records if r.exc_info]


def test_a_body_over_the_limit_is_refused_on_its_length_before_it_is_read(client):
    start = time.monotonic()
    response = chat(client, b"[" + b"1," * 60_000 + b"1]")
    assert (response.status_code, response.json()) == (
        413, {"detail": "The request body is larger than 100000 bytes, the limit of this endpoint."})
    assert time.monotonic() - start < 2


def test_a_streamed_body_over_the_limit_is_refused_once_it_passes_it(client):
    def chunks():
        for _ in range(50):
            yield b"x" * 10_000

    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        response = client.post("/api/chat", content=chunks(), headers={"content-type": content_type})
        assert response.status_code == 413, content_type
    response = client.post("/inbox/login", content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_uploads_may_be_larger_than_other_bodies(client):
    files = {"file": ("entries.jsonl", b"{}\n" * 100_000, "application/x-ndjson")}
    assert client.post("/api/kb/entries/import", files=files).status_code == 401  # read, then refused: no token
    assert client.post("/api/kb/search", json={"text": "x" * 200_000}).status_code == 413


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/inbox/login", None), ("GET", "/chat", None), ("GET", "/disclosure", None),
    ("GET", "/static/chat.js", None), ("GET", "/health", None), ("GET", "/no/such/page", None),
    ("GET", "/open311/v2/services.json", None), ("POST", "/api/kb/search", b'{"text": 1}'),
    ("POST", "/api/chat", b'"\\ud800"'), ("POST", "/api/messages", b"{}"),
])
def test_every_answer_carries_the_security_headers(client, method, path, body):
    response = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500
    assert {k: response.headers.get(k) for k in HEADERS} == HEADERS


def test_the_api_docs_alone_may_load_their_cdn_scripts_and_still_cannot_be_framed(client):
    policy = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/docs").headers["x-frame-options"] == "DENY"


def test_the_pages_need_no_inline_script_or_style():
    """What the policy forbids (script-src 'self', style-src 'self'), no template uses."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", text), template.name
        assert "javascript:" not in text, template.name
