"""Staff accounts: who may log in to the inbox, their role and department."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff import audit
from handoff.directory import Directory
from handoff.models import Role, StaffUser
from handoff.passwords import DUMMY_HASH, hash_password, needs_rehash, temporary_password, verify_password
from handoff.service import Actor

# of accounts (SYSTEM is the desk itself)
ROLES = (Role.STAFF, Role.HEAD, Role.SUPERVISOR, Role.EDITOR, Role.ADMIN, Role.BROADCASTER)
INBOX_ROLES = frozenset({Role.STAFF, Role.HEAD, Role.SUPERVISOR})
TEMPORARY_PASSWORD_VALID = timedelta(days=3)  # an administrator's reset: unused after this, it no longer works
SYSTEM_ACTOR = "system"  # the audit log's actor for the command line and the desk itself
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1_000
DEMO_DEPARTMENTS = ("public-works", "waste")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# One address, as an SMTP server takes it: no display name, no spaces, a dotted domain.
EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")
MAX_EMAIL_CHARS = 300


def checked_email(email: str | None) -> str | None:
    """An account's e-mail address, stripped; None for an empty one; StaffError for one that is not an address."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL_CHARS or not EMAIL.match(email):
        raise StaffError(f"{email!r} is not an e-mail address (name@example.org)")
    return email


class StaffError(ValueError):
    """An account the desk refuses to create or change, with the reason."""


@dataclass(frozen=True)
class LoginResult:
    """A login attempt's outcome: the user when `ok`, else why not (said the same way to the person for an unknown
    user and a wrong password)."""

    user: StaffUser | None
    reason: str  # ok | wrong | disabled | expired

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass(frozen=True)
class DemoAccount:
    user: StaffUser
    password: str


def actor_of(user: StaffUser) -> Actor:
    """The hand-off procedure's view of a logged-in user."""
    return Actor(username=user.username, role=Role(user.role), department=user.department,
                 reviewer=bool(user.reviewer))


