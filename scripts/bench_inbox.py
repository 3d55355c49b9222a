"""Time the staff inbox's pages over 100,000 cases: search, filters, paging, counts, the closed view.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_inbox.py [--cases 100000] [--runs 30]
        [--database-url postgresql+psycopg://user@host:port/empty_database]

Always on a fresh SQLite file in a temporary folder; with --database-url (an empty PostgreSQL database: the
benchmark refuses one that holds cases) on PostgreSQL too. Cases are inserted in bulk (the same columns the
hand-off writes: numbers, departments of the city's directory, states, deadline classes, channels, handles, texts
from a small vocabulary), the database is ANALYZEd (PostgreSQL: VACUUM ANALYZE) as autovacuum would, then each
page is fetched `--runs` times through the real desk app (login, session, query, template) in process, and
p50/p95 are printed per page.
Not a test: `make test` runs tests/desk/test_inbox_search.py at a small size instead.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, text

from database import create_db_engine, session_factory, upgrade
from desk.app import create_app
from handoff.directory import SLA, load_directory
from handoff.models import Case, CaseState, CaseStatus
from settings import Settings

console = Console()
BATCH = 5_000
PASSWORD = "benchmark password 1"
STREETS = ("Elm Street", "Oak Avenue", "Maple Road", "Birch Lane", "Cedar Court", "Pine Road", "Main Street",
           "Quince Way", "Harbor Drive", "Mill Lane", "Station Road", "Park Avenue")
PROBLEMS = ("There is a pothole outside {n} {street}, it damaged my tire",
            "The street light at {n} {street} is out and the street is dark at night",
            "My recycling bin was not emptied on {street} again this week",
            "Graffiti on the bus shelter at {street}, number {n}",
            "Overflowing litter bin near {n} {street}, please empty it",
            "A fallen tree blocks the sidewalk at {n} {street}",
            "Please add a bike lane on {street}, it is dangerous for children",
            "Water leaking from a hydrant at {n} {street} since yesterday",
            "Noise from construction on {street} starts at 5 am",
            "When is the bulky waste pickup in {street}? I have an old sofa")
CHANNELS = (("web", "web-{h}"), ("telegram", "telegram-{h}"), ("x", "x-{h}"))
SLAS = ((SLA.SIMPLE, 0.6), (SLA.REVIEW, 0.3), (SLA.POLICY, 0.09), (SLA.EMERGENCY, 0.01))


def fill(url: str, count: int, departments: list[str], *, seed: int = 17) -> dict[str, str]:
    """`count` cases over the last year; returns values the queries look for (a case number, a handle)."""
    upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(Case)):
            raise typer.BadParameter(f"{url} already holds cases: give an empty database", param_hint="--database-url")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    began = time.perf_counter()
    officers = {d: [f"{d}.officer{i}" for i in range(5)] for d in departments}
    officers[departments[0]].append("bench.officer")  # the officer whose "mine" is timed
    # the first department is the one the benchmark's officer works in: a large department (a fifth of the cases)
    weights = [0.2] + [0.8 / (len(departments) - 1)] * (len(departments) - 1)
    for first in range(1, count + 1, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, count + 1)):
            requested = now - timedelta(days=365) * (1 - i / count) - timedelta(minutes=rng.randint(0, 60))
            sla = rng.choices([s for s, _ in SLAS], [w for _, w in SLAS])[0]
            hours = {SLA.SIMPLE: 3, SLA.REVIEW: 72, SLA.POLICY: 120, SLA.EMERGENCY: 0}[sla]
            department = rng.choices(departments, weights)[0]
            age = now - requested
            closed = (age > timedelta(days=20) and rng.random() < 0.97) or rng.random() < 0.5
            state = CaseState.CLOSED if closed else rng.choice(
                [CaseState.NEW, CaseState.ASSIGNED, CaseState.ASSIGNED, CaseState.WAITING_CITIZEN,
                 CaseState.ANSWERED])
            channel, handle = rng.choice(CHANNELS)
            rows.append({
                "id": i, "service_request_id": f"CD-{requested.year}-{i:06d}", "service_code": None,
                "service_name": None,
                "description": rng.choice(PROBLEMS).format(n=rng.randint(1, 400), street=rng.choice(STREETS)),
                "status": CaseStatus.CLOSED if closed else CaseStatus.OPEN, "state": state,
                "agency_responsible": department, "sla": sla.value,
                "assignee": None if state == CaseState.NEW else rng.choice(officers[department]),
                "requested_datetime": requested, "updated_datetime": requested + timedelta(hours=rng.randint(1, 90)),
                "expected_datetime": requested + timedelta(hours=hours), "is_emergency": sla == SLA.EMERGENCY,
                "channel": channel, "conversation_id": handle.format(h=100_000 + rng.randint(0, count // 3)),
                "routing_reason": "benchmark"})
        with sessions.begin() as session:
            session.execute(insert(Case), rows)
    with engine.begin() as connection:
        if url.startswith("postgresql"):  # the ids were given: move the sequence past them
            connection.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
    # statistics (and on PostgreSQL the visibility map, for index-only counts), as autovacuum keeps them
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE cases" if url.startswith("postgresql") else "ANALYZE"))
    with sessions() as session:
        sample = session.execute(select(Case.service_request_id, Case.conversation_id)
                                 .where(Case.agency_responsible == departments[0], Case.status == CaseStatus.CLOSED)
                                 .order_by(Case.id.desc()).limit(1)).one()
    engine.dispose()
    console.print(f"Filled {count:,} cases in {time.perf_counter() - began:.0f} s ({url.split('://')[0]}).")
    return {"number": sample[0], "handle": sample[1]}


def pages(found: dict[str, str], departments: list[str]) -> list[tuple[str, str, str]]:
    """(who, label, address) of the pages timed."""
    other = departments[1]
    return [
        ("officer", "own department, open, page 1", "/inbox"),
        ("officer", "own department, open, page 5", "/inbox?page=5"),
        ("officer", "overdue", "/inbox?overdue=1"),
        ("officer", "mine", "/inbox?mine=1"),
        ("officer", "state: waiting for the citizen", "/inbox?state=waiting_citizen"),
        ("officer", "deadline class: policy", "/inbox?sla=policy"),
        ("officer", "closed, page 1", "/inbox?view=closed"),
        ("officer", "closed, page 20", "/inbox?view=closed&page=20"),
        ("officer", "search: one word", "/inbox?q=pothole"),
        ("officer", "search: two words, closed", "/inbox?q=light+elm&view=closed"),
        ("officer", "search: case number", f"/inbox?q={found['number']}&view=closed"),
        ("officer", "search: handle", f"/inbox?q={found['handle']}&view=closed"),
        ("supervisor", "all departments, open, page 1", "/inbox"),
        ("supervisor", "one department, open", f"/inbox?department={other}"),
        ("supervisor", "all, closed, page 1", "/inbox?view=closed"),
        ("supervisor", "all, closed, page 100", "/inbox?view=closed&page=100"),
        ("supervisor", "search: one word, closed", "/inbox?q=graffiti&view=closed"),
        ("supervisor", "search: word + overdue", "/inbox?q=hydrant&overdue=1"),
        ("supervisor", "search: rare word prefix", "/inbox?q=sof&view=closed"),
    ]


def measure(settings: Settings, found: dict[str, str], departments: list[str], runs: int) -> list[tuple[str, ...]]:
    app = create_app(settings)
    results = []
    with TestClient(app):
        staff = app.state.staff
        staff.add(username="bench.officer", display_name="Bench Officer", password=PASSWORD, role="staff",
                  department=departments[0])
        staff.add(username="bench.supervisor", display_name="Bench Supervisor", password=PASSWORD,
                  role="supervisor")
        clients = {}
        for who in ("officer", "supervisor"):
            browser = TestClient(app, follow_redirects=False)
            page = browser.get("/inbox/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            answer = browser.post("/inbox/login", data={"username": f"bench.{who}", "password": PASSWORD,
                                                        "csrf_token": token})
            assert answer.status_code == 303, answer.text
            clients[who] = browser
        for who, label, path in pages(found, departments):
            browser = clients[who]
            assert browser.get(path).status_code == 200  # warm
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                response = browser.get(path)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
            matches = response.text.split('id="matches">', 1)[1].split(" case", 1)[0]
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            results.append((who, label, matches, f"{statistics.median(times):.0f}", f"{p95:.0f}"))
    return results


def main(cases: Annotated[int, typer.Option(help="Cases to fill the database with.")] = 100_000,
         runs: Annotated[int, typer.Option(help="Fetches per page (after one to warm up).")] = 30,
         database_url: Annotated[str | None, typer.Option(help="Also on this empty PostgreSQL database.")] = None,
         ) -> None:
    folder = Path(tempfile.mkdtemp(prefix="citydesk-bench-inbox-"))
    base = Settings(data_dir=folder)
    departments = [d.code for d in load_directory(base.directory_file).departments]
    departments.remove("public-works")
    departments.insert(0, "public-works")
    targets = [("SQLite", base)]
    if database_url:
        targets.append(("PostgreSQL", Settings(data_dir=folder, database_url=database_url)))
    for name, settings in targets:
        found = fill(settings.resolved_database_url, cases, departments)
        table = Table("who", "page", "matches", "p50 ms", "p95 ms",
                      title=f"Inbox pages, {name}, {cases:,} cases, {runs} fetches each")
        for row in measure(settings, found, departments, runs):
            table.add_row(*row)
        console.print(table)


if __name__ == "__main__":
    typer.run(main)
