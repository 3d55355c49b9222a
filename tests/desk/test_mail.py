"""E-mail notices from the real desk app over HTTP, to a real SMTP server (aiosmtpd); and what the inbox says about
them: a banner without an SMTP server, each notice's state on the case page ("sent", "queued: no SMTP server")."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from database import upgrade
from desk.app import create_app
from desk.web.mail_status import NO_SMTP_BANNER, mail_lines
from handoff.directory import load_directory
from handoff.service import CaseDesk
from outbox.store import fail, for_case, mark_sent, retry_later
from settings import DEMO_KB_FILE, Settings
from tests.desk.inbox_support import CSRF, PASSWORD, add_users, element, logged_in
from tests.handoff.conftest import desk_at, open_case
from tests.outbox.smtp_server import smtp_server
from tests.support import free_port
from tests.transcripts.conftest import writer_for

DUTY_OFFICER = "duty.officer@alderbrook.example"
WASTE_HEAD = "lena.kowalczyk@alderbrook.example"
PUBLIC_WORKS_HEAD = "marcus.oyelaran@alderbrook.example"
DELIVERY_S = 60  # the "Done when": within 60 s
STARTUP_S = 240
MOMENT = datetime(2026, 12, 7, 15, 32, tzinfo=UTC)


class Served:
    """The desk app served by uvicorn in a thread on a real port (127.0.0.1)."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="desk", daemon=True)

    def __enter__(self) -> Served:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the desk did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join()


def test_the_desk_delivers_an_emergencys_notice_to_the_duty_officer_and_a_new_cases_to_its_department(tmp_path):
    with smtp_server() as smtp:
        port = free_port()
        settings = Settings(data_dir=tmp_path, seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(), desk_port=port,
                            smtp_url=SecretStr(smtp.url), mail_from="Alderbrook CityDesk <desk@alderbrook.example>",
                            mail_poll_interval_s=0.5)
        with Served(create_app(settings), port) as desk, httpx.Client(base_url=desk.url, timeout=60) as http:
            internal = {"Authorization": f"Bearer {settings.resolved_internal_token}"}
            started = time.monotonic()
            emergency = http.post("/api/messages", headers=internal, json={
                "text": "I smell gas in the hallway of our building, call me at 617-555-0142",
                "conversation_id": f"web-{uuid.uuid4().hex[:8]}"})
            trash = http.post("/api/messages", headers=internal, json={
                "text": "my trash was not picked up today", "conversation_id": f"web-{uuid.uuid4().hex[:8]}",
                "intent": "report_problem"})
            assert (emergency.status_code, emergency.json()["route"]) == (200, "emergency")
            assert (trash.status_code, trash.json()["route"]) == (200, "case")
            alarm, new_case = emergency.json()["case"], trash.json()["case"]
            assert new_case["department"] == "waste"

            def arrived(mails) -> bool:
                return any(DUTY_OFFICER in m.recipients for m in mails) and \
                    any(WASTE_HEAD in m.recipients for m in mails)

            smtp.mailbox.wait_for(arrived, DELIVERY_S)
            assert time.monotonic() - started < DELIVERY_S
            [alert] = smtp.mailbox.to(DUTY_OFFICER)
            assert alert.subject.startswith(f"[CityDesk] EMERGENCY {alarm['service_request_id']} ")
            assert "> I smell gas in the hallway of our building, call me at [phone]" in alert.text
            assert "617-555-0142" not in alert.text + alert.html + alert.subject
            assert f"{desk.url}/inbox/cases/{alarm['service_request_id']}" in alert.text
            assert alert.message["From"] == "Alderbrook CityDesk <desk@alderbrook.example>"
            [notice] = smtp.mailbox.to(WASTE_HEAD)
            assert notice.subject == (f"[CityDesk] New case {new_case['service_request_id']} for Waste & Recycling: "
                                      "my trash was not picked up today")
            assert f"{desk.url}/inbox/cases/{new_case['service_request_id']}" in notice.text

            # the case page says so, over HTTP, for staff of the department
            desk.app.state.staff.add(username="wes", display_name="Wes Kowalski", password=PASSWORD, role="staff",
                                     department="waste")
            login = http.get("/inbox/login")
            assert http.post("/inbox/login", data={"username": "wes", "password": PASSWORD, "next": "/inbox",
                                                   "csrf_token": CSRF.search(login.text).group(1)}).status_code == 303
            page = http.get(f"/inbox/cases/{new_case['service_request_id']}")
            assert page.status_code == 200
            assert f"e-mail to {WASTE_HEAD}: sent " in " ".join(element(page, "mails").split())
            assert 'id="mail-banner"' not in page.text