class StaffAccounts:
    def __init__(self, sessions: sessionmaker, directory: Directory,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self.directory = directory
        self.clock = clock

    def _check_role(self, role: str, department: str | None) -> None:
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

    @staticmethod
    def _check_password(password: str) -> None:
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise StaffError(f"a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long")

    def add(self, *, username: str, display_name: str, password: str, role: str,
            department: str | None = None, actor: str = SYSTEM_ACTOR, temporary: bool = False,
            reviewer: bool = False, email: str | None = None) -> StaffUser:
        """A new account; `temporary`: the password must be changed at the first login (and expires unused);
        `email`: where the officer's own notices go (assigned to them, follow-ups, reminders, returned drafts)."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise StaffError("a username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
                             "starting with a letter or digit")
        if not display_name.strip():
            raise StaffError("give the person's name (--name)")
        department = department or None
        self._check_role(role, department)
        self._check_password(password)
        email = checked_email(email)
        now = self.clock()
        with self._sessions.begin() as session:
            if session.get(StaffUser, username) is not None:
                raise StaffError(f"there is already a user {username!r}")
            user = StaffUser(username=username, display_name=display_name.strip(),
                             password_hash=hash_password(password), role=role, department=department,
                             reviewer=reviewer, email=email, must_change_password=temporary,
                             password_changed_at=now,
                             password_expires_at=now + TEMPORARY_PASSWORD_VALID if temporary else None)
            session.add(user)
            audit.record(actor, audit.ACCOUNT_CREATED, username,
                         f"role {role}" + (f", department {department}" if department else ""), session=session,
                         at=now)
        return user

    @contextmanager
    def _change(self, username: str) -> Iterator[tuple[Session, StaffUser]]:
        with self._sessions.begin() as session:
            user = session.get(StaffUser, username.strip().lower())
            if user is None:
                raise StaffError(f"there is no user {username.strip().lower()!r}")
            yield session, user

    def _other_admins(self, session: Session, username: str) -> int:
        return session.scalar(select(func.count()).select_from(StaffUser).where(
            StaffUser.role == Role.ADMIN, StaffUser.disabled_at.is_(None), StaffUser.username != username)) or 0

    def disable(self, username: str, *, actor: str = SYSTEM_ACTOR, reason: str = "") -> StaffUser:
        """The account can no longer log in, and its open sessions end at their next request."""
        with self._change(username) as (session, user):
            if user.username == actor:
                raise StaffError("you cannot disable your own account")
            if user.disabled_at is not None:
                raise StaffError(f"{user.username} is already disabled")
            if user.role == Role.ADMIN and not self._other_admins(session, user.username):
                raise StaffError(f"{user.username} is the last administrator; make another one first")
            user.disabled_at = self.clock()
            audit.record(actor, audit.ACCOUNT_DISABLED, user.username, reason.strip(), session=session,
                         at=user.disabled_at)
        return user

    def enable(self, username: str, *, actor: str = SYSTEM_ACTOR) -> StaffUser:
        with self._change(username) as (session, user):
            if user.disabled_at is None:
                raise StaffError(f"{user.username} is not disabled")
            user.disabled_at = None
            audit.record(actor, audit.ACCOUNT_ENABLED, user.username, session=session, at=self.clock())
        return user

    def change_role(self, username: str, *, role: str, department: str | None, actor: str = SYSTEM_ACTOR) -> StaffUser:
        """A new role and department (either may stay as it was)."""
        department = department or None
        self._check_role(role, department)
        with self._change(username) as (session, user):
            if user.role == Role.ADMIN and role != Role.ADMIN:
                if user.username == actor:
                    raise StaffError("you cannot take the administrator role from yourself")
                if not self._other_admins(session, user.username):
                    raise StaffError(f"{user.username} is the last administrator; make another one first")
            now = self.clock()
            if role != user.role:
                audit.record(actor, audit.ACCOUNT_ROLE_CHANGED, user.username, f"{user.role} → {role}",
                             session=session, at=now)
            if department != user.department:
                audit.record(actor, audit.ACCOUNT_DEPARTMENT_CHANGED, user.username,
                             f"{user.department or '—'} → {department or '—'}", session=session, at=now)
            user.role, user.department = role, department
        return user

    def edit(self, username: str, *, email: str | None = None, display_name: str | None = None,
             actor: str = SYSTEM_ACTOR) -> StaffUser:
        """A new e-mail address ("" removes it) and/or name; None leaves each as it is."""
        new_email = checked_email(email) if email is not None else None
        if display_name is not None and not display_name.strip():
            raise StaffError("a name cannot be empty")
        with self._change(username) as (session, user):
            now = self.clock()
            if email is not None and new_email != user.email:
                audit.record(actor, audit.ACCOUNT_EMAIL_CHANGED, user.username,
                             f"{user.email or '—'} → {new_email or '—'}", session=session, at=now)
                user.email = new_email
            if display_name is not None and display_name.strip() != user.display_name:
                audit.record(actor, audit.ACCOUNT_NAME_CHANGED, user.username,
                             f"{user.display_name} → {display_name.strip()}", session=session, at=now)
                user.display_name = display_name.strip()
        return user

    def reset_password(self, username: str, *, actor: str = SYSTEM_ACTOR) -> str:
        """A temporary password (returned once, stored only hashed): it ends the account's sessions, must be
        changed at the next login, and stops working after TEMPORARY_PASSWORD_VALID."""
        password = temporary_password()
        with self._change(username) as (session, user):
            now = self.clock()
            user.password_hash = hash_password(password)
            user.must_change_password = True
            user.password_expires_at = now + TEMPORARY_PASSWORD_VALID
            user.password_changed_at = now
            audit.record(actor, audit.ACCOUNT_PASSWORD_RESET, user.username, "temporary password issued",
                         session=session, at=now)
        return password

    def change_password(self, username: str, *, current: str, new: str) -> StaffUser:
        """One's own password: the current one is asked for again; the new one must differ."""
        self._check_password(new)
        if new == current:
            raise StaffError("the new password must differ from the current one")
        with self._change(username) as (session, user):
            if not verify_password(current, user.password_hash):
                raise StaffError("the current password is wrong")
            now = self.clock()
            user.password_hash = hash_password(new)
            user.must_change_password = False
            user.password_expires_at = None
            user.password_changed_at = now
            audit.record(user.username, audit.ACCOUNT_PASSWORD_CHANGED, user.username, session=session, at=now)
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
        """The user, if the password is theirs and the account may log in; None otherwise."""
        return self.login(username, password).user

    def login(self, username: str, password: str) -> LoginResult:
        """Check a password; an enabled account whose hash is of an older scheme gets an argon2 hash now."""
        user = self.get(username) if username.strip() else None
        matches = verify_password(password, user.password_hash if user else DUMMY_HASH)
        if user is None or not matches:
            return LoginResult(None, "wrong")
        if user.disabled_at is not None:
            return LoginResult(None, "disabled")
        if user.must_change_password and user.password_expires_at and self.clock() >= user.password_expires_at:
            return LoginResult(None, "expired")
        if needs_rehash(user.password_hash):
            with self._change(user.username) as (session, stored):
                stored.password_hash = hash_password(password)  # other sessions of the account end, as on a change
                audit.record(SYSTEM_ACTOR, audit.ACCOUNT_PASSWORD_REHASHED, stored.username, "argon2id",
                             session=session, at=self.clock())
            user = self.get(user.username)
        return LoginResult(user, "ok")

    def create_demo_accounts(self) -> list[DemoAccount]:
        """On a desk with no users: an officer each for Public Works and Waste & Recycling, a supervisor, an editor,
        an administrator."""
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
        plans.append(("admin", "Demo administrator", Role.ADMIN, None))
        accounts = []
        for username, name, role, department in plans:
            password = secrets.token_urlsafe(12)
            accounts.append(DemoAccount(self.add(username=username, display_name=name, password=password,
                                                 role=role, department=department), password))
        return accounts
