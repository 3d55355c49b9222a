"""Several X accounts in one connector: each account's mentions and DMs are its own conversations, recorded with the
account, and answered from that account (the local X API tells the accounts apart by their OAuth access tokens)."""

from __future__ import annotations

import asyncio

import pytest

from connectors.x.app import XConnector, build_connector
from settings import Settings
from tests.connectors.pipeline_support import inbound, outbox
from tests.fakes.x_api import FakeXApi

CITIZEN = "4242"
CITY, TRANSPORT = "1000", "2000"
ACCOUNTS = """
accounts:
  - name: x
    channel: x
    display_name: "@CityOfAlderbrook"
    credentials: {api_key: X_KEY, api_secret: X_SECRET, access_token: X_CITY_TOKEN, access_token_secret: X_CITY_TS}
  - name: transport-x
    channel: x
    display_name: "@AlderbrookTransit"
    department: transit
    credentials: {api_key: X_KEY, api_secret: X_SECRET, access_token: X_TRANSPORT_TOKEN,
                  access_token_secret: X_TRANSPORT_TS}
"""


@pytest.fixture
def fake():
    with FakeXApi(account_id=CITY, access_token="city-token") as api:
        api.add_account(TRANSPORT, "AlderbrookTransit", access_token="transport-token")
        api.add_user(CITIZEN, "alice")
        yield api


@pytest.fixture
def settings(tmp_path, db_url, rasa, fake, monkeypatch) -> Settings:
    for name, value in {"X_KEY": "key", "X_SECRET": "secret", "X_CITY_TOKEN": "city-token", "X_CITY_TS": "s1",
                        "X_TRANSPORT_TOKEN": "transport-token", "X_TRANSPORT_TS": "s2"}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "accounts.yml").write_text(ACCOUNTS, encoding="utf-8")
    return Settings(data_dir=tmp_path, database_url=db_url, rasa_port=int(rasa.url.rsplit(":", 1)[1]),
                    x_base_url=fake.base_url, accounts_file=tmp_path / "accounts.yml")


def poll_and_deliver(settings: Settings) -> None:
    async def main() -> None:
        connector: XConnector = await build_connector(settings)
        try:
            for poller in connector.pollers:
                await poller.poll_once()
            while await connector.sender.run_once():
                pass
        finally:
            await connector.pipeline.aclose()

    asyncio.run(main())


def test_each_account_answers_its_own_mentions_and_direct_messages(settings, fake, sessions, rasa):
    to_city = fake.mention(CITIZEN, "when is bulk pickup?")
    to_transport = fake.mention(CITIZEN, "is the 4 bus late?", account_id=TRANSPORT)
    fake.send_dm(CITIZEN, "my bus pass is broken", account_id=TRANSPORT)
    poll_and_deliver(settings)
    assert [t["text"] for t in fake.replies_to(to_city)] == ["You said: when is bulk pickup?"]
    assert [t["text"] for t in fake.replies_to(to_transport)] == ["You said: is the 4 bus late?"]
    assert [t["author_id"] for t in fake.replies_to(to_transport)] == [TRANSPORT]
    assert [t["author_id"] for t in fake.replies_to(to_city)] == [CITY]
    assert fake.dms_to(CITIZEN, sender_id=TRANSPORT) == ["You said: my bus pass is broken"]
    assert fake.dms_to(CITIZEN, sender_id=CITY) == []
    assert [(r.account, r.text) for r in inbound(sessions, f"x-{CITIZEN}@transport-x")] == [
        ("transport-x", "is the 4 bus late?"), ("transport-x", "my bus pass is broken")]
    assert [r.account for r in outbox(sessions, f"x-{CITIZEN}@transport-x")] == ["transport-x", "transport-x"]
    assert [r.account for r in inbound(sessions, f"x-{CITIZEN}")] == ["x"]
    poll_and_deliver(settings)  # a restart: each account's position is its own, nothing is answered twice
    assert len(fake.posted_tweets) == 2 and len(fake.sent_dms) == 1
    assert sorted(r["sender"] for r in rasa.received) == [f"x-{CITIZEN}", f"x-{CITIZEN}@transport-x",
                                                          f"x-{CITIZEN}@transport-x"]
