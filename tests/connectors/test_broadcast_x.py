"""An alert on the X account: its own post, a thread of numbered posts when longer, through the X channel's sender
and the real tweepy client against the local X API."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from broadcasts.render import X_MAX_CHARS
from broadcasts.service import Broadcasts
from connectors.x.client import build_client
from connectors.x.sender import XSender
from connectors.x.state import XState
from outbox.sender import OutboxSender
from privacy import Redactor
from settings import Settings
from tests.broadcasts.conftest import add_staff
from tests.fakes.x_api import FakeXApi


def test_a_long_alert_is_posted_as_a_thread_on_the_account(sessions, settings: Settings):
    add_staff(sessions, settings)
    service = Broadcasts(sessions, settings)
    alert = service.draft(template="flood", text="The Alder river is rising along the whole east bank. " * 12,
                          by="ana", channels=["x"], area="Riverside")
    service.approve(alert.id, by="ben")
    service.release(alert.id)
    expected = service.preview(service.get(alert.id)).x
    assert len(expected) > 1
    with FakeXApi() as api:
        x_settings = settings.model_copy(update={
            "x_api_key": SecretStr("k"), "x_api_secret": SecretStr("s"), "x_access_token": SecretStr("t"),
            "x_access_token_secret": SecretStr("ts"), "x_base_url": api.base_url})
        sender = OutboxSender(sessions, channel="x", deliver=XSender(
            build_client(x_settings), sessions, XState(sessions), redactor=Redactor()))
        assert asyncio.run(sender.run_once()) == 1
        posted = [t["text"] for t in api.posted_tweets]
        first = api.posted_tweets[0]
    assert posted == expected and all(len(p) <= X_MAX_CHARS for p in posted)
    assert not first.get("referenced_tweets")  # the thread starts on the account's own timeline
    assert [t["text"] for t in api.thread_from(first["id"])] == expected[1:]
    assert service.status(alert.id).as_dict()["channels"]["x"] == {"sent": 1, "failed": 0, "pending": 0}
