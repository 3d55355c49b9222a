"""Rasa's tracker store in the desk's PostgreSQL database (DATABASE_URL in the desk's psycopg form, passed to Rasa
as psycopg2), with Redis as the lock store: a conversation continues across a restart of the Rasa server."""

from __future__ import annotations

import json
import os
import signal
import uuid

import psycopg
import pytest

from desk.bot_model import ensure_trained
from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.e2e.test_clarification import AMBIGUOUS, send
from tests.scale.conftest import fresh_database
from tests.support import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def settings(tmp_path_factory, postgresql_url, redis_url):
    settings = Settings(data_dir=tmp_path_factory.mktemp("stack-pg"), seed_kb_file=DEMO_KB_FILE,
                        internal_token=None, desk_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                        database_url=fresh_database(postgresql_url), redis_url=redis_url)
    ensure_trained(settings)
    return settings


def stop_rasa(stack: Stack) -> None:
    [rasa] = [p for p in stack.processes if p.name == "rasa"]
    os.killpg(rasa.started.pid, signal.SIGTERM)
    rasa.started.wait(timeout=30)


def rows(settings: Settings, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(settings.resolved_database_url.replace("postgresql+psycopg://", "postgresql://")) as db:
        return db.execute(sql, params).fetchall()


def test_a_conversation_continues_across_a_rasa_restart(settings):
    sender = f"web-pg-{uuid.uuid4().hex[:8]}"
    with Stack(settings, components=("desk", "actions", "rasa"), connectors=()) as stack:
        [offer] = send(stack, sender, AMBIGUOUS)
        assert offer["text"] == "Did you mean:"
        stop_rasa(stack)
        # a new Rasa server: it knows the conversation only from PostgreSQL
        with Stack(settings, components=("rasa",), connectors=()) as rasa:
            text_element, metadata = send(rasa, sender, "/none_of_these")
    # the original question (a slot set before the restart) is what the person gets
    number = metadata["custom"]["citydesk"]["case_id"]
    assert text_element["text"].startswith("I've passed this to ")
    assert rows(settings, "SELECT description FROM cases WHERE service_request_id = %s", number) == [(AMBIGUOUS,)]
    # both turns are in Rasa's tracker table of the desk's database
    events = rows(settings, "SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", sender)
    assert [json.loads(data)["text"] for kind, data in events if kind == "user"] == [AMBIGUOUS, "/none_of_these"]
