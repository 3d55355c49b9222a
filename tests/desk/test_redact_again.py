"""`citydesk transcripts redact-again`: a name an older redactor published is hidden from the disclosure after all."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from desk.cli import app
from disclosure.export import csv_chunks, json_chunks
from disclosure.public import DisclosureFilter, build_disclosure
from handoff.directory import load_directory
from privacy import Redactor
from tests.disclosure.disclosure_support import at
from tests.privacy.conftest import REDACTOR
from transcripts.writer import TranscriptWriter

SIGNED = "I spoke with Priyanka Chaudhary from my building, she has no heat either."


def published(settings, sessions) -> str:
    public = build_disclosure(settings, sessions, load_directory(settings.directory_file), REDACTOR)
    return "".join(csv_chunks(public.stream())) + "".join(json_chunks(public.stream(), {}))


def redact_again(settings, *extra: str):
    return CliRunner().invoke(app, ["transcripts", "redact-again", "--by", "sam", "--json", "--data-dir",
                                    str(settings.data_dir), "--database-url", settings.resolved_database_url, *extra])


def test_a_name_an_older_redactor_let_through_is_hidden_and_logged(settings, sessions):
    # written as the desk did before the name model: patterns only, and the neighbour's full name has no cue
    older = TranscriptWriter(sessions, redact=Redactor(name_model=None).public_text, clock=lambda: at(3))
    older.append(channel="telegram", conversation_id="tg-700", author_role="citizen", text=SIGNED)
    older.append(channel="telegram", conversation_id="tg-700", author_role="bot",
                 text="Thank you, we have passed it on to Public Works.")
    assert "Priyanka Chaudhary" in published(settings, sessions)

    dry = redact_again(settings, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output.strip().splitlines()[-1]) | {"found": 1, "hidden": 0, "records": 2} == \
        json.loads(dry.output.strip().splitlines()[-1])
    assert "Priyanka Chaudhary" in published(settings, sessions)  # a dry run changes nothing

    done = redact_again(settings)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1])["hidden"] == 1
    text = published(settings, sessions)
    assert "Priyanka" not in text and "Chaudhary" not in text
    assert "I spoke with [redacted] from my building, she has no heat either." in text
    public = build_disclosure(settings, sessions, load_directory(settings.directory_file), REDACTOR)
    assert public.summaries(DisclosureFilter(q="Chaudhary")) == []  # nor found by searching for it

    again = redact_again(settings)
    assert json.loads(again.output.strip().splitlines()[-1])["found"] == 0  # nothing left to hide
