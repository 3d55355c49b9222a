"""`citydesk transcripts apply-retention` removes every old copy of citizens' text (originals, closed cases, history,
outbox, decisions, inbound) and keeps open cases, pending replies and what statistics and de-duplication need; it
logs each run per kind and leaves the public record whole. `citydesk transcripts export` writes what the API serves."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from connectors.dedupe import claim
from connectors.message import InboundMessage
from connectors.models import InboundRecord
from database import upgrade
from database.migrate import alembic_config
from desk.cli import app
from disclosure.staff_review import RedactionRefused, TranscriptDesk
from handoff.models import Case, CaseEvent, MessageDecision
from handoff.service import Actor
from handoff.unanswered import unanswered_questions
from outbox.models import OutboxMessage, OutboxState
from outbox.store import enqueue, mark_fetched
from privacy import REMOVED_TEXT
from settings import Settings
from tests.disclosure.disclosure_support import at, report, say
from tests.handoff.conftest import desk_at, open_case
from tests.privacy.conftest import REDACTOR
from transcripts.log_models import RetentionRun
from transcripts.models import TranscriptOriginal, TranscriptRecord

runner = CliRunner()
SUPERVISOR = Actor("sam", "supervisor")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """The commands' settings come from the environment and --data-dir; `sessions` opens the same database."""
    monkeypatch.setenv("CITYDESK_ORIGINALS_RETENTION_DAYS", "30")
    monkeypatch.setenv("CITYDESK_DISCLOSURE_DELAY_HOURS", "0")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def db_url(settings) -> str:
    return settings.resolved_database_url


def cli(settings: Settings, *args: str):
    return runner.invoke(app, ["transcripts", *args, "--data-dir", str(settings.data_dir)])


def snapshot(sessions) -> dict[int, tuple]:
    with sessions() as session:
        return {r.id: (r.public_text, r.hash) for r in session.scalars(select(TranscriptRecord))}


def originals(sessions) -> dict[int, TranscriptOriginal]:
    with sessions() as session:
        return {o.record_id: o for o in session.scalars(select(TranscriptOriginal))}


def test_old_originals_are_removed_logged_and_the_public_record_stays(settings, sessions):
    old_case = report(settings, at(60), "tg-1", "Pothole on Elm Street, call me at 303-555-0142", "pothole",
                      answer="Fixed.", close=True)
    with sessions.begin() as session:  # contact data as the Open311 API and the channels leave it
        session.get(Case, old_case.id).email = "maria@example.org"
    open_case = report(settings, at(45), "tg-2", "Another pothole, I'm Jo Park", "pothole")
    with sessions.begin() as session:
        session.get(Case, open_case.id).phone = "+1 303 555 0199"
    say(settings, at(1), "tg-3", "citizen", "Recent message from kim@example.com")
    record_of_phone = 1
    finding = next(f for f in review(sessions).conversation(SUPERVISOR, "tg-1").records[0].findings
                   if f.kind == "phone")
    review(sessions).unredact(SUPERVISOR, record_id=record_of_phone, start=finding.start, end=finding.end,
                                      reason="the city's number")
    before, kept = snapshot(sessions), originals(sessions)
    old_ids = sorted(i for i, o in kept.items() if i in before and o.text and "kim@" not in o.text)

    dry = cli(settings, "apply-retention", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) | {"cutoff": None} == {
        "dry_run": True, "run_id": None, "cutoff": None, "originals_removed": len(old_ids),
        "first_record_id": old_ids[0], "last_record_id": old_ids[-1], "cases_cleared": 1,
        "case_events_cleared": 1, "outbox_cleared": 0, "decisions_cleared": 0, "inbound_cleared": 0,
        "tracker_events_removed": 0}
    assert originals(sessions).keys() == kept.keys() and all(o.text for o in originals(sessions).values())

    done = cli(settings, "apply-retention")
    assert done.exit_code == 0, done.output
    assert "Removed citizens' text older than 30 days" in done.output
    assert f"{len(old_ids)}  transcript originals (records {old_ids[0]} to {old_ids[-1]})" in done.output
    after = originals(sessions)
    assert [i for i, o in after.items() if o.text is None] == old_ids
    assert all(after[i].removed_at and after[i].removed_reason.startswith("retention: older than 30 days")
               for i in old_ids)
    assert after[max(after)].text == "Recent message from kim@example.com"
    assert snapshot(sessions) == before  # the public records are untouched
    with sessions() as session:
        run = session.scalars(select(RetentionRun)).one()
        cases = {c.conversation_id: c for c in session.scalars(select(Case))}
    assert (run.originals_removed, run.first_record_id, run.last_record_id, run.retention_days, run.cases_cleared) \
        == (len(old_ids), old_ids[0], old_ids[-1], 30, 1)
    assert cases["tg-1"].email is None and cases["tg-1"].status == "closed"
    assert cases["tg-2"].phone == "+1 303 555 0199"  # still open: the department still has to answer
    verify = cli(settings, "verify")
    assert verify.exit_code == 0 and "The transcript is whole" in verify.output

    # the un-redaction needed the original: it lapses, the stored public text stands, and no new one is possible
    public = review(sessions).conversation(SUPERVISOR, "tg-1").records[0]
    assert public.public == before[record_of_phone][0] and "303-555-0142" not in public.public
    with pytest.raises(RedactionRefused, match="removed"):
        review(sessions).unredact(SUPERVISOR, record_id=record_of_phone, start=finding.start,
                                          end=finding.end, reason="again")
    again = cli(settings, "apply-retention", "--json")
    assert json.loads(again.output)["originals_removed"] == 0


