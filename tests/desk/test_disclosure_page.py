"""The public disclosure page as the public reads it: the delay in words, meta lines without a stray separator, the
title of a button a citizen pressed instead of its payload, and the city's own contacts kept by the one redactor."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

import desk.app
from desk.app import create_app
from desk.web.formatting import spelled_duration
from disclosure.public import CHOSE_AN_OPTION
from privacy import Redactor
from settings import Settings
from tests.disclosure.disclosure_support import at, report, say
from tests.support import free_port

CHOOSE = '/choose_entry{"kb_entry_id":"demo-0004"}'
OFFERED = [{"title": "When is bulky waste collected?", "payload": CHOOSE},
           {"title": "How do I book a bulky item pickup?", "payload": '/choose_entry{"kb_entry_id":"demo-0002"}'},
           {"title": "None of these", "payload": "/none_of_these"}]
FEEDBACK = [{"title": "Yes", "payload": '/feedback{"helpful":true,"kb_entry_id":"demo-0004","kb_entry_version":1}'},
            {"title": "No", "payload": '/feedback{"helpful":false,"kb_entry_id":"demo-0004","kb_entry_version":1}'}]
CITY_PHONE = "(555) 010-0311"
CITIZEN_PHONE = "303-555-0142"


class CityContactsKept(Redactor):
    """A redactor that keeps the city's published number, as the settings' allow-list of contacts will."""

    def public_text(self, text: str) -> str:
        kept = "\0CITY\0"
        return super().public_text(text.replace(CITY_PHONE, kept)).replace(kept, CITY_PHONE)


def visible(fragment: str) -> str:
    """The text a browser shows of an HTML fragment whose white space is kept (the page's pre-wrap paragraphs)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def meta_lines(page: str) -> list[str]:
    return [line for fragment in re.findall(r'<p class="meta">(.*?)</p>', page, re.DOTALL)
            for line in visible(fragment).split("\n")]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("disclosure-page"), rasa_port=free_port(),
                        disclosure_delay_hours=0)
    patch = pytest.MonkeyPatch()
    patch.setattr(desk.app, "build_redactor", lambda _settings: CityContactsKept())
    application = create_app(settings)
    with TestClient(application):
        writer = application.state.cases.transcript  # the writer every message goes through
        for role, text, meta in [
                ("citizen", "something about big trash", None),
                ("bot", "Did you mean one of these?", {"buttons": OFFERED}),
                ("citizen", CHOOSE, None),
                ("bot", "Bulky waste is collected on the first Monday. Was this helpful?", {"buttons": FEEDBACK}),
                ("citizen", FEEDBACK[0]["payload"], None),
                ("citizen", '/choose_entry{"kb_entry_id":"demo-0099"}', None),
                ("bot", f"Sorry, I can't reach city staff right now. Call {CITY_PHONE}.", None)]:
            writer.append(channel="web", conversation_id="web-buttons", author_role=role, text=text, meta=meta)
        writer.append(channel="web", conversation_id="web-none", author_role="citizen", text="where do old tvs go")
        writer.append(channel="web", conversation_id="web-none", author_role="bot", text="Did you mean one of these?",
                      meta={"buttons": OFFERED})
        writer.append(channel="web", conversation_id="web-none", author_role="citizen", text="/none_of_these")
        writer.append(channel="web", conversation_id="web-phone", author_role="citizen",
                      text=f"Call me on {CITIZEN_PHONE} about the tree")
        say(settings, at(2), "tg-plain", "citizen", "When does the pool open?")  # no department, no topic
        report(settings, at(1), "tg-pothole", "Pothole on Main Street", "pothole", answer="Fixed today.", close=True)
        yield application
    patch.undo()


@pytest.fixture(scope="module")
def public(app) -> TestClient:
    return TestClient(app)


def conversation_page(app, public: TestClient, conversation_id: str) -> str:
    response = public.get(f"/disclosure/{app.state.disclosure.pseudonym(conversation_id)}")
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(hours=24), "24 hours"), (timedelta(hours=26), "1 day 2 hours"), (timedelta(minutes=45), "45 minutes"),
    (timedelta(hours=1), "1 hour"), (timedelta(minutes=90), "1 hour 30 minutes"), (timedelta(hours=48), "2 days"),
    (timedelta(hours=49, minutes=10), "2 days 1 hour"), (timedelta(minutes=1), "1 minute"),
    (timedelta(seconds=20), "under a minute"), (timedelta(hours=0.5), "30 minutes")])
def test_durations_are_written_as_people_write_them(delta, words):
    assert spelled_duration(delta) == words


@pytest.mark.parametrize(("hours", "words"), [(24, "24 hours"), (26, "1 day 2 hours"), (0.75, "45 minutes")])
def test_the_page_tells_the_publication_delay_in_words(app, public, hours, words):
    app.state.settings.disclosure_delay_hours = hours
    try:
        page = public.get("/disclosure").text
    finally:
        app.state.settings.disclosure_delay_hours = 0
    assert f"Messages appear\n{words} after they were written" in page
    assert ".0 hours" not in page


def test_no_meta_line_has_a_separator_with_nothing_on_one_side(app, public):
    pages = [public.get("/disclosure").text] + [conversation_page(app, public, c) for c in ("tg-plain", "tg-pothole")]
    lines = [line.strip() for page in pages for line in meta_lines(page) if line.strip()]
    assert any("Pothole or damaged road" in line for line in lines)  # the richest line is among them
    for line in lines:
        assert not line.startswith("·") and not line.endswith("·"), line
        assert not re.search(r"·\s*·", line), line
    listing = public.get("/disclosure").text
    [count] = re.findall(r'<p id="count">(.*?)</p>', listing, re.DOTALL)
    assert re.fullmatch(r"\d+ conversations · page 1 of 1 · download: CSV,\s+JSON", visible(count).strip())


def test_a_pressed_button_shows_its_title_not_its_payload(app, public):
    page = conversation_page(app, public, "web-buttons")
    texts = [visible(t) for t in re.findall(r'<p class="text">(.*?)</p>', page, re.DOTALL)]
    assert texts[2] == "When is bulky waste collected?"
    assert texts[4] == "Yes"
    assert texts[5] == CHOSE_AN_OPTION  # a payload of a button never offered in this conversation
    assert "/choose_entry" not in page and "/feedback" not in page and "kb_entry_id" not in html.unescape(page)
    none_page = conversation_page(app, public, "web-none")
    assert "/none_of_these" not in none_page and "None of these" in none_page


def test_the_exports_show_the_titles_too(app, public):
    document = public.get("/api/disclosure/conversations.json").json()
    [chosen] = [c for c in document["conversations"] if c["id"] == app.state.disclosure.pseudonym("web-buttons")]
    assert [m["text"] for m in chosen["messages"] if m["author_role"] == "citizen"] == [
        "something about big trash", "When is bulky waste collected?", "Yes", CHOSE_AN_OPTION]
    assert "/choose_entry" not in public.get("/api/disclosure/conversations.csv").text


def test_the_citys_own_number_is_kept_by_the_one_redactor_and_a_citizens_is_not(app, public):
    assert CITY_PHONE in html.unescape(conversation_page(app, public, "web-buttons"))
    citizen = html.unescape(conversation_page(app, public, "web-phone"))
    assert CITIZEN_PHONE not in citizen and "[phone]" in citizen
