"""Time the delay rate per department over many cases: the grouped SQL query (handoff/delay_rate.py) against the
Python loop over rows it replaced (kept here as the yardstick), on one SQLite file.

    .venv/bin/python scripts/bench_delay_rate.py generate /tmp/delay.db --cases 200000
    .venv/bin/python scripts/bench_delay_rate.py run /tmp/delay.db --method sql      # or --method python
    farm-bench -n 5 -- .venv/bin/python scripts/bench_delay_rate.py run /tmp/delay.db --method sql \\
        --vs '.venv/bin/python scripts/bench_delay_rate.py run /tmp/delay.db --method python'

`run` prints the figures (both methods must print the same) and the seconds of the computation itself.
Not a test: tests/handoff/test_clock.py checks the query against the clock's reading case by case.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import insert, select, text
from sqlalchemy.orm import sessionmaker

from database import create_db_engine, session_factory, upgrade
from handoff.clock import DeadlineState, deadline_state
from handoff.delay_rate import DelayRate, delay_rate
from handoff.models import Case

app = typer.Typer(add_completion=False, no_args_is_help=True)
DEPARTMENTS = ("public-works", "waste", "parks", "permits", "library", "water", "finance", "animals")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 5_000


def python_loop(sessions: sessionmaker, *, now: datetime) -> dict[str, DelayRate]:
    """The former handoff/delay_rate.py: every row read into Python and classified by deadline_state."""
    query = select(Case.agency_responsible, Case.expected_datetime, Case.answered_at, Case.closed_at, Case.paused_at)
    counts: dict[str, dict[DeadlineState, int]] = {}
    with sessions() as session:
        for department, expected, answered_at, closed_at, paused_at in session.execute(query):
            state = deadline_state(expected=expected, now=now, answered_at=answered_at, closed_at=closed_at,
                                   paused_at=paused_at).state
            tally = counts.setdefault(department, dict.fromkeys(DeadlineState, 0))
            tally[state] += 1
    return {d: DelayRate(d, t[DeadlineState.MET], t[DeadlineState.MISSED], t[DeadlineState.OVERDUE])
            for d, t in sorted(counts.items())}


@app.command()
def generate(path: Path, cases: Annotated[int, typer.Option()] = 200_000, seed: int = 17) -> None:
    """A fresh SQLite file with `cases` cases over the year before NOW: answered in time or late, closed, paused."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(seed)
    engine = create_db_engine(url)
    rows = []
    with engine.begin() as connection:
        for n in range(cases):
            requested = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
            expected = requested + timedelta(hours=rng.choice((3, 72, 120)))
            answered = requested + timedelta(hours=rng.uniform(0, 150)) if rng.random() < 0.8 else None
            closed = (answered or requested) + timedelta(hours=rng.uniform(0, 48)) if rng.random() < 0.6 else None
            paused = requested + timedelta(hours=rng.uniform(0, 100)) if rng.random() < 0.1 else None
            rows.append({"service_request_id": f"CD-B-{n}", "description": "bench", "status": "open", "state": "new",
                         "agency_responsible": rng.choice(DEPARTMENTS), "sla": "simple", "channel": "web",
                         "conversation_id": f"web-{n}", "requested_datetime": requested, "updated_datetime": requested,
                         "expected_datetime": expected, "answered_at": answered if answered and answered < NOW
                         else None, "closed_at": closed if closed and closed < NOW else None,
                         "paused_at": paused if paused and paused < NOW else None, "paused_seconds": 0.0,
                         "is_emergency": False})
            if len(rows) == BATCH:
                connection.execute(insert(Case), rows)
                rows.clear()
        if rows:
            connection.execute(insert(Case), rows)
        connection.execute(text("ANALYZE"))
    engine.dispose()
    typer.echo(f"{cases} cases in {path}")


@app.command()
def run(path: Path, method: Annotated[str, typer.Option(help="sql or python")] = "sql") -> None:
    sessions = session_factory(create_db_engine(f"sqlite:///{path}"))
    started = time.perf_counter()
    rates = delay_rate(sessions, now=NOW) if method == "sql" else python_loop(sessions, now=NOW)
    took = time.perf_counter() - started
    for code, rate in rates.items():
        typer.echo(f"{code}: {rate.answered_in_time} {rate.answered_late} {rate.overdue_unanswered}")
    typer.echo(f"{method}: {took:.3f} s")


if __name__ == "__main__":
    app()
