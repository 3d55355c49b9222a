"""Hand-off fixtures: a fake clock, a case desk on a fresh migrated SQLite file, small directories, the category
classifier; cases opened at a given moment for the tests of the layers above (disclosure, desk, browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from database import create_db_engine, session_factory
from handoff.categories import CategoryClassifier
from handoff.directory import SLA, Category, Department, Directory, Person, default_directory, load_directory
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import CaseDesk
from settings import Settings
from tests.knowledge_base.conftest import embedder, make_kb, small_kb  # noqa: F401  (fixtures of these tests)
from tests.transcripts.conftest import writer_for

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
def desk(sessions, clock) -> CaseDesk:
    """A case desk on the city's real directory (handoff/departments.yml)."""
    return CaseDesk(sessions, default_directory(), CITY_TIMEZONE, transcript=writer_for(sessions, clock=clock),
                    clock=clock)


@pytest.fixture(scope="module")
def classifier(embedder) -> CategoryClassifier:  # noqa: F811
    return CategoryClassifier(default_directory(), embedder)


def desk_at(settings: Settings, moment: datetime) -> CaseDesk:
    """A case desk on the settings' database whose clock stands at `moment`: cases opened in the past."""
    sessions = session_factory(create_db_engine(settings.resolved_database_url))
    return CaseDesk(sessions, load_directory(settings.directory_file), settings.city_timezone,
                    transcript=writer_for(sessions, clock=lambda: moment), clock=lambda: moment)


def open_case(cases: CaseDesk, *, category: str | None, text: str, conversation_id: str,
              sla: SLA = SLA.SIMPLE, address: str | None = None, department: str | None = None) -> Case:
    """A case routed the way the hand-off routes it: by category, else to `department` as the entries say."""
    directory: Directory = cases.directory
    found = directory.category(category) if category else None
    matches = [(directory.department(department).name, 0.9)] if department else []
    return cases.open_case(description=text, channel="web", conversation_id=conversation_id, sla=sla,
                           assignment=route_case(directory=directory, category=found, entry_matches=matches),
                           category=found, address=address)
