"""The public view: published after the delay, under pseudonyms, filtered, searched, paged and exported."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from database import create_db_engine, session_factory
from disclosure.export import CSV_COLUMNS, csv_chunks, json_chunks
from disclosure.public import Disclosure, DisclosureError, DisclosureFilter, build_disclosure, make_filter
from disclosure.staff_review import TranscriptDesk
from handoff.directory import load_directory
from handoff.service import Actor
from knowledge_base.store import EntryRow
from settings import Settings
from tests.disclosure.disclosure_support import at, report, say
from tests.privacy.conftest import REDACTOR


def disclosure(settings: Settings, sessions, delay_hours: float = 24) -> Disclosure:
    settings.disclosure_delay_hours = delay_hours
    return build_disclosure(settings, sessions, load_directory(settings.directory_file), REDACTOR)


def seed(settings: Settings) -> dict[str, str]:
    """Four conversations, one of each status, a few days old; returns their conversation ids by status."""
    engine = create_db_engine(settings.resolved_database_url)
    with session_factory(engine).begin() as session:  # the entry that answers tg-100 names its department
        session.add(EntryRow(id="demo-0004", question="When is bulky waste collected?", answer="First Monday.",
                             department="Waste & Recycling", topic="Bulky items", updated_at=at(9)))
    engine.dispose()
    say(settings, at(5), "tg-100", "citizen", "When is the bulky waste pickup?")
    say(settings, at(5, seconds=-2), "tg-100", "bot", "Bulky waste is collected on the first Monday.",
        entry_id="demo-0004")
    report(settings, at(4), "tg-200", "Huge pothole on Elm Street, my tire burst", "pothole")
    report(settings, at(3), "tg-300", "My recycling bin was skipped again", "missed-pickup",
           answer="Sorry, the truck comes back tomorrow.")
    report(settings, at(2), "tg-400", "Another pothole on Pine Road", "pothole", answer="Fixed today.", close=True)
    return {"answered_automatically": "tg-100", "case_open": "tg-200", "case_answered": "tg-300",
            "closed": "tg-400"}


def test_records_younger_than_the_delay_are_not_published(settings, sessions):
    say(settings, at(days=0, hours=25), "tg-old", "citizen", "Is the pool open on Sundays?")
    say(settings, at(days=0, hours=1), "tg-old", "bot", "Yes, from 9 to 5.")
    say(settings, at(days=0, minutes=5), "tg-fresh", "citizen", "Is the library open today?")
    public = disclosure(settings, sessions, delay_hours=24)
    old = public.conversation(public.pseudonym("tg-old"))
    assert [m.text for m in old.messages] == ["Is the pool open on Sundays?"]
    assert public.conversation(public.pseudonym("tg-fresh")) is None
    assert [s.id for s in public.summaries()] == [public.pseudonym("tg-old")]
    assert [m.role for m in disclosure(settings, sessions, 0).conversation(public.pseudonym("tg-fresh")).messages] \
        == ["citizen"]
    assert Settings().disclosure_delay_hours == 24


def test_conversations_are_published_under_a_stable_pseudonym_never_the_platform_id(settings, sessions):
    ids = seed(settings)
    public = disclosure(settings, sessions)
    again = disclosure(settings, sessions)
    exported = "".join(csv_chunks(public.stream())) + "".join(json_chunks(public.stream(), {}))
    for conversation_id in ids.values():
        assert conversation_id not in exported
        assert public.pseudonym(conversation_id) == again.pseudonym(conversation_id)
        assert public.pseudonym(conversation_id) in exported
    assert len({public.pseudonym(c) for c in ids.values()}) == 4
    assert public.conversation("tg-100") is None  # the raw id does not open a conversation


def test_each_status_and_the_pending_case_with_its_expected_date(settings, sessions):
    ids = seed(settings)
    public = disclosure(settings, sessions)
    by_status = {s.status: s for s in public.summaries()}
    assert {status: s.conversation_id for status, s in by_status.items()} == ids
    pending = by_status["case_open"].open_case
    assert pending is not None and pending.department == "public-works"
    assert pending.category == "Pothole or damaged road"
    assert by_status["closed"].open_case is None
    for status, conversation_id in ids.items():
        assert [s.conversation_id for s in public.summaries(DisclosureFilter(status=status))] == [conversation_id]


def test_filters_by_department_topic_date_and_text(settings, sessions):
    ids = seed(settings)
    public = disclosure(settings, sessions)

    def chosen(**filters) -> list[str]:
        return [s.conversation_id for s in public.summaries(make_filter(**filters))]

    assert chosen() == ["tg-400", "tg-300", "tg-200", "tg-100"]  # newest first
    assert chosen(department="public-works") == ["tg-400", "tg-200"]
    assert chosen(department="waste") == ["tg-300", "tg-100"]  # a case; an answer by a Waste & Recycling entry
    assert chosen(topic="Bulky items") == ["tg-100"]
    assert chosen(topic="Pothole or damaged road") == ["tg-400", "tg-200"]
    assert chosen(q="RECYCLING bin") == ["tg-300"]
    assert chosen(q="100%") == []  # LIKE wildcards are searched for literally
    day = (at(3)).date().isoformat()
    assert chosen(date_from=day, date_to=day) == ["tg-300"]
    assert chosen(date_from=(at(2)).date().isoformat()) == ["tg-400"]
    assert set(chosen(department="public-works", status="case_open")) == {ids["case_open"]}
    with pytest.raises(DisclosureError, match="not a date"):
        make_filter(date_from="yesterday")
    with pytest.raises(DisclosureError, match="unknown status"):
        make_filter(status="pending")
    with pytest.raises(DisclosureError, match="ends before it starts"):
        make_filter(date_from="2026-02-02", date_to="2026-02-01")


def test_pages_of_twenty_in_a_stable_order(settings, sessions):
    for n in range(45):
        say(settings, at(2, minutes=n), f"web-{n:02d}", "citizen", f"question number {n}")
    public = disclosure(settings, sessions)
    pages = [public.page(DisclosureFilter(), number) for number in (1, 2, 3)]
    assert [p.total for p in pages] == [45, 45, 45] and pages[0].pages == 3
    assert [len(p.items) for p in pages] == [20, 20, 5]
    texts = [c.messages[0].text for p in pages for c in p.items]
    assert texts == [f"question number {n}" for n in range(45)]  # web-00 is the newest
    assert public.page(DisclosureFilter(), 1).items == pages[0].items


def test_manual_redactions_hide_text_from_the_page_the_exports_and_the_search(settings, sessions):
    say(settings, at(3), "tg-500", "citizen", "The dog behind the Lucky Star bakery barks all night")
    public = disclosure(settings, sessions)
    assert [s.conversation_id for s in public.summaries(DisclosureFilter(q="lucky star"))] == ["tg-500"]
    record_id = 1
    review(sessions).redact(Actor("sam", "supervisor"), record_id=record_id, text="lucky star",
                                    reason="the citizen asked on 2026-11-20: it is their shop")
    conversation = public.conversation(public.pseudonym("tg-500"))
    assert conversation.messages[0].text == "The dog behind the [redacted] bakery barks all night"
    assert public.summaries(DisclosureFilter(q="Lucky Star")) == []
    assert [s.conversation_id for s in public.summaries(DisclosureFilter(q="barks"))] == ["tg-500"]
    assert "Lucky" not in "".join(csv_chunks(public.stream())) + "".join(json_chunks(public.stream(), {}))


def test_the_csv_and_json_exports_carry_the_same_messages(settings, sessions):
    seed(settings)
    public = disclosure(settings, sessions)
    say(settings, at(1), "tg-600", "citizen", "=HYPERLINK(\"http://evil.example\")")
    rows = list(csv.DictReader(io.StringIO("".join(csv_chunks(public.stream())))))
    document = json.loads("".join(json_chunks(public.stream(), {"delay_hours": 24})))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert document["delay_hours"] == 24
    flattened = [(c["id"], m["author_role"], m["text"]) for c in document["conversations"] for m in c["messages"]]
    assert [(r["conversation"], r["author_role"], r["text"].removeprefix("'")) for r in rows] == flattened
    assert rows[0]["text"] == "'=HYPERLINK(\"http://evil.example\")"  # no formula for a spreadsheet to run
    open_one = next(c for c in document["conversations"] if c["status"] == "case_open")
    assert open_one["pending_case"] == open_one["cases"][0]["service_request_id"]
    assert open_one["cases"][0]["agency_responsible"] == "public-works"
    assert open_one["cases"][0]["expected_datetime"].endswith("Z")
    assert [m["author_role"] for m in open_one["messages"]] == ["citizen", "system"]
    assert at(4) - timedelta(minutes=1) < public.summaries()[0].last_at


def review(sessions) -> TranscriptDesk:
    """The staff side of the transcript, with the desk's default redactor."""
    return TranscriptDesk(sessions, redactor=REDACTOR)
