"""Revision 0017a: an `account` column on the outbox, inbound messages, cases and transcript records; rows from before
stay the channel's default account (NULL), the transcript chain still verifies, and the cases' search still works."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, inspect, text

from database import session_factory
from database.migrate import alembic_config
from transcripts.chain import hashed_fields, record_hash, sha256_text, verify
from transcripts.models import GENESIS_HASH, TranscriptRecord
from transcripts.writer import TranscriptWriter

AT = "2026-11-23 14:00:00.000000"
TABLES = ("outbox", "inbound_messages", "cases", "transcript_records")


def test_accounts_columns_keep_old_rows_and_the_revision_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0016r")
    engine = create_engine(url)
    old = TranscriptRecord(id=1, at=datetime(2026, 11, 23, 14, tzinfo=UTC), channel="telegram", conversation_id="tg-5",
                           author_role="citizen", author=None, public_text="the bus is late",
                           original_sha256=sha256_text("the bus is late"), entry_id=None, entry_version=None,
                           case_id=None, platform_message_id=None, meta={}, prev_hash=GENESIS_HASH)
    old_hash = record_hash(hashed_fields(old))
    with engine.begin() as db:
        db.execute(text(
            "INSERT INTO transcript_records (id, at, channel, conversation_id, author_role, public_text, "
            "original_sha256, meta, prev_hash, hash) VALUES (1, :at, 'telegram', 'tg-5', 'citizen', 'the bus is late', "
            ":sha, '{}', :prev, :hash)"),
            {"at": AT, "sha": old.original_sha256, "prev": GENESIS_HASH, "hash": old_hash})
        db.execute(text("UPDATE transcript_head SET last_id = 1, last_hash = :hash WHERE id = 1"), {"hash": old_hash})
        db.execute(text(
            "INSERT INTO cases (id, service_request_id, description, status, state, agency_responsible, sla, "
            "requested_datetime, updated_datetime, expected_datetime, is_emergency, channel, conversation_id) "
            "VALUES (1, 'CD-2026-000001', 'bus shelter broken', 'open', 'new', 'transport', 'simple', :at, :at, "
            ":at, 0, 'telegram', 'tg-5')"), {"at": AT})
    command.upgrade(alembic_config(url), "0017a")
    columns = {table: {c["name"]: c for c in inspect(engine).get_columns(table)} for table in TABLES}
    assert all(columns[t]["account"]["nullable"] for t in TABLES)
    sessions = session_factory(engine)
    writer = TranscriptWriter(sessions, redact=str)
    writer.append(channel="telegram", conversation_id="tg-5@transport", author_role="citizen", text="line 4?",
                  account="transport")
    assert verify(sessions).ok and verify(sessions).checked == 2
    with engine.connect() as db:
        assert db.execute(text("SELECT account FROM cases")).scalar() is None
        assert db.execute(text("SELECT account FROM transcript_records ORDER BY id")).scalars().all() == [
            None, "transport"]
        # the FTS triggers of 0015s survive (`cases` was not recreated)
        assert db.execute(text("SELECT rowid FROM cases_fts WHERE cases_fts MATCH 'shelter'")).scalars().all() == [1]
    command.downgrade(alembic_config(url), "0016r")
    assert all("account" not in {c["name"] for c in inspect(engine).get_columns(t)} for t in TABLES)
    engine.dispose()
