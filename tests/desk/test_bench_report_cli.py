"""`citydesk bench report` on a small generated year: its figures add up and it refuses a database in use."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from desk.cli import app


def test_the_benchmark_generates_a_year_and_times_the_monthly_report(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "report", "--decisions", "3000", "--cases", "900", "--data-dir",
                                 str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.splitlines()[-1])
    assert (figures["decisions"], figures["cases"]) == (3000, 900)
    # about a twelfth of the year's traffic falls in the last 30 days
    assert 150 < figures["month_received"] < 350 and 40 < figures["month_cases_opened"] < 110
    assert figures["report_s"] > 0
    again = runner.invoke(app, ["bench", "report", "--decisions", "10", "--data-dir", str(tmp_path)])
    assert again.exit_code == 2 and "empty one" in again.output
