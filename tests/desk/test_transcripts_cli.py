"""`citydesk transcripts verify`: the command over the transcript's chain, on a temporary data folder."""

from __future__ import annotations

from typer.testing import CliRunner

from database import create_db_engine, session_factory, upgrade
from desk.cli import app
from settings import Settings
from tests.transcripts.conftest import tamper, write_conversation
from transcripts.writer import TranscriptWriter


def test_the_verify_command_names_the_first_broken_record(tmp_path):
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    write_conversation(TranscriptWriter(session_factory(engine), redact=str))
    engine.dispose()
    runner = CliRunner()
    whole = runner.invoke(app, ["transcripts", "verify", "--data-dir", str(tmp_path)])
    assert whole.exit_code == 0, whole.output
    assert "3 records" in whole.output
    tamper(settings.resolved_database_url.split("///", 1)[1],
           "UPDATE transcript_records SET author_role = 'staff' WHERE id = 2")
    broken = runner.invoke(app, ["transcripts", "verify", "--data-dir", str(tmp_path), "--json"])
    assert broken.exit_code == 1
    assert '"first_broken_id": 2' in broken.output