def test_the_export_command_writes_csv_and_json_with_filters(settings, sessions, tmp_path):
    report(settings, at(3), "tg-1", "Pothole on Elm Street", "pothole")
    report(settings, at(2), "tg-2", "My recycling bin was skipped", "missed-pickup")
    out = tmp_path / "out" / "public.csv"
    result = cli(settings, "export", "--format", "csv", "--out", str(out), "--department", "waste")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["author_role"] for r in rows] == ["citizen", "system"]
    assert {r["departments"] for r in rows} == {"waste"} and "tg-2" not in out.read_text()
    out_json = tmp_path / "public.json"
    assert cli(settings, "export", "--format", "json", "--out", str(out_json)).exit_code == 0
    assert [c["status"] for c in json.loads(out_json.read_text())["conversations"]] == ["case_open", "case_open"]
    bad = cli(settings, "export", "--format", "xml", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2 and "Unknown format" in bad.output and not (tmp_path / "x").exists()
    bad_date = cli(settings, "export", "--out", str(out), "--date-from", "monday")
    assert bad_date.exit_code == 2 and out.exists()  # the earlier export is still there


# --- every copy of a citizen's text ---------------------------------------------------------------------------

OLD_REPORT = "Pothole outside my house, I'm Maria Lopez, call me at 303-555-0142"
STAFF_ANSWER = "Fixed, Maria: we called you at 303-555-0142 to confirm."
CLOSE_NOTE = "Maria Lopez confirmed it by phone"
FILED = "Streetlight out, reported by Jo Park, jo.park@example.org"
OPEN_REPORT = "Broken bench, I'm Dana Kim, call 303-555-0177"
CHAT = "Where do I renew a parking permit? I'm Lee Wong, 303-555-0123"
GAP_QUESTION = "Is there free wifi at the library? Text me at 303-555-0166"
TABLES = (TranscriptRecord, TranscriptOriginal, Case, CaseEvent, OutboxMessage, MessageDecision, InboundRecord)


@dataclass(frozen=True)
class City:
    """The rows the scenario wrote, by what they are."""

    old: Case  # closed 60 days ago, answered and delivered, with contact data, address and location
    filed: Case  # filed through Open311 50 days ago (no transcript), closed
    open: Case  # 45 days old and still open, with a delivered reply
    recent: Case  # closed 5 days ago
    outbox: dict[str, int]
    decisions: dict[str, int]
    inbound: dict[str, int]


def staff_of(case: Case) -> Actor:
    return Actor("officer", "staff", case.agency_responsible)


def outbox_ids(sessions, conversation_id: str) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.conversation_id == conversation_id)))


