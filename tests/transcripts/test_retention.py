"""Retention removes old originals and closed cases' contact data, logs it, and leaves the public record whole;
the export command writes what the API serves."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from database import create_db_engine, session_factory, upgrade
from desk.cli import app
from desk.settings import Settings
from handoff.models import Case
from handoff.service import Actor
from tests.transcripts.disclosure_support import at, report, say
from transcripts.log_models import RetentionRun
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.redactions import RedactionRefused, TranscriptDesk

runner = CliRunner()
SUPERVISOR = Actor("sam", "supervisor")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("CITYDESK_ORIGINALS_RETENTION_DAYS", "30")
    monkeypatch.setenv("CITYDESK_DISCLOSURE_DELAY_HOURS", "0")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def sessions(settings):
    engine = create_db_engine(settings.resolved_database_url)
    yield session_factory(engine)
    engine.dispose()


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
    finding = next(f for f in TranscriptDesk(sessions).conversation(SUPERVISOR, "tg-1").records[0].findings
                   if f.kind == "phone")
    TranscriptDesk(sessions).unredact(SUPERVISOR, record_id=record_of_phone, start=finding.start, end=finding.end,
                                      reason="the city's number")
    before, kept = snapshot(sessions), originals(sessions)
    old_ids = sorted(i for i, o in kept.items() if i in before and o.text and "kim@" not in o.text)

    dry = cli(settings, "apply-retention", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) | {"cutoff": None} == {
        "dry_run": True, "run_id": None, "cutoff": None, "originals_removed": len(old_ids),
        "first_record_id": old_ids[0], "last_record_id": old_ids[-1], "cases_cleared": 1}
    assert originals(sessions).keys() == kept.keys() and all(o.text for o in originals(sessions).values())

    done = cli(settings, "apply-retention")
    assert done.exit_code == 0, done.output
    assert f"Removed {len(old_ids)} originals older than 30 days" in done.output
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
    public = TranscriptDesk(sessions).conversation(SUPERVISOR, "tg-1").records[0]
    assert public.public == before[record_of_phone][0] and "303-555-0142" not in public.public
    with pytest.raises(RedactionRefused, match="removed"):
        TranscriptDesk(sessions).unredact(SUPERVISOR, record_id=record_of_phone, start=finding.start,
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
