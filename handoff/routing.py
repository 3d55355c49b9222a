"""Which department gets a case: one pure function, every branch tested."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accounts import Account
from handoff.directory import Category, Department, Directory
from knowledge_base.department_vote import vote_department


class RoutingError(ValueError):
    """A case that would go nowhere: an error, never a silent drop."""


@dataclass(frozen=True)
class Assignment:
    department: Department
    reason: str


def route_case(*, directory: Directory, category: Category | None = None,
               entry_matches: Sequence[tuple[str | None, float]] = (),
               account: Account | None = None) -> Assignment:
    """Category override, else the default department of the account written to, else the department of the
    best-matching entries, else the fallback inbox.

    `entry_matches` are (department name, confidence) of the best knowledge base entries, best first. A category
    the directory has goes where the directory maps it now (handoff/city_directory.py maps categories onto the
    city's departments), whatever department the classifier's copy of it names. A message naming a service
    category says where it goes; otherwise a message to the transport account goes to its department (Transport).
    """
    if category is not None:
        category = next((c for c in directory.categories if c.code == category.code), category)
        try:
            return Assignment(directory.department(category.department), f"category {category.code}")
        except KeyError:
            raise RoutingError(f"category {category.code!r} names unknown department "
                               f"{category.department!r}") from None
    if account is not None and account.department is not None:
        try:
            return Assignment(directory.department(account.department),
                              f"default department of account {account.name}")
        except KeyError:
            raise RoutingError(f"account {account.name!r} names unknown department {account.department!r}") from None
    best = vote_department(entry_matches, accept=lambda name: getattr(directory.department_by_name(name), "code",
                                                                      None))
    if best is not None:
        return Assignment(directory.department(best), "best-matching knowledge base entries")
    try:
        return Assignment(directory.department(directory.fallback_department), "fallback inbox")
    except KeyError:
        raise RoutingError(f"fallback department {directory.fallback_department!r} does not exist") from None


def check_account_departments(accounts: Sequence[Account], directory: Directory) -> None:
    """Every account's default department is one of the directory's: a typo is refused at start, not at the first
    case."""
    codes = {department.code for department in directory.departments}
    for account in accounts:
        if account.department is not None and account.department not in codes:
            raise RoutingError(f"account {account.name!r} names unknown department {account.department!r}; the "
                               f"departments are {', '.join(sorted(codes))}")
