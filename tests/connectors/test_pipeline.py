"""The one inbound pipeline on a real SQLite file, the real transcript writer, and a local Rasa REST server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors import replies
from connectors.message import InboundMessage
from connectors.pipeline import MAX_TEXT_CHARS, Pipeline
from handoff.directory import SLA, load_directory
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import CaseDesk
from tests.connectors.pipeline_support import inbound, outbox, transcript
from tests.support import free_port
from tests.transcripts.conftest import writer_for

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def message(text: str | None, pid: str, *, conversation: str = "x-42", at: datetime = T0, **fields) -> InboundMessage:
    return InboundMessage(channel="x", platform_message_id=pid, conversation_id=conversation,
                          sender_id=conversation.removeprefix("x-"), text=text, received_at=at, **fields)


def make_pipeline(sessions, rasa, **options) -> Pipeline:
    return Pipeline(sessions, channel="x", rasa_url=rasa.url, writer=writer_for(sessions), **options)


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_message_is_recorded_answered_recorded_and_queued(sessions, rasa):
    result = run(make_pipeline(sessions, rasa).handle(message("When is bulk pickup?", "t1")))
    assert result.outcome == "answered"
    assert [r.text for r in result.replies] == ["You said: When is bulk pickup?"]
    records = transcript(sessions, "x-42")
    assert [(r.author_role, r.public_text, r.platform_message_id) for r in records] == [
        ("citizen", "When is bulk pickup?", "t1"), ("bot", "You said: When is bulk pickup?", None)]
    assert records[1].meta["in_reply_to"] == "t1"
    [row] = outbox(sessions, "x-42")
    assert (row.idempotency_key, row.channel, row.text, row.delivered_at) == (
        f"in-{result.inbound_id}-0", "x", "You said: When is bulk pickup?", None)
    assert rasa.received[0]["sender"] == "x-42"
    assert rasa.received[0]["metadata"]["platform_message_id"] == "t1"


def test_the_same_platform_message_twice_is_answered_once(sessions, rasa):
    pipeline = make_pipeline(sessions, rasa)

    async def twice():
        return await asyncio.gather(pipeline.handle(message("hello there", "t1")),
                                    pipeline.handle(message("hello there", "t1")))

    outcomes = sorted(r.outcome for r in run(twice()))
    assert outcomes == ["answered", "duplicate"]
    assert len(rasa.received) == 1
    assert len(outbox(sessions, "x-42")) == 1
    assert [r.author_role for r in transcript(sessions, "x-42")] == ["citizen", "bot"]
    # a new pipeline (a restarted process) remembers it too
    assert run(make_pipeline(sessions, rasa).handle(message("hello there", "t1"))).outcome == "duplicate"


def test_the_same_text_from_the_same_sender_within_the_window_is_dropped(sessions, rasa):
    pipeline = make_pipeline(sessions, rasa, duplicate_window_s=600)
    assert run(pipeline.handle(message("Big pothole on Elm Street", "t1"))).outcome == "answered"
    again = run(pipeline.handle(message("  big pothole on ELM   street ", "t2", at=T0 + timedelta(seconds=599))))
    assert again.outcome == "duplicate" and "same text" in again.reason
    later = run(pipeline.handle(message("Big pothole on Elm Street", "t3", at=T0 + timedelta(seconds=1300))))
    assert later.outcome == "answered"
    other_sender = run(pipeline.handle(message("Big pothole on Elm Street", "t4", conversation="x-43")))
    assert other_sender.outcome == "answered"
    assert [r.state for r in inbound(sessions, "x-42")] == ["answered", "duplicate", "answered"]
    assert len(rasa.received) == 3


def test_short_replies_may_repeat(sessions, rasa):
    pipeline = make_pipeline(sessions, rasa)
    assert [run(pipeline.handle(message("yes", f"t{i}"))).outcome for i in range(2)] == ["answered", "answered"]


def test_the_window_is_a_setting(sessions, rasa):
    pipeline = make_pipeline(sessions, rasa, duplicate_window_s=0)
    assert run(pipeline.handle(message("Big pothole on Elm Street", "t1"))).outcome == "answered"
    assert run(pipeline.handle(message("Big pothole on Elm Street", "t2"))).outcome == "answered"


def test_rasa_unreachable_the_message_is_due_at_once_and_the_worker_resumes_as_soon_as_rasa_answers(sessions, rasa):
    """Connection refused is no fault of the message: no backoff for it; the resume worker looks for Rasa's return
    (every RASA_PROBE_S) instead of sleeping its whole interval."""
    pipeline = Pipeline(sessions, channel="x", rasa_url=f"http://127.0.0.1:{free_port()}", writer=writer_for(sessions),
                        clock=lambda: T0)  # nothing listens there
    assert run(pipeline.handle(message("is the pool open?", "t1"))).outcome == "pending"
    [record] = inbound(sessions, "x-42")
    assert record.attempts == 1 and record.next_attempt_at.replace(tzinfo=None) == T0.replace(tzinfo=None)
    assert run(pipeline.resume_pending()) == 0 and pipeline.assistant_down
    pipeline.rasa_url = rasa.url  # Rasa is back

    async def once_back() -> int:
        await asyncio.wait_for(pipeline.wait_for_next_round(3600), timeout=60)  # not the hour of its interval
        return await pipeline.resume_pending()

    assert run(once_back()) == 1 and not pipeline.assistant_down
    assert [r.text for r in outbox(sessions, "x-42")] == [replies.RECEIVED, "You said: is the pool open?"]


def test_assistant_down_the_message_is_recorded_and_answered_once_when_it_is_back(sessions, rasa):
    rasa.down = True
    pipeline = make_pipeline(sessions, rasa)
    result = run(pipeline.handle(message("is the pool open?", "t1")))
    assert result.outcome == "pending"
    # the citizen is told once that the message is kept and the answer follows
    assert [(r.author_role, r.public_text) for r in transcript(sessions, "x-42")] == [
        ("citizen", "is the pool open?"), ("bot", replies.RECEIVED)]
    [record] = inbound(sessions, "x-42")
    assert (record.state, record.attempts) == ("recorded", 1) and "500" in record.last_error
    with sessions.begin() as session:
        session.get(type(record), record.id).next_attempt_at = None
    assert run(pipeline.resume_pending()) == 0  # still down: no second note
    assert [r.text for r in outbox(sessions, "x-42")] == [replies.RECEIVED]
    rasa.down = False
    assert run(pipeline.resume_pending()) == 0  # backing off: not due yet
    with sessions.begin() as session:
        session.get(type(record), record.id).next_attempt_at = None
    assert run(make_pipeline(sessions, rasa).resume_pending()) == 1
    assert run(pipeline.resume_pending()) == 0
    assert [r.author_role for r in transcript(sessions, "x-42")] == ["citizen", "bot", "bot"]  # recorded once
    assert [r.text for r in outbox(sessions, "x-42")] == [replies.RECEIVED, "You said: is the pool open?"]


@pytest.mark.parametrize("elements", [[], [{"text": "Sorry, I can't look that up right now."},
                                          {"custom": {"citydesk": {"unavailable": "desk"}}}]],
                         ids=["no reply (action server down)", "the desk unavailable"])
def test_an_answer_without_replies_or_from_an_action_that_could_not_reach_the_desk_is_no_answer(
        sessions, rasa, elements):
    rasa.script["is the pool open?"] = elements
    pipeline = make_pipeline(sessions, rasa)
    assert run(pipeline.handle(message("is the pool open?", "t1"))).outcome == "pending"
    del rasa.script["is the pool open?"]
    with sessions.begin() as session:
        session.get(type(inbound(sessions, "x-42")[0]), inbound(sessions, "x-42")[0].id).next_attempt_at = None
    assert run(pipeline.resume_pending()) == 1
    assert [r.text for r in outbox(sessions, "x-42")] == [replies.RECEIVED, "You said: is the pool open?"]


def test_a_conversation_is_answered_in_order_after_an_outage(sessions, rasa):
    rasa.down = True
    pipeline = make_pipeline(sessions, rasa)
    assert run(pipeline.handle(message("first message of three", "t1"))).outcome == "pending"
    assert run(pipeline.handle(message("second message of three", "t2"))).outcome == "pending"
    other = run(pipeline.handle(message("another conversation", "t9", conversation="x-43")))
    assert other.outcome == "pending"
    rasa.down = False
    # the third is answered after the two kept before it, not before them
    assert run(pipeline.handle(message("third message of three", "t3"))).outcome == "answered"
    assert [m["message"] for m in rasa.received] == [
        "first message of three", "second message of three", "third message of three"]
    assert [r.text for r in outbox(sessions, "x-42") if r.text != replies.RECEIVED] == [
        "You said: first message of three", "You said: second message of three", "You said: third message of three"]


def test_a_message_backing_off_holds_back_the_rest_of_its_conversation_only(sessions, rasa):
    rasa.down = True
    pipeline = make_pipeline(sessions, rasa)
    run(pipeline.handle(message("first message here", "t1")))
    run(pipeline.handle(message("second message here", "t2")))
    run(pipeline.handle(message("another conversation", "t9", conversation="x-43")))
    rasa.down = False
    with sessions.begin() as session:  # only the other conversation's message is due
        session.get(type(inbound(sessions, "x-43")[0]), inbound(sessions, "x-43")[0].id).next_attempt_at = None
    assert run(pipeline.resume_pending()) == 1
    assert [m["message"] for m in rasa.received] == ["another conversation"]


def test_the_citizen_repeating_an_unanswered_message_retries_it(sessions, rasa):
    rasa.down = True
    pipeline = make_pipeline(sessions, rasa)
    assert run(pipeline.handle(message("is the pool open?", "m1"))).outcome == "pending"
    rasa.down = False
    retry = run(pipeline.handle(message("is the pool open?", "m2")))
    assert retry.outcome == "answered"
    assert [r.text for r in pipeline.replies_to(retry.inbound_id)] == [replies.RECEIVED, "You said: is the pool open?"]
    assert [r.author_role for r in transcript(sessions, "x-42")] == ["citizen", "bot", "bot"]  # the note, the answer


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice", "other"])
def test_other_kinds_get_a_polite_reply_without_the_assistant(sessions, rasa, kind):
    result = run(make_pipeline(sessions, rasa).handle(message(None, "t1", kind=kind)))
    assert [r.text for r in result.replies] == [replies.UNSUPPORTED[kind]]
    assert "text message" in replies.UNSUPPORTED[kind]
    assert rasa.received == []
    assert transcript(sessions, "x-42")[0].meta["kind"] == kind


def test_a_location_is_kept_on_the_open_case_and_passed_to_the_assistant(sessions, rasa):
    cases = CaseDesk(sessions, load_directory(), "America/New_York", transcript=writer_for(sessions))
    directory = cases.directory
    category = directory.categories[0]
    case = cases.open_case(description="Streetlight out", channel="x", conversation_id="x-42", sla=SLA.SIMPLE,
                           category=category, assignment=route_case(directory=directory, category=category))
    pipeline = make_pipeline(sessions, rasa)
    result = run(pipeline.handle(message(None, "t1", kind="location", lat=40.7128, long=-74.006)))
    assert result.replies[0].text == replies.LOCATION_KEPT.format(lat=40.7128, long=-74.006)
    with sessions() as session:
        stored = session.scalar(select(Case).where(Case.id == case.id))
        assert (stored.lat, stored.long) == (40.7128, -74.006)
        assert stored.events[-1].kind == "location_added"
    run(pipeline.handle(message("it is still dark", "t2")))
    assert rasa.received[-1]["metadata"]["location"] == {"lat": 40.7128, "long": -74.006}


@pytest.mark.parametrize(("text", "expected"), [
    ("", replies.EMPTY), ("   ", replies.EMPTY),
    ("x" * 20_000, replies.TOO_LONG.format(length=20_000, limit=MAX_TEXT_CHARS))])
def test_empty_and_too_long_texts_are_recorded_and_answered_clearly(sessions, rasa, text, expected):
    result = run(make_pipeline(sessions, rasa).handle(message(text, "t1")))
    assert [r.text for r in result.replies] == [expected]
    assert rasa.received == []
    with sessions() as session:
        from transcripts.models import TranscriptOriginal

        citizen = transcript(sessions, "x-42")[0]
        assert session.get(TranscriptOriginal, citizen.id).text == text


def test_transcript_metadata_is_recorded_on_the_replies_never_delivered(sessions, rasa):
    rasa.script["bulk?"] = [{"text": "Bulk items go on the first Monday."}, {"text": "Was this helpful?"},
                            {"custom": {"citydesk": {"entry_id": "demo-0002", "entry_version": 3, "case_id": None}}}]
    result = run(make_pipeline(sessions, rasa).handle(message("bulk?", "t1")))
    assert [r.text for r in result.replies] == ["Bulk items go on the first Monday.", "Was this helpful?"]
    bots = [r for r in transcript(sessions, "x-42") if r.author_role == "bot"]
    assert [(r.entry_id, r.entry_version) for r in bots] == [("demo-0002", 3), ("demo-0002", 3)]


def test_numbered_choices_map_a_later_number_to_the_button_payload(sessions, rasa):
    long_payload = '/choose_entry{"kb_entry_id":"demo-0002-with-a-rather-long-identifier-beyond-64-bytes"}'
    rasa.script["trash"] = [{"text": "Did you mean:", "buttons": [
        {"title": "Bulk pickup", "payload": long_payload},
        {"title": "Recycling", "payload": '/choose_entry{"kb_entry_id":"demo-0003"}'}]}]
    pipeline = make_pipeline(sessions, rasa, numbered_choices=True)
    result = run(pipeline.handle(message("trash", "t1")))
    assert [b.title for b in result.replies[0].buttons] == ["Bulk pickup", "Recycling"]
    run(pipeline.handle(message("1", "t2")))
    assert rasa.received[-1]["message"] == long_payload
    assert [b["payload"] for b in outbox(sessions, "x-42")[0].buttons] == [
        long_payload, '/choose_entry{"kb_entry_id":"demo-0003"}']
    run(pipeline.handle(message("7", "t3")))  # no such choice: the text goes as it is
    assert rasa.received[-1]["message"] == "7"


def test_a_message_of_another_channel_is_refused(sessions, rasa):
    with pytest.raises(ValueError, match="telegram message given to the x pipeline"):
        run(make_pipeline(sessions, rasa).handle(InboundMessage(
            channel="telegram", platform_message_id="1", conversation_id="tg-1", sender_id="1", text="hi")))


def test_a_case_opened_after_a_location_was_sent_gets_that_location(sessions, rasa):
    pipeline = make_pipeline(sessions, rasa)
    run(pipeline.handle(message(None, "t1", kind="location", lat=40.7, long=-74.0)))
    cases = CaseDesk(sessions, load_directory(), "America/New_York", transcript=writer_for(sessions))
    category = cases.directory.categories[0]
    case = cases.open_case(description="Streetlight out here", channel="x", conversation_id="x-42",
                           sla=SLA.SIMPLE, category=category,
                           assignment=route_case(directory=cases.directory, category=category))
    rasa.script["streetlight out here"] = [{"text": f"Passed on as case {case.service_request_id}."},
                                           {"custom": {"citydesk": {"case_id": case.service_request_id}}}]
    run(pipeline.handle(message("streetlight out here", "t2")))
    with sessions() as session:
        stored = session.scalar(select(Case).where(Case.id == case.id))
        assert (stored.lat, stored.long) == (40.7, -74.0)
        assert [e.kind for e in stored.events][-1] == "location_added"
