"""Several Telegram accounts in one connector process: each bot's chats are their own conversations, recorded with
their account, and every answer (the assistant's and staff's) leaves from the bot the citizen wrote to."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from connectors.models import InboundRecord
from connectors.telegram.webhook import SECRET_HEADER
from outbox.store import enqueue
from settings import Settings
from tests.connectors.pipeline_support import inbound, outbox, transcript
from tests.connectors.telegram_support import running_connector
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import free_port

CHAT = 5550001
ACCOUNTS = """
accounts:
  - {name: telegram, channel: telegram, display_name: Alderbrook City, credentials: {token: TG_CITY_TOKEN}}
  - name: transport
    channel: telegram
    display_name: Alderbrook Transport
    credentials: {token: TG_TRANSPORT_TOKEN, webhook_secret: TG_TRANSPORT_SECRET}
    department: transport
"""


@pytest.fixture
def city():
    with FakeTelegramApi(token="111:CITY", username="alderbrook_city_bot") as api:
        yield api


@pytest.fixture
def transport(city) -> FakeTelegramApi:
    return city.add_bot("222:TRANSPORT", "alderbrook_transport_bot", bot_id=777000222)


@pytest.fixture
def settings(tmp_path, db_url, rasa, city, transport, monkeypatch) -> Settings:
    monkeypatch.setenv("TG_CITY_TOKEN", city.token)
    monkeypatch.setenv("TG_TRANSPORT_TOKEN", transport.token)
    monkeypatch.setenv("TG_TRANSPORT_SECRET", "transport-secret")
    (tmp_path / "accounts.yml").write_text(ACCOUNTS, encoding="utf-8")
    return Settings(data_dir=tmp_path, database_url=db_url, rasa_port=int(rasa.url.rsplit(":", 1)[1]),
                    telegram_base_url=city.bot_base_url, accounts_file=tmp_path / "accounts.yml")


def test_each_bot_answers_its_own_chats_from_one_process(settings, city, transport, sessions, rasa):
    with running_connector(settings):
        # the same chat writes to both bots, and both bots number their first update 1
        city.send_text(CHAT, "When is bulk pickup?")
        transport.send_text(CHAT, "Is the 4 bus running late?")
        assert city.wait_for(lambda: city.sent and transport.sent, timeout=30)
    assert [m.text for m in city.sent_to(CHAT)] == ["You said: When is bulk pickup?"]
    assert [m.text for m in transport.sent_to(CHAT)] == ["You said: Is the 4 bus running late?"]
    assert sorted(r["sender"] for r in rasa.received) == [f"tg-{CHAT}", f"tg-{CHAT}@transport"]
    assert {r["sender"]: r["metadata"]["account"] for r in rasa.received} == {
        f"tg-{CHAT}": "telegram", f"tg-{CHAT}@transport": "transport"}
    [city_in], [transport_in] = inbound(sessions, f"tg-{CHAT}"), inbound(sessions, f"tg-{CHAT}@transport")
    assert (city_in.account, city_in.platform_message_id) == ("telegram", "1")
    assert (transport_in.account, transport_in.platform_message_id) == ("transport", "1@transport")
    assert [(r.author_role, r.account) for r in transcript(sessions, f"tg-{CHAT}@transport")] == [
        ("citizen", "transport"), ("bot", "transport")]
    assert [row.account for row in outbox(sessions, f"tg-{CHAT}@transport")] == ["transport"]


def test_a_staff_answer_leaves_from_the_account_of_its_row(settings, city, transport, sessions):
    with sessions.begin() as session:
        enqueue(session, key="event-1", channel="telegram", conversation_id=f"tg-{CHAT}@transport",
                text="CD-2026-000001: the shelter is repaired.", now=datetime.now(UTC), account="transport")
        enqueue(session, key="event-2", channel="telegram", conversation_id=f"tg-{CHAT}",
                text="CD-2026-000002: the pothole was filled.", now=datetime.now(UTC))  # from before accounts
    with running_connector(settings):
        assert city.wait_for(lambda: city.sent and transport.sent, timeout=30)
    assert [m.text for m in transport.sent] == ["CD-2026-000001: the shelter is repaired."]
    assert [m.text for m in city.sent] == ["CD-2026-000002: the pothole was filled."]


def test_webhook_mode_serves_each_account_at_its_own_path_with_its_own_secret(settings, city, transport, sessions,
                                                                             rasa):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = settings.model_copy(update={"telegram_webhook_url": url, "telegram_webhook_port": port,
                                           "telegram_webhook_secret": SecretStr("city-secret")})
    with running_connector(settings, ready_url=f"http://127.0.0.1:{port}/"):
        assert city.webhook["url"] == url and city.webhook["secret_token"] == "city-secret"
        assert transport.webhook["url"] == f"{url}/transport"
        assert transport.webhook["secret_token"] == "transport-secret"
        wrong = httpx.post(f"{url}/transport", json=transport.build_text_update(CHAT, "hi"),
                           headers={SECRET_HEADER: "city-secret"})
        assert wrong.status_code == 403
        right = httpx.post(f"{url}/transport", json=transport.build_text_update(CHAT, "Is line 4 running?"),
                           headers={SECRET_HEADER: "transport-secret"})
        assert right.status_code == 200
        assert transport.wait_for(lambda: transport.sent, timeout=30)
    assert [m.text for m in transport.sent] == ["You said: Is line 4 running?"]
    assert city.sent == []
    with sessions() as session:
        assert session.scalars(select(InboundRecord.account)).all() == ["transport"]
