"""`citydesk broadcast draft|approve|send|status|cap|cancel|subscribe` on a temporary data folder."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from desk.cli import app
from tests.broadcasts.cap_schema import assert_valid_cap
from tests.desk.conftest import flat

PASSWORD = "a long enough password"


@pytest.fixture
def runner(runner, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    for username, role in (("ana", "supervisor"), ("ben", "broadcaster")):
        result = runner.invoke(app, ["staff", "add", username, "--name", username.title(), "--role", role,
                                     "--password-env", "STAFF_PASSWORD"])
        assert result.exit_code == 0, result.output
    return runner


def status(runner, alert_id: int) -> dict:
    result = runner.invoke(app, ["broadcast", "status", str(alert_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[-1])


def test_draft_approve_send_status_cap_cancel(runner):
    for address in ("tg-11", "tg-12", "web-abc"):
        assert runner.invoke(app, ["broadcast", "subscribe", address]).exit_code == 0
    drafted = runner.invoke(app, ["broadcast", "draft", "--template", "water-outage", "--text",
                                  "No water until 18:00 while a main is repaired.", "--area", "Northside",
                                  "--channels", "telegram,web", "--by", "ana", "--json"])
    assert drafted.exit_code == 0, drafted.output
    alert_id = json.loads(drafted.stdout.splitlines()[-1])["id"]

    own = runner.invoke(app, ["broadcast", "approve", str(alert_id), "--by", "ana"])
    assert own.exit_code == 1
    assert "ana drafted alert" in flat(own.output) and "cannot approve it" in flat(own.output)
    refused = runner.invoke(app, ["broadcast", "send", str(alert_id), "--no-wait"])
    assert refused.exit_code == 1 and "only an approved alert is sent" in flat(refused.output)
    assert status(runner, alert_id)["channels"] == {"telegram": {"sent": 0, "failed": 0, "pending": 0},
                                                   "web": {"sent": 0, "failed": 0, "pending": 0}}

    approved = runner.invoke(app, ["broadcast", "approve", str(alert_id), "--by", "ben"])
    assert approved.exit_code == 0, approved.output
    sent = runner.invoke(app, ["broadcast", "send", str(alert_id), "--no-wait"])
    assert sent.exit_code == 0, sent.output
    assert flat(sent.output) == f"Alert {alert_id}: 3 messages (2 telegram, 1 web queued now)."
    assert status(runner, alert_id) == {"id": alert_id, "state": "released", "channels": {
        "telegram": {"sent": 0, "failed": 0, "pending": 2}, "web": {"sent": 0, "failed": 0, "pending": 1}}}

    cap = runner.invoke(app, ["broadcast", "cap", str(alert_id)])
    assert cap.exit_code == 0
    root = assert_valid_cap(cap.stdout.encode())
    assert etree.QName(root).localname == "alert"

    cancelled = runner.invoke(app, ["broadcast", "cancel", str(alert_id), "--by", "ben"])
    assert cancelled.exit_code == 0, cancelled.output
    cancel_id = int(cancelled.stdout.splitlines()[-1])
    assert status(runner, cancel_id)["channels"]["telegram"]["pending"] == 2
    cancel_cap = assert_valid_cap(runner.invoke(app, ["broadcast", "cap", str(cancel_id)]).stdout.encode())
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert cancel_cap.findtext("cap:msgType", namespaces=ns) == "Cancel"
    assert root.findtext("cap:identifier", namespaces=ns) in cancel_cap.findtext("cap:references", namespaces=ns)


def test_a_staff_member_without_the_role_cannot_draft(runner):
    runner.invoke(app, ["staff", "add", "carl", "--name", "Carl", "--department", "waste",
                        "--password-env", "STAFF_PASSWORD"])
    result = runner.invoke(app, ["broadcast", "draft", "--template", "flood", "--text", "x", "--by", "carl"])
    assert result.exit_code == 1 and "only supervisors and broadcasters" in flat(result.output)
    unknown = runner.invoke(app, ["broadcast", "draft", "--template", "tsunami", "--text", "x", "--by", "ana"])
    assert unknown.exit_code == 1 and "there is no template 'tsunami'" in flat(unknown.output)


def test_the_web_chat_subscribes_and_unsubscribes_without_the_assistant(client):
    """Rasa's port points at nothing here: the commands are answered by the pipeline itself."""
    from sqlalchemy import select

    from broadcasts.models import Subscription

    subscribed = client.post("/api/chat", json={"sender": "web-alerts", "message": "/subscribe area Old Town"})
    assert subscribed.status_code == 200
    assert [r["text"] for r in subscribed.json()] == [
        "You will receive emergency alerts for Old Town (and city-wide ones) here. /unsubscribe to stop."]
    with client.app.state.sessions() as session:
        [row] = session.scalars(select(Subscription).where(Subscription.address == "web-alerts"))
        assert (row.channel, row.area, row.removed_at) == ("web", "old town", None)
    stopped = client.post("/api/chat", json={"sender": "web-alerts", "message": "/unsubscribe"})
    assert stopped.json()[0]["text"].startswith("You will no longer receive emergency alerts here.")
