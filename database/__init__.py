"""Relational storage shared by the desk's packages: engine, declarative base, migrations."""

from database.engine import Base, create_db_engine, session_factory
from database.migrate import upgrade

__all__ = ["Base", "create_db_engine", "session_factory", "upgrade"]
