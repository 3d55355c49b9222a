"""Shared by the inbox's HTTP and browser tests: staff accounts, the login form's CSRF token, times in the past.

Cases opened at a given moment come from tests/handoff/conftest.py (`desk_at`, `open_case`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handoff.service import CaseDesk
from handoff.staff import StaffAccounts

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


def now_minus(cases: CaseDesk, **delta: float) -> datetime:
    return cases.now() - timedelta(**delta)
