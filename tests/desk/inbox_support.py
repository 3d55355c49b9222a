"""Shared by the inbox's HTTP and browser tests: staff accounts and cases opened through the hand-off."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from database import create_db_engine, session_factory
from handoff.directory import SLA, Directory, load_directory
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import CaseDesk
from handoff.staff import StaffAccounts
from settings import Settings
from tests.conftest import writer_for

PASSWORD = "a long enough password"
# username: (display name, role, department)
USERS = {"rosa": ("Rosa Martinez", "staff", "public-works"),
         "wes": ("Wes Kowalski", "staff", "waste"),
         "sam": ("Sam Supervisor", "supervisor", None),
         "eddie": ("Eddie Editor", "editor", None)}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(accounts: StaffAccounts) -> None:
    for username, (name, role, department) in USERS.items():
        accounts.add(username=username, display_name=name, password=PASSWORD, role=role, department=department)


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


def now_minus(cases: CaseDesk, **delta: float) -> datetime:
    return cases.now() - timedelta(**delta)
