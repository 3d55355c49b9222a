"""Relational storage shared by the desk's packages: engine, declarative base, migrations."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from database.engine import Base, create_db_engine, session_factory
from database.migrate import upgrade
from settings import Settings


def open(settings: Settings, *, migrate: bool = True) -> sessionmaker:
    """Sessions on the settings' database, brought to the newest schema first unless `migrate` is False.

    Every process and command opens the database this way, so that `--data-dir` and `DATABASE_URL` mean the
    same everywhere.
    """
    url = settings.resolved_database_url
    if migrate:
        upgrade(url)
    return session_factory(create_db_engine(url))


__all__ = ["Base", "create_db_engine", "open", "session_factory", "upgrade"]
