"""Several accounts per channel through the whole assistant (real Rasa, actions and desk): a message to the transport
account on Telegram and on X is answered from that account and its case goes to the account's default department
(Transit); the desk's staff answer leaves from the same account. The local Bot API and X API serve both accounts."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

import database
from connectors.x.app import build_connector as build_x_connector
from desk.bot_model import ensure_trained
from desk.stack import Stack
from handoff.directory import load_directory
from handoff.models import Case
from handoff.service import Actor, CaseDesk
from settings import DEMO_KB_FILE, Settings
from tests.connectors.telegram_support import running_connector
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.x_api import FakeXApi
from tests.support import free_port
from tests.transcripts.conftest import writer_for

pytestmark = pytest.mark.e2e

CHAT, CITIZEN = 8001, "8002"
SUGGESTION = "i propose a car free day once a month downtown"
ACCOUNTS = """
accounts:
  - {name: telegram, channel: telegram, display_name: Alderbrook City, credentials: {token: TG_CITY_TOKEN}}
  - name: transport
    channel: telegram
    display_name: Alderbrook Transit
    department: transit
    credentials: {token: TG_TRANSPORT_TOKEN}
  - name: x
    channel: x
    display_name: "@CityOfAlderbrook"
    credentials: {api_key: X_KEY, api_secret: X_SECRET, access_token: X_CITY_TOKEN, access_token_secret: X_TS}
  - name: transport-x
    channel: x
    display_name: "@AlderbrookTransit"
    department: transit
    credentials: {api_key: X_KEY, api_secret: X_SECRET, access_token: X_TRANSPORT_TOKEN, access_token_secret: X_TS}
"""
ENV = {"TG_CITY_TOKEN": "111:CITY", "TG_TRANSPORT_TOKEN": "222:TRANSPORT", "X_KEY": "key", "X_SECRET": "secret",
       "X_CITY_TOKEN": "city-token", "X_TRANSPORT_TOKEN": "transport-token", "X_TS": "token-secret"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The stack with the accounts file: the desk routes by it."""
    folder = tmp_path_factory.mktemp("accounts-stack")
    (folder / "accounts.yml").write_text(ACCOUNTS, encoding="utf-8")
    settings = Settings(data_dir=folder, seed_kb_file=DEMO_KB_FILE, internal_token=None, desk_port=free_port(),
                        rasa_port=free_port(), action_port=free_port(), accounts_file=folder / "accounts.yml")
    ensure_trained(settings)
    with Stack(settings, connectors=()) as running:
        yield running


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def sessions(stack):
    return database.session_factory(database.create_db_engine(stack.settings.resolved_database_url))


def case_of(sessions, conversation_id: str) -> Case:
    with sessions() as session:
        return session.scalars(select(Case).where(Case.conversation_id == conversation_id)).one()


def test_a_telegram_message_to_the_transport_account_is_answered_from_it_and_routed_to_transit(stack, sessions):
    with FakeTelegramApi(token=ENV["TG_CITY_TOKEN"]) as city:
        transport = city.add_bot(ENV["TG_TRANSPORT_TOKEN"], "alderbrook_transit_bot", bot_id=777000222)
        settings = stack.settings.model_copy(update={"telegram_base_url": city.bot_base_url})
        with running_connector(settings):
            transport.send_text(CHAT, SUGGESTION)
            assert transport.wait_for(lambda: transport.sent_to(CHAT), timeout=180)
            case = case_of(sessions, f"tg-{CHAT}@transport")
            assert case.service_request_id in "\n".join(m.text for m in transport.sent_to(CHAT))
            assert (case.account, case.agency_responsible, case.routing_reason) == (
                "transport", "transit", "default department of account transport")
            desk = CaseDesk(sessions, load_directory(stack.settings.directory_file), stack.settings.city_timezone,
                            transcript=writer_for(sessions))
            desk.reply(service_request_id=case.service_request_id, actor=Actor("sam", role="supervisor"),
                       text="Sunday service grows in May.")
            assert transport.wait_for(lambda: any("Sunday service grows" in m.text for m in transport.sent), 60)
        assert city.sent == []  # nothing left from the city's main bot


def test_an_x_mention_of_the_transport_account_is_answered_from_it_and_routed_to_transit(stack, sessions):
    with FakeXApi(account_id="1000", access_token=ENV["X_CITY_TOKEN"]) as fake:
        fake.add_account("2000", "AlderbrookTransit", access_token=ENV["X_TRANSPORT_TOKEN"])
        fake.add_user(CITIZEN, "alice")
        mention = fake.mention(CITIZEN, SUGGESTION, account_id="2000")
        settings = stack.settings.model_copy(update={"x_base_url": fake.base_url})

        async def poll_and_deliver() -> None:
            connector = await build_x_connector(settings)
            try:
                for poller in connector.pollers:
                    await poller.poll_once()
                while await connector.sender.run_once():
                    pass
            finally:
                await connector.pipeline.aclose()

        asyncio.run(poll_and_deliver())
        case = case_of(sessions, f"x-{CITIZEN}@transport-x")
        assert (case.account, case.agency_responsible) == ("transport-x", "transit")
        answers = fake.replies_to(mention) + [{"text": t, "author_id": "2000"}
                                              for t in fake.dms_to(CITIZEN, sender_id="2000")]
        assert answers and {a["author_id"] for a in answers} == {"2000"}
        assert case.service_request_id in "\n".join(a["text"] for a in answers)
        assert fake.posted_by("1000") == [] and fake.dms_to(CITIZEN, sender_id="1000") == []
