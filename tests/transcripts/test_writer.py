"""The transcript writer: append-only, chained records; verify names the first broken record."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError

from database import create_db_engine, session_factory
from tests.transcripts.conftest import tamper, write_conversation, writer_for
from transcripts.chain import verify
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.writer import TranscriptError, TranscriptWriter


def shout(text: str) -> str:
    """A stand-in redaction whose effect is easy to see."""
    return text.upper()


@pytest.fixture
def db_path(db_url) -> Path:
    """The file of the test's database (tests/conftest.py), for sqlite3 and for other processes."""
    return Path(db_url.removeprefix("sqlite:///"))


@pytest.fixture
def writer(sessions) -> TranscriptWriter:
    return TranscriptWriter(sessions, redact=shout, clock=lambda: datetime(2026, 11, 23, 14, 0, 0, 123456, UTC))


def records(sessions) -> list[TranscriptRecord]:
    with sessions() as session:
        return list(session.scalars(select(TranscriptRecord).order_by(TranscriptRecord.id)))


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
