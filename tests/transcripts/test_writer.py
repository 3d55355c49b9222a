"""The transcript writer: append-only, chained records; verify names the first broken record."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from database import create_db_engine, session_factory, upgrade
from desk.cli import app
from handoff.directory import SLA, default_directory
from handoff.routing import route_case
from handoff.service import Actor, CaseDesk
from settings import Settings
from tests.conftest import writer_for
from transcripts.chain import verify
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.writer import TranscriptError, TranscriptWriter


def shout(text: str) -> str:
    """A stand-in redaction whose effect is easy to see."""
    return text.upper()


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "citydesk.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sessions(db_path):
    engine = create_db_engine(f"sqlite:///{db_path}")
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def writer(sessions) -> TranscriptWriter:
    return TranscriptWriter(sessions, redact=shout, clock=lambda: datetime(2026, 11, 23, 14, 0, 0, 123456, UTC))


def write_conversation(writer: TranscriptWriter) -> None:
    writer.append(channel="telegram", conversation_id="tg-1", author_role="citizen", text="when is bulky pickup?",
                  platform_message_id="77")
    writer.append(channel="telegram", conversation_id="tg-1", author_role="bot", text="Bulky items go on Mondays.",
                  entry_id="waste-bulky", entry_version=3)
    writer.append(channel="telegram", conversation_id="tg-1", author_role="citizen", text="thanks, I'm Ann Lee")


def records(sessions) -> list[TranscriptRecord]:
    with sessions() as session:
        return list(session.scalars(select(TranscriptRecord).order_by(TranscriptRecord.id)))


def tamper(db_path, sql: str, *parameters) -> None:
    """What an intruder with the database file could do: drop the guard triggers and change rows."""
    connection = sqlite3.connect(db_path)
    connection.execute("DROP TRIGGER IF EXISTS transcript_records_no_update")
    connection.execute("DROP TRIGGER IF EXISTS transcript_records_no_delete")
    connection.execute(sql, parameters)
    connection.commit()
    connection.close()


def test_each_record_links_to_the_one_before_and_keeps_every_field(writer, sessions):
    write_conversation(writer)
    rows = records(sessions)
    assert [r.id for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "0" * 64
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert len({r.hash for r in rows}) == 3
    bot = rows[1]
    assert (bot.channel, bot.conversation_id, bot.author_role, bot.entry_id, bot.entry_version) == \
        ("telegram", "tg-1", "bot", "waste-bulky", 3)
    assert rows[0].platform_message_id == "77"
    assert rows[0].at == datetime(2026, 11, 23, 14, 0, 0, 123456, UTC)
    assert verify(sessions).ok and verify(sessions).checked == 3


def test_the_public_text_is_redacted_and_the_original_kept_beside_it(writer, sessions):
    ref = writer.append(channel="web", conversation_id="web-9", author_role="citizen", text="call me on 555")
    with sessions() as session:
        record = session.get(TranscriptRecord, ref.id)
        original = session.get(TranscriptOriginal, ref.id)
    assert record.public_text == "CALL ME ON 555"
    assert original.text == "call me on 555"


def test_the_default_redaction_hides_an_email_address(sessions):
    ref = writer_for(sessions).append(channel="web", conversation_id="web-9", author_role="citizen",
                                            text="write to ann.lee@example.org please")
    with sessions() as session:
        public = session.get(TranscriptRecord, ref.id).public_text
    assert "ann.lee@example.org" not in public and "[email]" in public


def test_the_database_refuses_to_change_or_delete_a_record(writer, db_path):
    write_conversation(writer)
    connection = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("UPDATE transcript_records SET public_text = 'nothing happened' WHERE id = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM transcript_records WHERE id = 2")
    connection.close()


def test_orm_updates_are_refused_too(writer, sessions):
    write_conversation(writer)
    with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as session:
        session.get(TranscriptRecord, 1).public_text = "edited"


def test_a_changed_record_is_named_by_verify(writer, sessions, db_path):
    write_conversation(writer)
    tamper(db_path, "UPDATE transcript_records SET public_text = 'Bulky items go on Fridays.' WHERE id = 2")
    result = verify(sessions)
    assert (result.ok, result.first_broken_id, result.checked) == (False, 2, 1)
    assert "changed after it was written" in result.reason


def test_a_removed_record_breaks_the_link_of_the_next_one(writer, sessions, db_path):
    write_conversation(writer)
    tamper(db_path, "DELETE FROM transcript_originals WHERE record_id = 2")
    tamper(db_path, "DELETE FROM transcript_records WHERE id = 2")
    result = verify(sessions)
    assert (result.first_broken_id, result.checked) == (3, 1)
    assert "removed or changed" in result.reason


def test_a_cut_off_tail_is_noticed(writer, sessions, db_path):
    write_conversation(writer)
    tamper(db_path, "DELETE FROM transcript_originals WHERE record_id = 3")
    tamper(db_path, "DELETE FROM transcript_records WHERE id = 3")
    result = verify(sessions)
    assert result.first_broken_id == 3 and "removed" in result.reason


def test_a_changed_original_is_named_by_verify(writer, sessions, db_path):
    write_conversation(writer)
    tamper(db_path, "UPDATE transcript_originals SET text = 'when is bulky pickup? (edited)' WHERE record_id = 1")
    result = verify(sessions)
    assert result.first_broken_id == 1 and "original" in result.reason


def test_a_blanked_original_keeps_the_chain_whole(writer, sessions, db_path):
    """Retention removes originals; the record carries the original's digest, so the chain still verifies."""
    write_conversation(writer)
    tamper(db_path, "UPDATE transcript_originals SET text = NULL WHERE record_id = 3")
    assert verify(sessions).ok


