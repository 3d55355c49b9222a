"""The inbox filters by the city's account a case was written to; the channel's default account also has the cases
from before accounts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.models import InboundRecord
from desk.app import create_app
from handoff.directory import SLA
from handoff.routing import route_case
from handoff.service import CaseDesk
from settings import Settings
from tests.desk.inbox_support import add_users, element, logged_in
from tests.support import free_port
from transcripts.models import TranscriptRecord

ROWS = re.compile(r'<tr class="case[^"]*" data-case="([^"]+)"')
ACCOUNTS = """
accounts:
  - {name: telegram, channel: telegram, display_name: Alderbrook City}
  - {name: transport, channel: telegram, display_name: Alderbrook Transit, department: transit}
  - {name: web, channel: web, display_name: Web chat}
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inbox-accounts")
    (folder / "accounts.yml").write_text(ACCOUNTS, encoding="utf-8")
    application = create_app(Settings(data_dir=folder, rasa_port=free_port(), accounts_file=folder / "accounts.yml"))
    with TestClient(application):
        add_users(application.state.staff)
        cases: CaseDesk = application.state.cases

        def file(text: str, channel: str, conversation: str, account: str | None) -> str:
            assignment = route_case(directory=cases.directory, entry_matches=[("Public Works", 0.9)])
            return cases.open_case(description=text, channel=channel, conversation_id=conversation, sla=SLA.SIMPLE,
                                   assignment=assignment, account=account).service_request_id

        yield {"app": application, "old": file("Pothole before accounts", "telegram", "tg-1", None),
               "city": file("Pothole on Elm", "telegram", "tg-2", "telegram"),
               "transport": file("Pothole at the bus stop", "telegram", "tg-3@transport", "transport"),
               "web": file("Pothole on Oak", "web", "web-4", "web")}


def test_a_supervisor_filters_the_inbox_by_account(desk):
    sam = logged_in(desk["app"], "sam")
    assert ROWS.findall(sam.get("/inbox?account=transport").text) == [desk["transport"]]
    assert sorted(ROWS.findall(sam.get("/inbox?account=telegram").text)) == sorted([desk["old"], desk["city"]])
    assert ROWS.findall(sam.get("/inbox?account=web&q=pothole").text) == [desk["web"]]
    everything = sam.get("/inbox")
    assert len(ROWS.findall(everything.text)) == 4
    assert '<option value="transport">Alderbrook Transit (telegram)</option>' in everything.text
    assert element(sam.get("/inbox?account=transport"), "matches").startswith("1 case matches; showing 1 to 1.")
    unknown = sam.get("/inbox?account=parks")
    assert unknown.status_code == 400 and "There is no account &#39;parks&#39;" in unknown.text
    assert len(ROWS.findall(unknown.text)) == 4


def test_the_web_chat_records_its_account(desk):
    client = TestClient(desk["app"])
    assert client.post("/api/chat", json={"sender": "web-acc-1", "message": "hello", "message_id": "m1"}).status_code \
        == 200  # the assistant is not running: kept, answered later
    with desk["app"].state.sessions() as session:
        record = session.scalars(select(InboundRecord).where(InboundRecord.conversation_id == "web-acc-1")).one()
        [citizen] = session.scalars(select(TranscriptRecord).where(
            TranscriptRecord.conversation_id == "web-acc-1")).all()
    assert (record.account, citizen.account) == ("web", "web")
