"""Staff accounts: who may log in to the inbox, their role and department."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from handoff.directory import Directory
from handoff.models import Role, StaffUser
from handoff.passwords import DUMMY_HASH, hash_password, verify_password
from handoff.service import Actor

ROLES = (Role.STAFF, Role.HEAD, Role.SUPERVISOR, Role.EDITOR)  # of accounts (SYSTEM is the desk itself)
INBOX_ROLES = frozenset({Role.STAFF, Role.HEAD, Role.SUPERVISOR})
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1_000
DEMO_DEPARTMENTS = ("public-works", "waste")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class StaffError(ValueError):
    """An account the desk refuses to create, with the reason."""


@dataclass(frozen=True)
class DemoAccount:
    user: StaffUser
    password: str


def actor_of(user: StaffUser) -> Actor:
    """The hand-off procedure's view of a logged-in user."""
    return Actor(username=user.username, role=Role(user.role), department=user.department,
                 reviewer=bool(user.reviewer))


class StaffAccounts:
    def __init__(self, sessions: sessionmaker, directory: Directory) -> None:
        self._sessions = sessions
        self.directory = directory

    def add(self, *, username: str, display_name: str, password: str, role: str,
            department: str | None = None, reviewer: bool = False) -> StaffUser:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise StaffError("a username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
                             "starting with a letter or digit")
        if not display_name.strip():
            raise StaffError("give the person's name (--name)")
        if role not in ROLES:
            raise StaffError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
        if role in (Role.STAFF, Role.HEAD) and not department:
            raise StaffError(f"a {'head' if role == Role.HEAD else 'staff member'} belongs to a department "
                             "(--department)")
        if department is not None:
            try:
                self.directory.department(department)
            except KeyError:
                codes = ", ".join(d.code for d in self.directory.departments)
                raise StaffError(f"unknown department {department!r}; one of: {codes}") from None
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise StaffError(f"a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long")
        with self._sessions.begin() as session:
            if session.get(StaffUser, username) is not None:
                raise StaffError(f"there is already a user {username!r}")
            user = StaffUser(username=username, display_name=display_name.strip(),
                             password_hash=hash_password(password), role=role, department=department,
                             reviewer=reviewer)
            session.add(user)
        return user

    def get(self, username: str) -> StaffUser | None:
        with self._sessions() as session:
            return session.get(StaffUser, username.strip().lower())

    def all(self) -> list[StaffUser]:
        with self._sessions() as session:
            return list(session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.department,
                                                                   StaffUser.username)))

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(StaffUser)) or 0

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """The user, if the password is theirs; None for an unknown user and a wrong password alike."""
        user = self.get(username) if username.strip() else None
        matches = verify_password(password, user.password_hash if user else DUMMY_HASH)
        return user if user is not None and matches else None

    def create_demo_accounts(self) -> list[DemoAccount]:
        """On a desk with no users: an officer each for Public Works and Waste & Recycling, a supervisor, an editor."""
        if self.count():
            return []
        codes = [d.code for d in self.directory.departments]
        # another city's directory may lack these two: then its first departments stand in
        chosen = ([c for c in DEMO_DEPARTMENTS if c in codes] + [c for c in codes if c not in DEMO_DEPARTMENTS])[:2]
        plans: list[tuple[str, str, Role, str | None]] = [
            (code.replace("-", ""), f"Demo officer, {self.directory.department(code).name}", Role.STAFF, code)
            for code in chosen]
        plans.append(("supervisor", "Demo supervisor", Role.SUPERVISOR, None))
        plans.append(("editor", "Demo editor", Role.EDITOR, None))
        accounts = []
        for username, name, role, department in plans:
            password = secrets.token_urlsafe(12)
            accounts.append(DemoAccount(self.add(username=username, display_name=name, password=password,
                                                 role=role, department=department), password))
        return accounts