def test_a_record_needs_a_known_author_role_and_a_conversation(writer, sessions):
    with pytest.raises(TranscriptError, match="unknown author role 'robot'"):
        writer.append(channel="web", conversation_id="web-1", author_role="robot", text="hi")
    with pytest.raises(TranscriptError, match="conversation id"):
        writer.append(channel="web", conversation_id="", author_role="bot", text="hi")
    assert records(sessions) == []


def _append_many(db_path: str, author: str, count: int) -> None:
    engine = create_db_engine(f"sqlite:///{db_path}")
    writer = TranscriptWriter(session_factory(engine), redact=str)
    for i in range(count):
        writer.append(channel="web", conversation_id=f"web-{author}", author_role="citizen", text=f"{author} {i}")
    engine.dispose()


def test_writers_in_several_processes_keep_one_unbroken_chain(db_path, sessions):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(db_path), name, 40)) for name in ("a", "b", "c")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    result = verify(sessions)
    assert result.ok and result.checked == 120


def test_cases_write_their_notices_and_staff_answers_into_the_conversation(sessions):
    desk = CaseDesk(sessions, default_directory(), "America/New_York",
                    transcript=TranscriptWriter(sessions, redact=str))
    assignment = route_case(directory=desk.directory, category=desk.directory.category("pothole"), entry_matches=[])
    case = desk.open_case(description="pothole at 12 Oak St", channel="telegram", conversation_id="tg-5",
                          sla=SLA.SIMPLE, assignment=assignment)
    officer = Actor("pat", role="staff", department=case.agency_responsible)
    desk.reply(service_request_id=case.service_request_id, actor=officer, text="Fixed this morning.")
    desk.close(service_request_id=case.service_request_id, actor=officer)
    rows = [r for r in records(sessions) if r.conversation_id == "tg-5"]
    assert [(r.author_role, r.author) for r in rows] == [("system", None), ("staff", "pat"), ("system", None)]
    assert rows[0].public_text.startswith(f"Case {case.service_request_id} opened for Public Works (simple), "
                                          "expected by 2026-")
    assert rows[1].public_text == f"{case.service_request_id}: Fixed this morning."
    assert rows[2].public_text == f"Case {case.service_request_id} closed."
    assert {r.case_id for r in rows} == {case.service_request_id}
    assert verify(sessions).ok


def test_the_verify_command_names_the_first_broken_record(tmp_path):
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    write_conversation(TranscriptWriter(session_factory(engine), redact=str))
    engine.dispose()
    runner = CliRunner()
    whole = runner.invoke(app, ["transcripts", "verify", "--data-dir", str(tmp_path)])
    assert whole.exit_code == 0, whole.output
    assert "3 records" in whole.output
    tamper(settings.resolved_database_url.split("///", 1)[1],
           "UPDATE transcript_records SET author_role = 'staff' WHERE id = 2")
    broken = runner.invoke(app, ["transcripts", "verify", "--data-dir", str(tmp_path), "--json"])
    assert broken.exit_code == 1
    assert '"first_broken_id": 2' in broken.output
