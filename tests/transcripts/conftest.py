"""The transcript writer as a process builds it, and a conversation to write and tamper with."""

from __future__ import annotations

import sqlite3

from tests.privacy.conftest import REDACTOR
from transcripts.writer import TranscriptWriter


def writer_for(sessions, clock=None) -> TranscriptWriter:
    """The transcript writer a process builds at start-up, redacting with REDACTOR (and this clock, if given)."""
    return TranscriptWriter(sessions, redact=REDACTOR.public_text, **({"clock": clock} if clock else {}))


def write_conversation(writer: TranscriptWriter) -> None:
    writer.append(channel="telegram", conversation_id="tg-1", author_role="citizen", text="when is bulky pickup?",
                  platform_message_id="77")
    writer.append(channel="telegram", conversation_id="tg-1", author_role="bot", text="Bulky items go on Mondays.",
                  entry_id="waste-bulky", entry_version=3)
    writer.append(channel="telegram", conversation_id="tg-1", author_role="citizen", text="thanks, I'm Ann Lee")


def tamper(db_path, sql: str, *parameters) -> None:
    """What an intruder with the database file could do: drop the guard triggers and change rows."""
    connection = sqlite3.connect(db_path)
    connection.execute("DROP TRIGGER IF EXISTS transcript_records_no_update")
    connection.execute("DROP TRIGGER IF EXISTS transcript_records_no_delete")
    connection.execute(sql, parameters)
    connection.commit()
    connection.close()
