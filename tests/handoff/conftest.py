"""Hand-off fixtures: a fake clock, a case desk on a fresh migrated SQLite file, small directories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from database import create_db_engine, session_factory, upgrade
from handoff.directory import Category, Department, Directory, Person, default_directory
from handoff.service import CaseDesk
from tests.conftest import writer_for

CITY_TIMEZONE = "America/New_York"
# A Monday afternoon in the city (14:00 UTC = 9:00 AM EST).
START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def person(name: str) -> Person:
    return Person(name=name.title(), email=f"{name}@city.example")


def small_directory(**overrides) -> Directory:
    """Four departments (names as knowledge base entries spell them) and one category."""
    fields = dict(
        fallback_department="inbox", duty_officer=person("duty"),
        departments=(Department(code="inbox", name="Citizen Services", head=person("ivy")),
                     Department(code="roads", name="Public Works", head=person("rob")),
                     Department(code="waste", name="Waste & Recycling", head=person("wes")),
                     Department(code="library", name="Public Library", head=person("lia"))),
        categories=(Category(code="pothole", name="Pothole", department="roads"),))
    return Directory(**{**fields, **overrides})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path}/cases.db"
    upgrade(url)
    engine = create_db_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def desk(sessions, clock) -> CaseDesk:
    """A case desk on the city's real directory (handoff/departments.yml)."""
    return CaseDesk(sessions, default_directory(), CITY_TIMEZONE, transcript=writer_for(sessions, clock=clock),
                    clock=clock)