def decide(settings: Settings, sessions, moment: datetime, conversation_id: str, text: str, route: str,
           case: Case | None = None) -> int:
    desk_at(settings, moment).record_decision(channel="telegram", conversation_id=conversation_id, text=text,
                                              intent="ask_question", route=route, reason=f"{route} by the rules",
                                              entry_id="parking-permit" if route == "answer" else None,
                                              confidence=0.42, case=case)
    with sessions() as session:
        return session.scalar(select(func.max(MessageDecision.id)))


def bot_reply(sessions, moment: datetime, key: str, text: str, *, delivered: datetime | None = None,
              failed: datetime | None = None) -> int:
    """An assistant's reply as the connectors queue it, delivered or given up on (or neither: still pending)."""
    with sessions.begin() as session:
        row = enqueue(session, key=key, channel="telegram", conversation_id="tg-chat", text=text, now=moment)
        row.attempts = 1
        if delivered:
            row.state, row.delivered_at = OutboxState.SENT, delivered
        elif failed:
            row.state, row.failed_at = OutboxState.FAILED, failed
        return row.id


def receive(sessions, moment: datetime, platform_id: str, text: str | None, *, state: str = "answered",
            kind: str = "text", lat: float | None = None, long: float | None = None) -> int:
    """A message claimed by the connectors' de-duplication and left in `state` at `moment`."""
    message = InboundMessage(channel="telegram", platform_message_id=platform_id, conversation_id="tg-chat",
                             sender_id="4242", text=text, kind=kind, lat=lat, long=long, received_at=moment)
    with sessions.begin() as session:
        record = claim(session, message, window_s=600, now=moment).record
        record.state, record.updated_at = state, moment
        session.flush()
        return record.id


