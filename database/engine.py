"""SQLAlchemy engine and session set-up for SQLite (default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

# Several processes (desk, Rasa's tracker store, the CLI) share one SQLite file:
# WAL lets readers run beside a writer, and the busy timeout makes a writer wait
# for a lock instead of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a crash of any process (what the
# exactly-once tests kill), and only an operating-system crash or power cut may roll back the last commits. FULL cost
# an fsync of about 6 ms per commit here, taken with the write lock held, four to five times per message (README,
# Throughput). A city that needs every commit on disk at once runs PostgreSQL.
SQLITE_SYNCHRONOUS = "NORMAL"


class Base(DeclarativeBase):
    """Declarative base of every table the desk owns."""


def create_db_engine(url: str) -> Engine:
    """Engine for `url`; creates the SQLite file's folder and sets WAL and a busy timeout."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
