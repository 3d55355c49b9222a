"""Revision 0015a on a database with cases: their first answer, closing and pause are read from their history."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text

from database.migrate import alembic_config
from handoff.clock import DeadlineState, deadline_state

AT = "2026-11-23 14:00:00.000000"


def test_existing_cases_get_their_clock_from_their_history_and_the_revision_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0014")
    engine = create_engine(url)
    with engine.begin() as db:
        for number, (status, state) in enumerate([("open", "answered"), ("closed", "closed"),
                                                  ("open", "waiting_citizen")], start=1):
            db.execute(text(
                "INSERT INTO cases (id, service_request_id, description, status, state, agency_responsible, sla, "
                "requested_datetime, updated_datetime, expected_datetime, is_emergency, channel, conversation_id) "
                "VALUES (:id, :number, 'x', :status, :state, 'public-works', 'simple', :at, :at, "
                "'2026-11-23 17:00:00.000000', 0, 'web', 'web-old')"),
                {"id": number, "number": f"CD-2026-00000{number}", "status": status, "state": state, "at": AT})
        events = [(1, "replied", "2026-11-23 15:00:00.000000"), (1, "replied", "2026-11-23 18:00:00.000000"),
                  (2, "closed", "2026-11-23 19:00:00.000000"), (3, "asked_details", "2026-11-23 15:30:00.000000")]
        for case_id, kind, at in events:
            db.execute(text("INSERT INTO case_events (case_id, at, actor, kind, data) "
                            "VALUES (:case_id, :at, 'rosa', :kind, '{}')"),
                       {"case_id": case_id, "kind": kind, "at": at})
    command.upgrade(alembic_config(url), "0015a")
    with engine.connect() as db:
        rows = db.execute(text("SELECT answered_at, closed_at, paused_at, paused_seconds FROM cases ORDER BY id"))
        assert [tuple(r) for r in rows] == [
            ("2026-11-23 15:00:00.000000", None, None, 0.0),  # the first answer, not the second
            (None, "2026-11-23 19:00:00.000000", None, 0.0),
            (None, None, "2026-11-23 15:30:00.000000", 0.0)]
        assert db.execute(text("SELECT COUNT(*) FROM staff_users WHERE reviewer")).scalar() == 0
    expected = datetime(2026, 11, 23, 17, tzinfo=UTC)
    # answered in time and still open: met; closed late without an answer: missed; paused in time: paused
    assert deadline_state(expected=expected, now=datetime(2026, 11, 30, tzinfo=UTC),
                          answered_at=datetime(2026, 11, 23, 15, tzinfo=UTC), closed_at=None,
                          paused_at=None).state == DeadlineState.MET
    command.downgrade(alembic_config(url), "0014")
    with engine.connect() as db:
        columns = {row[1] for row in db.execute(text("PRAGMA table_info(cases)"))}
        assert "answered_at" not in columns and "draft_text" not in columns
    engine.dispose()
