"""Fixtures of the pipeline's and the Telegram connector's fast tests: a migrated SQLite file, fake Rasa."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import database
from connectors.models import InboundRecord
from outbox.models import OutboxMessage
from tests.fakes.rasa_rest import FakeRasa
from transcripts.models import TranscriptRecord


def identity(text: str) -> str:
    return text


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/citydesk.db"
    database.upgrade(url)
    return url


@pytest.fixture
def sessions(db_url):
    return database.session_factory(database.create_db_engine(db_url))


@pytest.fixture
def rasa():
    fake = FakeRasa().start()
    yield fake
    fake.stop()


def transcript(sessions, conversation_id: str) -> list[TranscriptRecord]:
    with sessions() as session:
        return list(session.scalars(select(TranscriptRecord).where(TranscriptRecord.conversation_id == conversation_id)
                                    .order_by(TranscriptRecord.id)))


def outbox(sessions, conversation_id: str) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id)
                                    .order_by(OutboxMessage.id)))


def inbound(sessions, conversation_id: str) -> list[InboundRecord]:
    with sessions() as session:
        return list(session.scalars(select(InboundRecord).where(InboundRecord.conversation_id == conversation_id)
                                    .order_by(InboundRecord.id)))
