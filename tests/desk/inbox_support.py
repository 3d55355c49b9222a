"""Shared by the staff pages' HTTP and browser tests: staff accounts, the login form's CSRF token, logging in, an
element's text, times in the past.

Cases opened at a given moment come from tests/handoff/conftest.py (`desk_at`, `open_case`)."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

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


def token(response: Response) -> str:
    """The CSRF token of the page's forms."""
    match = CSRF.search(response.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def anonymous(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


def logged_in(app: FastAPI, username: str, next_path: str = "") -> TestClient:
    """A session of `username`, logged in from the login page as a person would."""
    client = anonymous(app)
    response = client.post("/inbox/login", data={"username": username, "password": PASSWORD, "next": next_path,
                                                  "csrf_token": token(client.get("/inbox/login"))})
    assert response.status_code == 303, response.text
    return client


def element(response: Response, element_id: str) -> str:
    """The text of the element with this id (its tags removed)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', response.text, re.DOTALL)
    assert match, f"no element #{element_id} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(2))).strip()
