"""`citydesk bench search` on a small size: the three backends index the generated entries; out come the figures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from desk.cli import app


def test_the_benchmark_indexes_both_ways_and_compares(tmp_path):
    result = CliRunner().invoke(app, ["bench", "search", "--entries", "300", "--queries", "12", "--texts", "120",
                                      "--eval-dir", str(tmp_path / "none"), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.splitlines()[-1])
    assert (figures["entries"], figures["queries"], figures["embedded_texts"]) == (300, 12, 120)
    assert figures["sources"] == 103  # the demo's entries alone: there are no shared sets in that folder
    for name in ("exact", "approximate", "exact_fts5"):
        assert figures[name]["query_ms_p95"] >= figures[name]["query_ms_p50"] > 0
    assert figures["approximate"]["file_mb"] >= 0 and figures["approximate"]["restart_index_s"] >= 0
    assert figures["recall_at_3"] >= 0.99 and figures["candidates_recall_at_30"] >= 0.99
    assert figures["fts5_same_results"] == 1.0  # BM25 from the in-memory index: FTS5's scores, the same results
    assert len(figures["load_average"]) == 3 and len(figures["load_average_start"]) == 3