@pytest.fixture(scope="module")
def unsent(tmp_path_factory):
    """A desk with no SMTP server configured."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("no-smtp"), rasa_port=free_port()))
    with TestClient(app):
        add_users(app.state.staff)
        yield app


def test_without_an_smtp_server_the_inbox_says_notices_stay_queued(unsent):
    case = open_case(unsent.state.cases, category="pothole", text="Pothole on Main Street",
                     conversation_id="web-unsent")
    rosa = logged_in(unsent, "rosa")
    assert element(rosa.get("/inbox"), "mail-banner") == NO_SMTP_BANNER
    page = rosa.get(f"/inbox/cases/{case.service_request_id}")
    assert element(page, "mail-banner") == NO_SMTP_BANNER
    mails = " ".join(element(page, "mails").split())
    assert mails.startswith(f"e-mail to {PUBLIC_WORKS_HEAD}: queued: no SMTP server configured")
    assert mails.endswith(f"[CityDesk] New case {case.service_request_id} for Public Works: Pothole on Main Street")


def test_each_notice_state_reads_as_staff_expect(sessions):
    cases = CaseDesk(sessions, load_directory(), "America/New_York", transcript=writer_for(sessions),
                     clock=lambda: MOMENT)
    first = open_case(cases, category="pothole", text="Pothole on Main Street", conversation_id="web-1")
    second = open_case(cases, category="missed-pickup", text="bins skipped", conversation_id="web-2")
    third = open_case(cases, category="graffiti", text="tag on the wall", conversation_id="web-3")
    [sent], [retrying], [failed] = (for_case(sessions, c.id, "email") for c in (first, second, third))
    mark_sent(sessions, sent.id, "<id@x>", MOMENT)
    retry_later(sessions, retrying.id, "SMTPConnectError: connection refused", counted=True, after_s=None,
                max_attempts=10, backoff=(5.0, 600.0), now=MOMENT)
    fail(sessions, failed.id, "550 5.1.1 No such user here", MOMENT)

    def status(case, configured: bool = True) -> tuple[str, str]:
        [line] = mail_lines(sessions, case.id, timezone="America/New_York", smtp_configured=configured)
        return line.state, line.status

    assert status(first) == ("sent", "sent Mon 7 Dec 2026, 10:32 AM EST")
    assert status(second) == ("retrying", "queued, retrying: attempt 1 failed (SMTPConnectError: connection "
                                          "refused); next try Mon 7 Dec 2026, 10:32 AM EST")
    assert status(third) == ("failed", "failed: 550 5.1.1 No such user here (after 1 attempt)")
    fourth = open_case(cases, category="noise", text="loud music", conversation_id="web-4")
    assert status(fourth, configured=False) == ("queued", "queued: no SMTP server configured")
    assert status(fourth) == ("queued", "queued")


def test_the_desk_reminds_of_a_case_near_its_deadline_when_it_starts(tmp_path):
    settings = Settings(data_dir=tmp_path, rasa_port=free_port())
    upgrade(settings.resolved_database_url)
    past = desk_at(settings, datetime.now(UTC) - timedelta(hours=2, minutes=30))  # 83 % of 3 hours used
    near = open_case(past, category="pothole", text="pothole nobody answered yet", conversation_id="web-near")
    app = create_app(settings)
    with TestClient(app):
        mails = for_case(app.state.cases.sessions, near.id, "email")
    assert [(m.conversation_id, m.text.splitlines()[0]) for m in mails] == [
        (PUBLIC_WORKS_HEAD, f"Subject: [CityDesk] New case {near.service_request_id} for Public Works"),
        (PUBLIC_WORKS_HEAD, f"Subject: [CityDesk] Reminder: {near.service_request_id} for Public Works is due "
                            f"{near.expected_datetime.astimezone(ZoneInfo(settings.city_timezone)):%Y-%m-%d %H:%M %Z}")]
    assert all(m.state == "queued" for m in mails)
