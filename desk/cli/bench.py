"""`citydesk bench report`: a year of generated traffic in a fresh database, and the time of the monthly
all-departments report on it (handoff/report_bench.py). `citydesk bench search`: the knowledge base search on
generated entries, exact against approximate (knowledge_base/search_bench.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for
from settings import PROJECT_ROOT, Settings

DEFAULT_EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
bench_app = typer.Typer(help="Benchmarks on generated traffic.", no_args_is_help=True)


@bench_app.command("report")
def bench_report(
    decisions: Annotated[int, typer.Option(help="Messages over the year.")] = 1_000_000,
    cases: Annotated[int, typer.Option(help="Cases over the year (each with its message).")] = 300_000,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    json_output: JsonFlag = False,
) -> None:
    """Generate a year of traffic in an empty database, then time `citydesk report --period month`."""
    from sqlalchemy import func, select

    from handoff.directory import load_directory
    from handoff.models import MessageDecision
    from handoff.report_bench import run

    settings = settings_for(data_dir, database_url)
    sessions = database.open(settings)
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(MessageDecision)):
            errors.print("[red]The database has messages already:[/red] run the benchmark on an empty one "
                         "(--data-dir of a new folder).")
            raise typer.Exit(2)
    departments = [d.code for d in load_directory(settings.directory_file).departments]
    result = run(sessions, decisions=decisions, cases=cases, departments=departments)
    if json_output:
        print(json.dumps(result.as_dict()))
        return
    console.print(f"Generated {result.decisions} messages and {result.cases} cases in {result.generate_s:.1f} s; "
                  f"the monthly all-departments report took {result.report_s:.3f} s "
                  f"({result.received} messages, {result.cases_opened} cases in the month).", markup=False)


@bench_app.command("search")
def bench_search(
    entries: Annotated[int, typer.Option(min=10, help="Generated entries to index.")] = 100_000,
    queries: Annotated[int, typer.Option(min=5, help="Real questions to ask (from the sets' question files).")] = 300,
    texts: Annotated[int, typer.Option(min=10, help="Real phrasings to embed, from which entries are made.")] = 3_000,
    eval_dir: Annotated[Path, typer.Option(help="The shared evaluation sets (read there, never copied); "
                                                "a folder that does not exist: the demo's alone.")] = DEFAULT_EVAL_DIR,
    json_output: JsonFlag = False,
) -> None:
    """Index generated entries with the exact and the approximate embedded search; time, memory, recall@3."""
    from knowledge_base.embedder import get_embedder
    from knowledge_base.search_bench import run
    from settings import DEMO_KB_FILE

    settings = Settings()
    result = run(get_embedder(settings.embedding_model), entries=entries, queries=queries, texts=texts,
                 demo_kb=DEMO_KB_FILE, eval_dir=eval_dir,
                 progress=lambda step: errors.print(f"bench search: {step}", markup=False))
    if json_output:
        print(json.dumps(result.as_dict()))
        return
    console.print(f"{result.entries} entries ({result.phrasings} phrasings) from {result.sources} real entries' "
                  f"{result.embedded_texts} phrasings; {result.queries} real questions, embedding one: "
                  f"p50 {result.query_embedding_ms_p50} ms, p95 {result.query_embedding_ms_p95} ms (not in the "
                  "query times below).", markup=False)
    for name, figures in (("exact", result.exact), ("approximate", result.approximate)):
        console.print(f"{name}: index {figures['index_s']} s, +{figures['memory_mb']:.0f} MB; query (search and "
                      f"ranking) p50 {figures['query_ms_p50']} ms, p95 {figures['query_ms_p95']} ms; vectors only "
                      f"p50 {figures['vectors_only_ms_p50']} ms, p95 {figures['vectors_only_ms_p95']} ms", markup=False)
    console.print(f"approximate: saved in {result.approximate['save_s']} s ({result.approximate['file_mb']:.0f} MB), "
                  f"loaded at a restart in {result.approximate['restart_index_s']} s; recall@3 against the exact "
                  f"search {result.recall_at_3}, of the 30 candidates {result.candidates_recall_at_30}; load "
                  f"average {' '.join(str(v) for v in result.load_average)}", markup=False)