@pytest.fixture
def city(settings, sessions) -> City:
    t = at(60)
    say(settings, t, "tg-old", "citizen", OLD_REPORT)
    old = open_case(desk_at(settings, t + timedelta(seconds=1)), category="pothole", text=OLD_REPORT,
                    conversation_id="tg-old", address="12 Elm Street")
    with sessions.begin() as session:  # contact data and location as the Open311 API and the channels leave them
        case = session.get(Case, old.id)
        case.email, case.phone, case.lat, case.long = "maria@example.org", "303-555-0142", 39.74, -104.99
        session.add(CaseEvent(case=case, at=t, actor="citizen", kind="location_added", text=None,
                              data={"lat": 39.74, "long": -104.99, "channel": "telegram"}))
    decisions = {"old": decide(settings, sessions, t + timedelta(seconds=2), "tg-old", OLD_REPORT, "case", old)}
    desk_at(settings, t + timedelta(minutes=30)).reply(service_request_id=old.service_request_id,
                                                       actor=staff_of(old), text=STAFF_ANSWER)
    mark_fetched(sessions, outbox_ids(sessions, "tg-old"), t + timedelta(minutes=31))
    review(sessions).redact(SUPERVISOR, record_id=record_of(sessions, "tg-old", "staff").id, text="Maria",
                                    reason="the citizen's name, which the redactor missed")
    desk_at(settings, t + timedelta(hours=1)).close(service_request_id=old.service_request_id, actor=staff_of(old),
                                                    note=CLOSE_NOTE)

    filed = open_case(desk_at(settings, at(50)), category="streetlight", text=FILED, conversation_id="open311-7")
    desk_at(settings, at(49)).close(service_request_id=filed.service_request_id, actor=staff_of(filed))

    say(settings, at(45), "tg-open", "citizen", OPEN_REPORT)
    opened = open_case(desk_at(settings, at(45)), category="pothole", text=OPEN_REPORT, conversation_id="tg-open")
    with sessions.begin() as session:
        session.get(Case, opened.id).phone = "303-555-0177"
    decisions["open"] = decide(settings, sessions, at(45), "tg-open", OPEN_REPORT, "case", opened)
    desk_at(settings, at(44)).reply(service_request_id=opened.service_request_id, actor=staff_of(opened),
                                    text="Dana, we will look at it this week.")
    mark_fetched(sessions, outbox_ids(sessions, "tg-open"), at(44))

    recent = report(settings, at(5), "tg-new", "Graffiti on my fence, call 303-555-0188", "graffiti",
                    answer="Removed.", close=True)

    say(settings, at(40), "tg-chat", "citizen", CHAT)
    decisions |= {"chat": decide(settings, sessions, at(40), "tg-chat", CHAT, "answer"),
                  "untold": decide(settings, sessions, at(40), "web-gone", "Is Kim Lee at 4 Oak Lane home?",
                                   "out_of_scope"),
                  "recent": decide(settings, sessions, at(2), "tg-chat", "And for a second car? Lee", "answer")}
    outbox = {"delivered": bot_reply(sessions, at(40), "old-1", "Lee, permits are renewed online.",
                                     delivered=at(40)),
              "failed": bot_reply(sessions, at(40), "old-2", "Lee, anything else?", failed=at(39)),
              "pending": bot_reply(sessions, at(40), "old-3", "Lee, still there?"),
              "recent": bot_reply(sessions, at(3), "new-1", "Lee, yes: the same form.", delivered=at(3))}
    inbound = {"text": receive(sessions, at(40), "m-1", CHAT),
               "location": receive(sessions, at(40), "m-2", None, kind="location", lat=39.7, long=-105.0),
               "in_progress": receive(sessions, at(40), "m-3", "Hello? Lee here", state="recorded"),
               "recent": receive(sessions, at(2), "m-4", "And for a second car? Lee")}
    return City(old=old, filed=filed, open=opened, recent=recent, outbox=outbox, decisions=decisions,
                inbound=inbound)


def dump(sessions) -> dict[str, list[tuple]]:
    """Every row of every table that keeps citizens' text, column by column."""
    with sessions() as session:
        return {model.__tablename__: [tuple(getattr(row, c.key) for c in model.__mapper__.column_attrs)
                                      for row in session.scalars(select(model).order_by(
                                          *model.__table__.primary_key.columns))]
                for model in TABLES}


def rows(sessions, model, ids) -> dict:
    with sessions() as session:
        return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def record_of(sessions, conversation_id: str, role: str) -> TranscriptRecord:
    with sessions() as session:
        return session.scalars(select(TranscriptRecord).where(TranscriptRecord.conversation_id == conversation_id,
                                                              TranscriptRecord.author_role == role)).first()


def old_originals(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(TranscriptOriginal).join(TranscriptRecord).where(
            TranscriptRecord.at < at(30), TranscriptOriginal.text.is_not(None)))


EXPECTED = {"cases_cleared": 2, "case_events_cleared": 3, "outbox_cleared": 3, "decisions_cleared": 3,
            "inbound_cleared": 2}


def test_a_dry_run_counts_each_kind_and_changes_nothing(settings, sessions, city):
    before, originals_due = dump(sessions), old_originals(sessions)
    dry = cli(settings, "apply-retention", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    counts = json.loads(dry.output)
    assert {key: counts[key] for key in EXPECTED} == EXPECTED
    assert counts["originals_removed"] == originals_due > 0 and counts["run_id"] is None
    text_output = cli(settings, "apply-retention", "--dry-run")
    assert text_output.exit_code == 0, text_output.output
    for count, label in ((2, "closed cases"), (3, "case history entries"), (3, "delivered or abandoned replies"),
                         (3, "message decisions"), (2, "inbound messages")):
        assert f"  {count}  {label}" in text_output.output
    assert "Would remove" in text_output.output and "Nothing was changed." in text_output.output
    assert dump(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RetentionRun)) == 0


