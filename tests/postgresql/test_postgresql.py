"""The desk on PostgreSQL (DATABASE_URL): migrations, transcripts, cases and the knowledge base on a real server."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

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
from tests.handoff.test_clock import assert_delay_rate_reads_the_clock
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


def test_the_delay_rate_query_reads_the_clock_on_postgresql(sessions):
    assert_delay_rate_reads_the_clock(sessions, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


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


def test_the_inbox_searches_filters_counts_and_pages_on_the_gin_index(sessions):
    from datetime import UTC, datetime, timedelta

    from handoff.inbox_search import PG_SEARCH_VECTOR, InboxQuery, search_inbox

    directory = default_directory()
    moment = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    desk = CaseDesk(sessions, directory, "America/New_York", transcript=TranscriptWriter(sessions, redact=str),
                    clock=lambda: moment)

    def file(text: str, department: str, conversation: str = "web-pg-inbox", channel: str = "web"):
        return desk.open_case(description=text, channel=channel, conversation_id=conversation, sla=SLA.SIMPLE,
                              assignment=route_case(directory=directory,
                                                    entry_matches=[(directory.department(department).name, 0.9)]))

    lights = [file(f"Streetlight out on Quince Street lamp {i}", "public-works") for i in range(7)]
    handle = file("Broken bench in the park", "public-works", conversation="telegram-987654", channel="telegram")
    waste = file("Quince Street bins not emptied", "waste")
    rosa = Actor("rosa.pg", role="staff", department="public-works")
    desk.claim(service_request_id=lights[2].service_request_id, actor=rosa)
    later = moment + timedelta(hours=4)  # the 3-hour deadlines have passed

    def numbers(actor: Actor, **query) -> list[str]:
        return [c.service_request_id for c in search_inbox(sessions, actor, InboxQuery(**query), later).cases]

    assert numbers(rosa, text="quince") == [c.service_request_id for c in lights]
    assert numbers(rosa, text="Quince lamp 3") == [lights[3].service_request_id]
    assert numbers(rosa, text=lights[5].service_request_id) == [lights[5].service_request_id]
    assert numbers(rosa, text="987654") == numbers(rosa, text="telegram") == [handle.service_request_id]
    assert numbers(rosa, text=waste.service_request_id) == []  # another department's
    supervisor = Actor("sam.pg", role="supervisor")
    assert numbers(supervisor, text="quince", department="waste") == [waste.service_request_id]
    assert numbers(rosa, text="quince", mine=True) == [lights[2].service_request_id]
    page = search_inbox(sessions, rosa, InboxQuery(text="quince", size=3, page=3), later)
    assert (page.total, page.pages, page.page, [c.service_request_id for c in page.cases]) == (
        7, 3, 3, [lights[6].service_request_id])
    assert (page.counts.open, page.counts.overdue, page.counts.mine, page.counts.states) == (
        7, 7, 1, {"new": 6, "assigned": 1})
    with sessions() as session:  # the query's expression is the index's: with scans off, the plan uses it
        session.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(session.execute(text(
            f"EXPLAIN SELECT id FROM cases WHERE {PG_SEARCH_VECTOR} @@ to_tsquery('simple', 'quince:*')")).scalars())
    assert "ix_cases_search" in plan


def test_login_throttling_and_the_audit_log_on_postgresql(sessions):
    from datetime import UTC, datetime, timedelta

    from handoff.audit import AuditFilter, AuditLog
    from handoff.logins import LoginThrottle

    now = [datetime(2026, 11, 23, 14, 0, tzinfo=UTC)]
    throttle = LoginThrottle(sessions, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.check("pg.user", "10.0.0.9") is None
        throttle.failed("pg.user", "10.0.0.9")
    refused = throttle.check("PG.User", "10.0.0.10")
    assert refused is not None and (refused.reason, refused.retry_after_s) == ("account", 900)
    now[0] += timedelta(minutes=15)
    assert throttle.check("pg.user", "10.0.0.9") is None
    log = AuditLog(sessions, clock=lambda: now[0])
    log.record("pg.admin", "account.disabled", "pg.user", "=cmd|' /C calc'!A0")
    assert [e.action for e in log.page(AuditFilter(action="account", subject="pg.user")).entries] == [
        "account.disabled"]
    assert log.export_csv(AuditFilter(subject="pg.user")).splitlines()[1].endswith("'=cmd|' /C calc'!A0")


def test_topics_trends_and_a_burst_on_postgresql(sessions, embedder):
    """The topic job, the hot topics' GROUP BY and the burst check's spans run in PostgreSQL too."""
    from datetime import UTC, datetime, timedelta

    from handoff.burst_alerts import BurstAlerts
    from handoff.models import MessageDecision
    from handoff.report import build_report, period_for
    from handoff.topics import TopicJob

    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with sessions.begin() as session:
        session.add_all(MessageDecision(at=now - timedelta(minutes=40) + timedelta(minutes=2 * n), channel="web",
                                        conversation_id=f"pg-burst-{n}", text="The water main on Elm Street burst",
                                        intent=None, route="out_of_scope", reason="test", entry_id=None,
                                        confidence=None, case_id=None) for n in range(20))
    assert TopicJob(sessions, embed=embedder.embed, redact=str).run(now=now) >= 20
    report = build_report(sessions, period=period_for(now=now, period="week"), now=now)
    [hot] = [t for t in report["rising_topics"] if t["topic"].startswith("cluster:")]
    assert hot["count"] == 20 and hot["label"] == "\N{LEFT DOUBLE QUOTATION MARK}The water main on Elm Street burst" \
        "\N{RIGHT DOUBLE QUOTATION MARK}"
    notices = BurstAlerts(sessions, redact=str, timezone="UTC", desk_url="http://desk").check(
        now=now, duty_officer="duty@city.example", supervisors=["chief@city.example"])
    assert sorted(n.to for n in notices) == ["chief@city.example", "duty@city.example"]
    assert "20 in the last hour" in notices[0].body
