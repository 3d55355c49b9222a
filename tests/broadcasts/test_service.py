"""The procedure without the connectors: two people, exercise, recipients, update and cancel, CAP 1.2, Atom."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from broadcasts.cap import NAMESPACE
from broadcasts.feed import atom_feed
from broadcasts.models import AlertState, MsgType
from broadcasts.render import THREAD_SEPARATOR, X_MAX_CHARS
from broadcasts.service import X_TIMELINE, BroadcastError, SelfApproval, cap_of, key_prefix
from handoff.audit import AuditEntry
from outbox import OutboxMessage
from tests.broadcasts.cap_schema import assert_valid_cap
from tests.broadcasts.conftest import add_subscribers

CAP = {"cap": NAMESPACE}


def rows(sessions, alert_id: int) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(r.channel, r.conversation_id, r.text, r.account) for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like(f"{key_prefix(alert_id)}%"))
            .order_by(OutboxMessage.id))]


def released(service, **draft) -> int:
    alert = service.draft(by="ana", **{"template": "flood", "text": "The river is rising.", **draft})
    service.approve(alert.id, by="ben")
    service.release(alert.id)
    return alert.id


def test_nobody_approves_their_own_alert_and_the_refusal_is_audited(service, sessions):
    alert = service.draft(template="heat-wave", text="38 degrees from Tuesday.", by="ana")
    with pytest.raises(SelfApproval, match=r"ana drafted alert \d+ and cannot approve it"):
        service.approve(alert.id, by="ana")
    with pytest.raises(BroadcastError, match="only an approved alert is sent"):
        service.release(alert.id)
    with pytest.raises(BroadcastError, match="carl is a staff"):
        service.approve(alert.id, by="carl")
    assert service.get(alert.id).state == AlertState.DRAFT
    approved = service.approve(alert.id, by="ben")
    assert (approved.state, approved.approved_by) == (AlertState.APPROVED, "ben")
    assert [(e.actor, e.action) for e in service.timeline(alert.id)] == [
        ("ana", "broadcast.drafted"), ("ana", "broadcast.approval_refused"), ("ben", "broadcast.approved")]


ACCOUNTS = """
accounts:
  - {name: telegram, channel: telegram, display_name: Alderbrook, broadcast_chat: "-100123"}
  - {name: transport, channel: telegram, display_name: Alderbrook Transport}
  - {name: parks, channel: telegram, display_name: Alderbrook Parks, broadcasts: false}
  - {name: x, channel: x, display_name: "@alderbrook"}
  - {name: web, channel: web, display_name: Web chat}
