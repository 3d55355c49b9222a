"""The benchmark commands. `citydesk bench report`: a year of generated traffic in a fresh database, and the time of
the monthly all-departments report on it (handoff/report_bench.py). `bench bursts`: the burst detector replayed on
generated streams (handoff/burst_replay.py). `bench load`: web chat messages offered at a fixed rate to a stack of
its own (desk/load_bench.py). `bench search`: the knowledge base search on generated entries, exact against
approximate (knowledge_base/search_bench.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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


@bench_app.command("bursts")
def bench_bursts(
    weeks: Annotated[int, typer.Option(min=1, help="Simulated weeks measured (after 15 days of baseline).")] = 4,
    seed: Annotated[list[int] | None, typer.Option(help="A seed of the generated stream (repeat for several; "
                                                        "default 1 to 5).")] = None,
    daily: Annotated[float, typer.Option(min=50, help="Messages a day, on average.")] = 1000.0,
    bursts_per_week: Annotated[float, typer.Option(min=0, help="Injected bursts per simulated week.")] = 5.0,
    json_output: JsonFlag = False,
) -> None:
    """Replay generated streams with injected bursts and without through the burst detector (a simulated clock, a
    check every 5 minutes): detection delay per burst, false alerts per simulated week."""
    from handoff.burst_replay import StreamSpec, run, summary

    spec = StreamSpec(weeks=weeks, daily=daily, bursts_per_week=bursts_per_week)
    runs = [run(spec, seed=one) for one in (seed or [1, 2, 3, 4, 5])]
    result: dict[str, Any] = {"runs": runs, "summary": summary(runs)}
    if json_output:
        print(json.dumps(result))
        return
    for one in runs:
        found, quiet = one["with_bursts"], one["without_bursts"]
        console.print(f"seed {one['seed']}: {found['bursts']} bursts, {found['detected_within_30_min']} detected "
                      f"within 30 min, {found['missed']} missed, delay median {found['delay_min_median']} min, "
                      f"max {found['delay_min_max']} min; false alerts per week {found['false_alerts_per_week']} "
                      f"(stream without bursts: {quiet['false_alerts_per_week']}); repeats {found['repeat_alerts']}",
                      markup=False)
    total = result["summary"]
    console.print(f"All: {total['detected_within_30_min']}/{total['bursts']} bursts detected within 30 min, "
                  f"{total['missed']} missed, delay median {total['delay_min_median']} min, max "
                  f"{total['delay_min_max']} min; false alerts per week {total['false_alerts_per_week']} "
                  f"(worst week-average of a seed: {total['worst_false_alerts_per_week']})", markup=False)


@bench_app.command("load")
def bench_load(
    conversations: Annotated[int, typer.Option(min=1, help="Conversations the messages are spread over.")] = 30,
    rate: Annotated[float, typer.Option(min=0.1, help="Messages offered per second (open loop).")] = 40.0,
    duration: Annotated[float, typer.Option(min=1.0, help="Seconds of offered messages.")] = 60.0,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="The stack's database (default: SQLite in a temporary folder); an empty one.")] = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", help="Rasa's lock store (default: Rasa's in-memory one).")] = None,
    desk_workers: Annotated[int, typer.Option(min=1, help="Desk worker processes (PostgreSQL only).")] = 1,
    first_port: Annotated[int | None, typer.Option(
        help="Desk on this port, the action server and Rasa on the next two (default: free ports).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Start a stack on the demo knowledge base and offer it web-chat messages at RATE per second for DURATION
    seconds over CONVERSATIONS conversations; print the offered and achieved rate, message-to-reply percentiles and
    replies per message."""
    import asyncio
    import tempfile
    from pathlib import Path

    from pydantic import SecretStr

    from desk.bot_model import ensure_trained
    from desk.load_bench import offer
    from desk.stack import Stack, free_port
    from settings import DEMO_KB_FILE, Settings

    ports = ([first_port, first_port + 1, first_port + 2] if first_port is not None
             else [free_port(), free_port(), free_port()])
    with tempfile.TemporaryDirectory(prefix="citydesk-load-") as folder:
        settings = Settings(data_dir=Path(folder), seed_kb_file=DEMO_KB_FILE, internal_token=None,
                            desk_port=ports[0], action_port=ports[1], rasa_port=ports[2], desk_workers=desk_workers,
                            database_url=database_url, redis_url=SecretStr(redis_url) if redis_url else None)
        ensure_trained(settings)
        with Stack(settings, connectors=()) as stack:
            groups = [p.started.pid for p in stack.processes]  # each process leads its own group
            result = asyncio.run(offer(settings.desk_url, conversations=conversations, rate=rate,
                                       duration_s=duration, process_groups=groups))
    if json_output:
        print(json.dumps(result.as_dict()))
        return
    console.print(
        f"Offered {result.offered_per_s} messages/s, achieved {result.messages_per_s}/s ({result.messages} messages, "
        f"{result.conversations} conversations); message to reply p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, "
        f"p99 {result.p99_ms} ms; {result.replies_per_message} replies per message ({result.unanswered} unanswered, "
        f"{result.answered_twice} answered twice, {result.errors} errors); sent late by p95 {result.lag_p95_ms} ms; "
        f"the stack's processes used {result.cpu_ms_per_message} ms of processor time per message.",
        markup=False)


@bench_app.command("search")
def bench_search(
    entries: Annotated[int, typer.Option(min=10, help="Generated entries to index.")] = 100_000,
    queries: Annotated[int, typer.Option(min=5, help="Real questions to ask (from the sets' question files).")] = 300,
    texts: Annotated[int, typer.Option(min=10, help="Real phrasings to embed, from which entries are made.")] = 3_000,
    eval_dir: Annotated[Path, typer.Option(help="The shared evaluation sets (read there, never copied); "
                                                "a folder that does not exist: the demo's alone.")] = DEFAULT_EVAL_DIR,
    json_output: JsonFlag = False,
) -> None:
    """Index generated entries with the exact and the approximate embedded search (BM25 from the in-memory index, and
    the exact one from FTS5 too); time, memory, recall@3."""
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
    for name, figures in (("exact", result.exact), ("approximate", result.approximate),
                          ("exact with FTS5's BM25", result.exact_fts5)):
        console.print(f"{name}: index {figures['index_s']} s, +{figures['memory_mb']:.0f} MB; query (search and "
                      f"ranking) p50 {figures['query_ms_p50']} ms, p95 {figures['query_ms_p95']} ms; vectors only "
                      f"p50 {figures['vectors_only_ms_p50']} ms, p95 {figures['vectors_only_ms_p95']} ms", markup=False)
    console.print(f"approximate: saved in {result.approximate['save_s']} s ({result.approximate['file_mb']:.0f} MB), "
                  f"loaded at a restart in {result.approximate['restart_index_s']} s; recall@3 against the exact "
                  f"search {result.recall_at_3}, of the 30 candidates {result.candidates_recall_at_30}; the same "
                  f"first three and confidences with FTS5's BM25 as with the in-memory index: "
                  f"{result.fts5_same_results}; load average at the start "
                  f"{' '.join(str(v) for v in result.load_average_start)}, at the end "
                  f"{' '.join(str(v) for v in result.load_average)}", markup=False)
