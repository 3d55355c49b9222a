"""The desk on PostgreSQL (DATABASE_URL): migrations, transcripts, cases and the knowledge base on a real server."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from database import create_db_engine, session_factory, upgrade
from database.migrate import alembic_config
from handoff.directory import SLA, default_directory
from handoff.routing import route_case
from handoff.service import Actor, CaseDesk
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.entry import Entry
from knowledge_base.factory import build_knowledge_base
from knowledge_base.store import EmbeddingRow, EntryStore
from outbox.store import waiting_for
from tests.knowledge_base.conftest import SMALL_ENTRIES
from transcripts.chain import verify
from transcripts.models import TranscriptRecord
from transcripts.writer import TranscriptWriter


@pytest.fixture(scope="module")
def sessions(postgresql_url):
    upgrade(postgresql_url)
    engine = create_db_engine(postgresql_url)
    yield session_factory(engine)
    engine.dispose()


def test_every_migration_applies_and_the_schema_is_at_head(postgresql_url, sessions):
    head = ScriptDirectory.from_config(alembic_config(postgresql_url)).get_current_head()
    with sessions() as session:
        current = MigrationContext.configure(session.connection()).get_current_revision()
        tables = set(session.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert current == head
    assert {"kb_entries", "cases", "outbox", "transcript_records", "transcript_originals"} <= tables
    upgrade(postgresql_url)  # applying again changes nothing and does not fail


def _append_many(url: str, author: str, count: int) -> None:
    engine = create_db_engine(url)
    writer = TranscriptWriter(session_factory(engine), redact=str)
    for i in range(count):
        writer.append(channel="web", conversation_id=f"web-pg-{author}", author_role="citizen", text=f"{author} {i}")
    engine.dispose()


def test_writers_in_several_processes_keep_one_chain_and_records_cannot_be_changed(postgresql_url, sessions):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(postgresql_url, name, 30)) for name in ("a", "b", "c")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    result = verify(sessions)
    assert result.ok, result.reason
    with sessions() as session:
        pg_records = session.scalar(select(text("count(*)")).select_from(TranscriptRecord).where(
            TranscriptRecord.conversation_id.like("web-pg-%")))
    assert pg_records == 90
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("UPDATE transcript_records SET public_text = 'changed' WHERE id = 1"))
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("DELETE FROM transcript_records WHERE id = 1"))


def test_a_case_is_opened_answered_and_listed_with_aware_deadlines(sessions):
    desk = CaseDesk(sessions, default_directory(), "America/New_York", transcript=TranscriptWriter(sessions,
                                                                                                  redact=str))
    assignment = route_case(directory=desk.directory, category=desk.directory.category("pothole"), entry_matches=[])
    case = desk.open_case(description="pothole at 12 Oak St", channel="web", conversation_id="web-pg-case",
                          sla=SLA.SIMPLE, assignment=assignment)
    assert (case.expected_datetime - case.requested_datetime).total_seconds() == 3 * 3600
    officer = Actor("pat", role="staff", department=case.agency_responsible)
    assert case.service_request_id in [c.service_request_id for c in desk.inbox(officer)]
    desk.reply(service_request_id=case.service_request_id, actor=officer, text="Filled today.")
    assert [m.text for m in waiting_for(desk.sessions, channel="web", conversation_id="web-pg-case")] == \
        [f"{case.service_request_id}: Filled today."]
    assert desk.get(case.service_request_id).state == "answered"


def test_the_knowledge_base_stores_searches_and_reuses_its_embeddings(postgresql_url, sessions, embedder):
    kb = build_knowledge_base(database_url=postgresql_url, model_name=DEFAULT_MODEL, threshold=0.6)
    kb.import_entries(SMALL_ENTRIES)
    assert kb.answer("where do I pay my parking fine").entry.id == "t-ticket"
    with sessions() as session:
        cached = session.scalar(select(text("count(*)")).select_from(EmbeddingRow))
    again = build_knowledge_base(database_url=postgresql_url, model_name=DEFAULT_MODEL, threshold=0.6)
    assert again.backend.count() == len(SMALL_ENTRIES)
    assert again.answer("where do I pay my parking fine").entry.id == "t-ticket"
    with sessions() as session:
        assert session.scalar(select(text("count(*)")).select_from(EmbeddingRow)) == cached


def test_the_editors_text_filter_and_paging_run_in_postgresql(sessions):
    """EntryStore.page's SQL (JSON fields, phrasings, ILIKE with % and _ escaped) on PostgreSQL, not only SQLite."""
    store = EntryStore(sessions)
    store.upsert_many([Entry(id=f"pg-{n}", question=f"Zebra crossing number {n}?", answer="Ask Public Works.",
                             department="Public Works") for n in range(3)]
                      + [Entry(id="pg_pct", question="A 100% zebra refund?", alt_questions=("ÉCOLE ZEBRA",),
                               answer="No.", department="Finance")])
    assert store.page(text="ZEBRA CROSSING", limit=2) == (store.page(text="zebra crossing")[0][:2], 3)
    assert [r.entry.id for r in store.page(text="école")[0]] == ["pg_pct"]  # a phrasing, case folded
    assert [r.entry.id for r in store.page(text="100%")[0]] == ["pg_pct"] and store.page(text="0%z")[1] == 0
    assert [r.entry.id for r in store.page(text="g_p")[0]] == ["pg_pct"] and store.page(text="g_1")[1] == 0
    assert [r.entry.id for r in store.page(text="zebra", department="Finance", state="published")[0]] == ["pg_pct"]