def test_closed_cases_lose_the_citizens_text_and_keep_what_statistics_need(settings, sessions, city):
    with sessions() as session:
        kept = {c.id: (c.service_request_id, c.agency_responsible, c.service_code, c.district, c.status, c.state,
                       c.sla, c.requested_datetime, c.updated_datetime, c.expected_datetime)
                for c in session.scalars(select(Case))}
    assert cli(settings, "apply-retention").exit_code == 0
    citizen, staff = record_of(sessions, "tg-old", "citizen"), record_of(sessions, "tg-old", "staff")
    with sessions() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
        events = {(e.case_id, e.kind): e for e in session.scalars(select(CaseEvent))}
    old, filed = cases[city.old.id], cases[city.filed.id]
    # the description becomes what the public may read of the same message; the staff answer likewise
    assert old.description == citizen.public_text and "303-555-0142" not in old.description
    assert "303-555-0142" not in staff.public_text
    # the public view: with the manual redaction of the name the redactor missed
    assert events[(old.id, "replied")].text == \
        f"{old.service_request_id}: Fixed, [redacted]: we called you at [phone] to confirm."
    # texts the transcript does not hold (a close note, an Open311 filing) are blanked with the marker
    assert old.status_notes == events[(old.id, "closed")].text == REMOVED_TEXT
    assert filed.description == REMOVED_TEXT
    assert events[(old.id, "location_added")].data == {"channel": "telegram"}
    for case in (old, filed):
        assert (case.first_name, case.last_name, case.email, case.phone, case.device_id, case.account_id,
                case.address, case.lat, case.long) == (None,) * 9
        assert case.personal_data_removed_at is not None
    assert {i: (c.service_request_id, c.agency_responsible, c.service_code, c.district, c.status, c.state, c.sla,
                c.requested_datetime, c.updated_datetime, c.expected_datetime) for i, c in cases.items()} == kept
    # an open case keeps everything an official needs; a case closed within the period too
    assert (cases[city.open.id].description, cases[city.open.id].phone) == (OPEN_REPORT, "303-555-0177")
    assert events[(city.open.id, "replied")].text == "Dana, we will look at it this week."
    assert cases[city.recent.id].description == "Graffiti on my fence, call 303-555-0188"
    assert events[(city.recent.id, "replied")].text == "Removed."
    assert cases[city.open.id].personal_data_removed_at is None is cases[city.recent.id].personal_data_removed_at