"""


def test_an_alert_reaches_subscribers_of_its_topic_area_and_accounts_once_and_the_accounts_posts(
        service, sessions, settings, tmp_path):
    settings.accounts_file = tmp_path / "accounts.yml"
    settings.accounts_file.write_text(ACCOUNTS, encoding="utf-8")
    add_subscribers(sessions, "telegram", ["tg-1", "tg-2", "tg-7@transport", "tg-8@parks"])
    add_subscribers(sessions, "telegram", ["tg-1"], topic="flood")  # twice subscribed: one message
    add_subscribers(sessions, "telegram", ["tg-3"], topic="heat-wave")
    add_subscribers(sessions, "telegram", ["tg-4"], area="Riverside")
    add_subscribers(sessions, "telegram", ["tg-5"], area="Hilltop")
    add_subscribers(sessions, "web", ["web-a"])
    alert_id = released(service, area="Riverside")
    assert service.get(alert_id).channels == ["telegram", "transport", "x", "web"]  # parks carries no broadcasts
    got = rows(sessions, alert_id)
    assert sorted((c, a, n) for c, a, _, n in got) == [
        ("telegram", "tg--100123", "telegram"), ("telegram", "tg-1", "telegram"), ("telegram", "tg-2", "telegram"),
        ("telegram", "tg-4", "telegram"), ("telegram", "tg-7@transport", "transport"), ("web", "web-a", "web"),
        ("x", X_TIMELINE, "x")]
    x_text = next(t for c, _, t, _ in got if c == "x")
    assert all(len(post) <= X_MAX_CHARS for post in x_text.split(THREAD_SEPARATOR))
    assert service.release(alert_id) == {}
    status = service.status(alert_id).as_dict()
    assert status["channels"] == {"telegram": {"sent": 0, "failed": 0, "pending": 5},
                                  "web": {"sent": 0, "failed": 0, "pending": 1},
                                  "x": {"sent": 0, "failed": 0, "pending": 1}}
    only_transport = released(service, channels=["transport"], template="road-closure", text="Bus 4 diverted.")
    assert [(a, n) for _, a, _, n in rows(sessions, only_transport)] == [("tg-7@transport", "transport")]


def test_a_long_alert_becomes_an_x_thread_and_fits_telegram(service, sessions):
    alert_id = released(service, text="Water is rising along the river. " * 40, channels=["x", "telegram"])
    preview = service.preview(service.get(alert_id))
    assert len(preview.x) > 1 and all(len(p) <= X_MAX_CHARS for p in preview.x)
    assert preview.x[0].endswith(f"(1/{len(preview.x)})")
    assert len(preview.telegram) <= 4096


def test_an_exercise_reaches_only_test_recipients_and_says_so(service, sessions):
    add_subscribers(sessions, "telegram", ["tg-1", "tg-2"])
    add_subscribers(sessions, "telegram", ["tg-9"], test=True)
    alert_id = released(service, exercise=True)
    got = rows(sessions, alert_id)
    assert [(c, a) for c, a, _, _ in got] == [("telegram", "tg-9")]
    assert got[0][2].startswith("[EXERCISE]") and "This is an exercise" in got[0][2]
    root = assert_valid_cap(cap_of(service, alert_id))
    assert root.findtext("cap:status", namespaces=CAP) == "Exercise"
    assert service.banners() == []


def test_update_and_cancel_go_to_everyone_who_got_the_alert_and_reference_it(service, sessions):
    add_subscribers(sessions, "telegram", ["tg-1", "tg-2"])
    alert_id = released(service, channels=["telegram"])
    add_subscribers(sessions, "telegram", ["tg-3"])  # subscribed after: gets neither the update nor the cancel
    update = service.update(alert_id, text="The water has reached Main Street.", by="ben")
    with pytest.raises(SelfApproval):
        service.approve(update.id, by="ben")
    service.approve(update.id, by="ana")
    service.release(update.id)
    assert [a for _, a, _, _ in rows(sessions, update.id)] == ["tg-1", "tg-2"]
    assert all(t.startswith("UPDATE to the alert of") for _, _, t, _ in rows(sessions, update.id))
    cancel = service.cancel(alert_id, by="ana", text="The river is back within its banks.")
    assert cancel.msg_type == MsgType.CANCEL and cancel.references_id == alert_id
    assert [a for _, a, _, _ in rows(sessions, cancel.id)] == ["tg-1", "tg-2"]
    assert service.get(alert_id).state == AlertState.CANCELLED
    original = assert_valid_cap(cap_of(service, alert_id))
    sender = original.findtext("cap:sender", namespaces=CAP)
    reference = f"{sender},{original.findtext('cap:identifier', namespaces=CAP)}," \
                f"{original.findtext('cap:sent', namespaces=CAP)}"
    for alert, msg_type in ((update, "Update"), (cancel, "Cancel")):
        root = assert_valid_cap(cap_of(service, alert.id))
        assert root.findtext("cap:msgType", namespaces=CAP) == msg_type
        assert root.findtext("cap:references", namespaces=CAP) == reference
    with pytest.raises(BroadcastError, match="cancelled already"):
        service.cancel(alert_id, by="ben")
    with sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).where(
            AuditEntry.subject == f"alert {alert_id}").order_by(AuditEntry.id))]
    assert actions == ["broadcast.drafted", "broadcast.approved", "broadcast.released", "broadcast.update_drafted",
                       "broadcast.update_released", "broadcast.cancelled", "broadcast.cancel_released"]


def test_every_template_exports_valid_cap_with_the_issue_fields(service):
    for template in service.templates():
        alert_id = released(service, template=template, area="Old Town", channels=["web"])
        root = assert_valid_cap(cap_of(service, alert_id))
        assert root.findtext("cap:status", namespaces=CAP) == "Actual"
        assert root.findtext("cap:msgType", namespaces=CAP) == "Alert"
        assert root.findtext("cap:scope", namespaces=CAP) == "Public"
        info = root.find("cap:info", CAP)
        for name in ("category", "event", "urgency", "severity", "certainty", "headline", "description"):
            assert info.findtext(f"cap:{name}", namespaces=CAP), name
        assert info.findtext("cap:area/cap:areaDesc", namespaces=CAP) == "Old Town"


def test_a_draft_cancelled_before_approval_sends_nothing(service, sessions):
    add_subscribers(sessions, "telegram", ["tg-1"])
    alert = service.draft(template="flood", text="Maybe.", by="ana")
    assert service.cancel(alert.id, by="ben").id == alert.id
    assert service.get(alert.id).state == AlertState.CANCELLED and rows(sessions, alert.id) == []


def test_the_atom_feed_lists_released_public_alerts(service, settings):
    alert_id = released(service, channels=["web"])
    feed = etree.fromstring(atom_feed(service.alerts(public=True), title="Alderbrook alerts",
                                      base_url="http://desk.example", now=service.clock()))
    atom = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.findtext("a:id", namespaces=atom) for e in feed.findall("a:entry", atom)] == [
        f"http://desk.example/alerts/{alert_id}"]
    assert [b.id for b in service.banners()] == [alert_id]
