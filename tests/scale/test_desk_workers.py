"""CITYDESK_DESK_WORKERS: `python -m desk` (what `citydesk serve` starts) runs that many worker processes behind the
desk's port on PostgreSQL, and one on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.scale.conftest import fresh_database
from tests.support import free_port

pytestmark = pytest.mark.e2e


def worker_processes(pid: int) -> list[int]:
    """The desk's worker processes (uvicorn's, started by multiprocessing's spawn; not its resource tracker)."""
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def test_two_desk_workers_on_postgresql_serve_the_desk(tmp_path, postgresql_url):
    settings = Settings(data_dir=tmp_path, seed_kb_file=DEMO_KB_FILE, internal_token=None, desk_port=free_port(),
                        database_url=fresh_database(postgresql_url), desk_workers=2)
    assert settings.effective_desk_workers == 2
    with Stack(settings, components=("desk",), connectors=()) as stack:
        [desk] = stack.processes
        assert len(worker_processes(desk.started.pid)) == 2
        with httpx.Client(base_url=settings.desk_url, timeout=30) as client:
            for _ in range(6):  # either worker answers, from the same database
                assert client.get("/health").status_code == 200
            page = client.get("/disclosure")
            assert page.status_code == 200
    # the entries were loaded once (by the launcher, before the workers started), not once per worker
    import psycopg
    with psycopg.connect(settings.resolved_database_url.replace("+psycopg", "")) as db:
        [(count,)] = db.execute("SELECT count(*) FROM kb_entries").fetchall()
    assert count == len(DEMO_KB_FILE.read_text().splitlines())


def test_sqlite_keeps_one_desk_worker(tmp_path):
    assert Settings(data_dir=tmp_path, desk_workers=4).effective_desk_workers == 1