def test_outbox_decisions_and_inbound_lose_their_text_past_the_cutoff_only(settings, sessions, city):
    decisions_before = rows(sessions, MessageDecision, city.decisions.values())
    assert cli(settings, "apply-retention").exit_code == 0
    outbox = rows(sessions, OutboxMessage, city.outbox.values())
    by_name = {name: outbox[i].text for name, i in city.outbox.items()}
    assert by_name == {"delivered": REMOVED_TEXT, "failed": REMOVED_TEXT, "pending": "Lee, still there?",
                       "recent": "Lee, yes: the same form."}
    with sessions() as session:
        case_replies = dict(session.execute(select(OutboxMessage.conversation_id, OutboxMessage.text)
                                            .where(OutboxMessage.conversation_id.in_(["tg-old", "tg-open"]))).all())
    assert case_replies == {"tg-old": REMOVED_TEXT, "tg-open": f"{city.open.service_request_id}: Dana, we will "
                                                               "look at it this week."}

    decisions = rows(sessions, MessageDecision, city.decisions.values())
    text = {name: decisions[i].text for name, i in city.decisions.items()}
    assert text == {"old": record_of(sessions, "tg-old", "citizen").public_text,
                    "chat": record_of(sessions, "tg-chat", "citizen").public_text, "untold": REMOVED_TEXT,
                    "open": OPEN_REPORT, "recent": "And for a second car? Lee"}
    assert "303-555-0123" not in text["chat"] and "303-555-0142" not in text["old"]
    for i, before in decisions_before.items():  # the decision itself stays
        after = decisions[i]
        assert (after.at, after.route, after.reason, after.entry_id, after.confidence, after.case_id) == \
            (before.at, before.route, before.reason, before.entry_id, before.confidence, before.case_id)
    assert {name for name, i in city.decisions.items() if decisions[i].text_removed_at} == {"old", "chat", "untold"}

    inbound = rows(sessions, InboundRecord, city.inbound.values())
    cleared = {name: (inbound[i].text, inbound[i].text_hash, inbound[i].lat, inbound[i].long)
               for name, i in city.inbound.items()}
    assert cleared["text"] == cleared["location"] == (None, None, None, None)
    assert cleared["in_progress"][0] == "Hello? Lee here" and cleared["recent"][0] == "And for a second car? Lee"
    assert cleared["recent"][1] is not None
    old = inbound[city.inbound["text"]]
    assert (old.platform_message_id, old.sender_id, old.state, old.received_at.date()) == \
        ("m-1", "4242", "answered", at(40).date())
    # de-duplication still knows the old message: the platform delivering it again is dropped
    again = InboundMessage(channel="telegram", platform_message_id="m-1", conversation_id="tg-chat",
                           sender_id="4242", text=CHAT, received_at=at(0))
    with sessions.begin() as session:
        assert claim(session, again, window_s=600, now=at(0)).outcome == "duplicate"


def test_what_retention_emptied_is_neither_sent_again_nor_listed_as_a_question(settings, sessions, city):
    say(settings, at(40), "tg-gap", "citizen", GAP_QUESTION)
    decide(settings, sessions, at(40), "tg-gap", GAP_QUESTION, "out_of_scope")
    recent_failure = bot_reply(sessions, at(3), "new-2", "Lee, one more thing?", failed=at(2))
    assert [q.text for q in unanswered_questions(sessions)] == [GAP_QUESTION, "Is Kim Lee at 4 Oak Lane home?"]
    assert cli(settings, "apply-retention").exit_code == 0

    # the editors' gaps page: the redacted question still counts, the marker is no question
    assert [q.text for q in unanswered_questions(sessions)] == [record_of(sessions, "tg-gap", "citizen").public_text]
    assert "[phone]" in record_of(sessions, "tg-gap", "citizen").public_text

    env = {"CITYDESK_DATA_DIR": str(settings.data_dir)}
    emptied = city.outbox["failed"]
    refused = runner.invoke(app, ["connector", "failed", "--retry", str(emptied)], env=env)
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        f"outbox message {emptied} cannot be sent again: retention removed its text (it now reads "
        f"'{REMOVED_TEXT}'); answer the citizen anew instead")
    row = rows(sessions, OutboxMessage, [emptied])[emptied]
    assert (row.text, row.failed_at is not None, row.attempts) == (REMOVED_TEXT, True, 1)
    requeued = runner.invoke(app, ["connector", "failed", "--retry", str(recent_failure)], env=env)
    assert requeued.exit_code == 0, requeued.output
    row = rows(sessions, OutboxMessage, [recent_failure])[recent_failure]
    assert (row.text, row.failed_at, row.attempts) == ("Lee, one more thing?", None, 0)


