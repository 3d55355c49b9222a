"""`citydesk bench bursts` on one simulated week: every injected burst is matched or missed, the figures add up."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from desk.cli import app


def test_the_replay_reports_delays_and_false_alerts_per_week():
    result = CliRunner().invoke(app, ["bench", "bursts", "--weeks", "1", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.splitlines()[-1])
    run, = figures["runs"]
    found = run["with_bursts"]
    assert found["bursts"] >= 3
    assert len(found["delays_min"]) + found["missed"] == found["bursts"]
    assert all(delay >= 0 for delay in found["delays_min"])
    assert run["without_bursts"]["bursts"] == 0
    assert figures["summary"]["false_alerts_per_week"] is not None
