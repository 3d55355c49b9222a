"""Fixtures of every folder: a fresh migrated SQLite database and settings on it. Settings and the database only.

What the higher layers share lives in the conftest.py of the folder of the package that owns it: the knowledge
bases in tests/knowledge_base, the redactor in tests/privacy, the transcript writer in tests/transcripts, clocks,
directories and case desks in tests/handoff; a folder above imports them from there (tests/test_layers.py checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from database import create_db_engine, session_factory, upgrade
from settings import Settings


@pytest.fixture
def db_url(tmp_path) -> str:
    """A fresh SQLite file, citydesk.db in the test's folder, with every migration applied."""
    url = f"sqlite:///{tmp_path / 'citydesk.db'}"
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url):
    """Sessions on `db_url`; the engine is disposed after the test."""
    engine = create_db_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path, db_url) -> Settings:
    """The settings of a data folder (the test's folder) whose database is `db_url`, the one `sessions` opens."""
    return Settings(data_dir=tmp_path, database_url=db_url)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
