"""`citydesk report`: the command over a desk with a hand-counted week of traffic (tests/handoff/report_traffic.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from database import create_db_engine, session_factory, upgrade
from desk.cli import app
from handoff.report import OUTCOMES
from settings import Settings
from tests.handoff import report_traffic as traffic

NOW = traffic.NOW.isoformat()
KEYS = ("period", "received", *OUTCOMES.values(), "handled_without_staff_rate", "delay_rate",
        "first_response_p50_hours", "first_response_p90_hours", "resolution_p50_hours", "overdue", "by_channel",
        "by_department", "top_topics", "rising_topics", "falling_topics", "top_keywords", "hot_keywords",
        "cold_keywords")


@pytest.fixture
def data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    traffic.seed(session_factory(engine))
    engine.dispose()
    return tmp_path


def run(*args: str):
    result = CliRunner().invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_weekly_json_report_prints_the_hand_counted_figures_on_its_last_line(data_dir):
    """The installed command, in its own process, as a supervisor runs it."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "citydesk"), "report", "--period", "week",
                           "--format", "json", "--now", NOW, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(KEYS) <= set(report)
    for key, value in traffic.EXPECTED.items():
        assert report[key] == value, key
    assert sum(report[key] for key in OUTCOMES.values()) == report["received"] == 12
    assert sum(row["received"] for row in report["by_channel"].values()) == report["received"]
    assert {code: row["delay_rate"] for code, row in report["by_department"].items()} == {"public-works": 0.3333,
                                                                                          "waste": 1.0}
    assert report["previous"]["received"] == 3 and report["change"]["received"] == 9


def test_from_and_to_choose_the_period_and_department_one_department(data_dir):
    report = json.loads(run("--from", "2026-11-30T12:00", "--to", "2026-12-07T12:00", "--department", "public-works",
                            "--format", "json", "--now", NOW, "--data-dir", str(data_dir)).output.splitlines()[-1])
    assert report["period"] == {"from": "2026-11-30T12:00:00+00:00", "to": "2026-12-07T12:00:00+00:00"}
    assert (report["received"], report["handed_off"], report["emergencies"]) == (3, 2, 1)
    assert list(report["by_department"]) == ["public-works"]


def test_csv_markdown_and_html_show_each_figure_beside_the_previous_one(data_dir, tmp_path):
    out = tmp_path / "week.csv"
    run("--format", "csv", "--out", str(out), "--now", NOW, "--data-dir", str(data_dir))
    rows = {row["figure"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert rows["received"] == {"figure": "received", "value": "12", "previous": "3", "change": "9"}
    assert rows["delay_rate"]["value"] == "0.5" and rows["delay_rate"]["previous"] == "1.0"
    assert rows["channel telegram received"]["value"] == "5"
    assert rows["department waste overdue"]["value"] == "1"
    markdown = run("--format", "md", "--now", NOW, "--data-dir", str(data_dir)).output
    assert "| received | 12 | 3 | 9 |" in markdown
    assert "all departments: 2026-11-30T12:00:00+00:00 to 2026-12-07T12:00:00+00:00" in markdown
    page = run("--format", "html", "--now", NOW, "--data-dir", str(data_dir)).output
    assert "<td>received</td><td>12</td><td>3</td><td>9</td>" in page


def test_a_bad_date_is_refused_with_the_option_named(data_dir):
    result = CliRunner().invoke(app, ["report", "--from", "last tuesday", "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "--from" in result.output


def test_update_topics_assigns_what_the_desk_has_not_and_markdown_lists_them(data_dir):
    assert json.loads(run("--format", "json", "--now", NOW, "--data-dir", str(data_dir)).output.splitlines()[-1])[
        "top_topics"] == []  # nothing stored yet: no desk ran the topic job
    markdown = run("--format", "md", "--update-topics", "--now", NOW, "--data-dir", str(data_dir)).output
    assert "| top_topics entry:bins bins | 3 | 0 | 3 |" in markdown
    assert "| top_topics service:pothole pothole | 2 | 1 | 1 |" in markdown


def test_account_keeps_one_accounts_figures_and_an_unknown_account_is_refused(data_dir, monkeypatch):
    (data_dir / "accounts.yml").write_text("accounts:\n  - {name: transport, channel: telegram}\n"
                                           "  - {name: web, channel: web}\n", encoding="utf-8")
    monkeypatch.setenv("CITYDESK_ACCOUNTS_FILE", str(data_dir / "accounts.yml"))
    report = json.loads(run("--account", "web", "--format", "json", "--now", NOW, "--data-dir",
                            str(data_dir)).output.splitlines()[-1])
    assert report["account"] == "web"
    assert report["cases_opened"] == 4  # the week's cases, all on the web chat from before accounts
    assert "account web" in run("--account", "web", "--now", NOW, "--data-dir", str(data_dir)).output
    refused = CliRunner().invoke(app, ["report", "--account", "parks", "--data-dir", str(data_dir)])
    assert refused.exit_code == 2 and "no account 'parks'" in refused.output
