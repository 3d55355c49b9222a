"""Rasa's own command line (`python -m bot.rasa_server run ...` takes what `rasa run ...` takes), started faster and
one step faster per message. What the supervisor, the Dockerfile and the systemd unit run as the Rasa server.

Start-up (README, "Keeping it running"; measured on 2 cores): most of it goes to importing TensorFlow and to loading
the DIET classifier, and most of that load is TensorFlow tracing the training step of the one-example `fit` that
Rasa runs only to give the layers their shapes before it reads the trained weights over them. Here that `fit` runs
eagerly (nothing traced; the weights it makes are overwritten at once), while prediction keeps its traced graph,
warmed up as before during the load. TensorFlow Lite also imports JAX when JAX is installed (TensorFlow depends on
it) only for a converter Rasa never calls; that import is skipped. Training (`rasa train`) does not go through here.

Per message (README, "Throughput"): Rasa 3.6 checks every action server response with `jsonschema.validate(result,
schema)`, which checks the schema itself and builds a new validator each time: under load that was about a seventh
of the Rasa server's time per message (py-spy). The schema is a constant, so it is checked and compiled once here; a
response is still validated the same way and refused with Rasa's own message.

Rasa also rebuilds a conversation's tracker from its stored events on every message, finding each event's class by
walking every subclass of Event: the classes are looked up by type name in a table made once instead.

Its SQL tracker store reads a conversation's stored events as their JSON column alone, not as ORM objects (a third of
that read under load, with conversations of tens of messages), and on the desk's SQLite file it commits with
`PRAGMA synchronous=NORMAL`, as the desk does (database/engine.py says why).
"""

from __future__ import annotations

import sys

# before anything imports TensorFlow (the imports below do): `import jax` fails, and TensorFlow copes
sys.modules.setdefault("jax", None)  # type: ignore[arg-type]

import json
from functools import lru_cache
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.tensorflow.models import RasaModel
from sqlalchemy import event
from sqlalchemy.engine import Engine


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      f"Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error


_resolve_by_type = Event.resolve_by_type


@lru_cache(maxsize=1)
def _event_classes() -> dict[str, type[Event]]:
    classes: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)  # the first, as Rasa's own search returns it
    return classes


def _resolve_event_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Event.resolve_by_type from the table; anything not in it (a class defined later, "topic") as Rasa does it."""
    found = _event_classes().get(type_name)
    return found if found is not None else _resolve_by_type(type_name, default)


async def _retrieve_event_data(self: SQLTrackerStore, sender_id: str,
                               fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
    """SQLTrackerStore._retrieve, with the same query selecting the events' data column only."""
    with self.session_scope() as session:
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
                                 ).with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


def _sqlite_synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_fit = RasaModel.fit


def _fit_eagerly(self: RasaModel, *args: Any, **kwargs: Any) -> Any:
    """The load-time one-example `fit`, run without tracing a graph (its weights are overwritten at once)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        return _fit(self, *args, **kwargs)
    finally:
        tf.config.run_functions_eagerly(False)


def install() -> None:
    RasaModel.fit = _fit_eagerly  # type: ignore[method-assign]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_event_by_type)  # type: ignore[method-assign,assignment]
    SQLTrackerStore._retrieve = _retrieve_event_data  # type: ignore[method-assign]
    event.listen(Engine, "connect", _sqlite_synchronous_normal)


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    main()
