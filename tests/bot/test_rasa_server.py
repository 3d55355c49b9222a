"""bot/rasa_server.py: Rasa with its faster steps gives the same results as Rasa's own code."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot import rasa_server

ORIGINAL_RESOLVE = Event.resolve_by_type
rasa_server.install()


def test_an_action_response_is_checked_against_rasas_schema():
    action = RemoteAction("action_handle_message", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "case_id", "value": "A1"}],
                                           "responses": [{"text": "Hello", "buttons": []}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list", "responses": []})


def test_every_event_class_is_found_as_rasa_finds_it():
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is ORIGINAL_RESOLVE(cls.type_name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no such event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")


def test_the_sql_tracker_store_gives_back_what_it_kept_and_syncs_as_the_desk_does(tmp_path):
    domain = Domain.load("bot/domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker("web-a", domain.slots)
    for event in (UserUttered("hello", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
                  SlotSet("case_id", "A1")):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    kept = asyncio.run(store.retrieve("web-a"))
    assert kept is not None and [e.as_dict() for e in kept.events] == [e.as_dict() for e in tracker.events]
    assert kept.get_slot("case_id") == "A1"
    assert asyncio.run(store.retrieve("web-nobody")) is None
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with sqlite3.connect(tmp_path / "tracker.db") as other:  # a connection of its own keeps SQLite's default
        assert other.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
