"""`citydesk bench load` on its own stack: it runs, and every message it offered got exactly one reply."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from desk.cli import app

pytestmark = pytest.mark.e2e


def test_the_load_benchmark_offers_messages_and_each_gets_one_reply():
    result = CliRunner().invoke(app, ["bench", "load", "--conversations", "2", "--rate", "2", "--duration", "3",
                                      "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.splitlines()[-1])
    assert {"offered_per_s", "messages_per_s", "p50_ms", "p95_ms", "p99_ms", "replies_per_message"} <= set(figures)
    # what arrived at the client: each of the 6 messages named by the replies of exactly one response
    assert (figures["messages"], figures["errors"]) == (6, 0)
    assert (figures["unanswered"], figures["answered_twice"], figures["replies_per_message"]) == (0, 0, 1.0)
    assert figures["offered_per_s"] == 2.0 and figures["messages_per_s"] > 0