def test_the_run_is_logged_per_kind_the_chain_verifies_and_a_second_run_removes_nothing(settings, sessions, city):
    originals_due = old_originals(sessions)
    public_before = snapshot(sessions)
    first = cli(settings, "apply-retention", "--json")
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output)
    assert {key: counts[key] for key in EXPECTED} == EXPECTED and counts["originals_removed"] == originals_due
    with sessions() as session:
        run = session.scalars(select(RetentionRun)).one()
    assert (run.id, run.cases_cleared, run.case_events_cleared, run.outbox_cleared, run.decisions_cleared,
            run.inbound_cleared, run.originals_removed) == (counts["run_id"], *EXPECTED.values(), originals_due)
    assert (run.first_case_id, run.last_case_id) == (city.old.service_request_id, city.filed.service_request_id)
    verify = cli(settings, "verify")
    assert verify.exit_code == 0 and "The transcript is whole" in verify.output
    assert snapshot(sessions) == public_before

    after_first = dump(sessions)
    second = cli(settings, "apply-retention", "--json")
    assert second.exit_code == 0, second.output
    assert {key: json.loads(second.output)[key] for key in (*EXPECTED, "originals_removed")} == \
        dict.fromkeys((*EXPECTED, "originals_removed"), 0)
    assert dump(sessions) == after_first
    with sessions() as session:  # the log stays append-only after revision 0011 added its columns
        assert session.scalar(select(func.count()).select_from(RetentionRun)) == 2
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("UPDATE transcript_retention_runs SET outbox_cleared = 0"))


def test_revision_0011_goes_down_and_up_again_and_keeps_the_log_append_only(settings, sessions, city):
    assert cli(settings, "apply-retention").exit_code == 0
    url = settings.resolved_database_url
    command.downgrade(alembic_config(url), "0010")
    with sessions() as session:
        columns = {row[1] for row in session.execute(text("PRAGMA table_info(transcript_retention_runs)"))}
        assert "outbox_cleared" not in columns
        assert session.execute(text("SELECT cases_cleared FROM transcript_retention_runs")).scalar() == 2
    upgrade(url)
    with sessions() as session:
        assert session.scalars(select(RetentionRun)).one().outbox_cleared == 0  # earlier runs count 0
    for statement in ("UPDATE transcript_retention_runs SET cases_cleared = 0",
                      "DELETE FROM transcript_retention_runs"):
        with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
            session.execute(text(statement))


# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py SQLEvent), in the desk's database as endpoints.yml says
RASA_EVENTS = ("CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
               " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
               " action_name VARCHAR(255), data TEXT)")


def test_the_assistants_own_conversation_events_older_than_the_period_are_deleted(settings, sessions):
    now = datetime.now().astimezone()
    old, recent = (now - timedelta(days=31)).timestamp(), (now - timedelta(days=29)).timestamp()
    with sessions.begin() as session:
        session.execute(text(RASA_EVENTS))
        for sender, moment, words in (("web-a", old, "my phone is 555-201-7788"), ("web-a", old, "pothole on elm"),
                                      ("web-a", recent, "any news?"), ("web-b", recent, "hi")):
            data = json.dumps({"event": "user", "text": words, "timestamp": moment})
            session.execute(text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data)"
                                 " VALUES (:sender, 'user', :moment, 'report_problem', :data)"),
                            {"sender": sender, "moment": moment, "data": data})
    dry = cli(settings, "apply-retention", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["tracker_events_removed"] == 2
    run = cli(settings, "apply-retention", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["tracker_events_removed"] == 2
    with sessions() as session:
        kept = session.execute(text("SELECT sender_id, data FROM events ORDER BY id")).all()
        assert session.scalars(select(RetentionRun)).one().tracker_events_removed == 2
    assert [(sender, json.loads(data)["text"]) for sender, data in kept] == [("web-a", "any news?"), ("web-b", "hi")]
    again = cli(settings, "apply-retention", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["tracker_events_removed"] == 0


def test_without_the_assistants_tracker_table_nothing_is_counted_for_it(settings, sessions):
    run = cli(settings, "apply-retention", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["tracker_events_removed"] == 0


def review(sessions) -> TranscriptDesk:
    """The staff side of the transcript, with the desk's default redactor."""
    return TranscriptDesk(sessions, redactor=REDACTOR)
