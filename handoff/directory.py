"""The departments and service categories a case can go to, loaded from handoff/departments.yml."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from settings import DEFAULT_DIRECTORY_FILE as SETTINGS_DIRECTORY_FILE

DEFAULT_DIRECTORY_FILE = SETTINGS_DIRECTORY_FILE


class SLA(StrEnum):
    """Deadline classes of the hand-off procedure."""

    SIMPLE = "simple"
    REVIEW = "review"
    POLICY = "policy"
    EMERGENCY = "emergency"


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    email: str


class Department(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    head: Person


class Category(BaseModel):
    """An Open311 service: what a citizen reports, which department handles it, how fast."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    department: str
    sla: SLA = SLA.SIMPLE
    examples: tuple[str, ...] = ()


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    fallback_department: str
    duty_officer: Person
    departments: tuple[Department, ...]
    categories: tuple[Category, ...] = ()

    @model_validator(mode="after")
    def _references_exist(self) -> Directory:
        codes = [d.code for d in self.departments]
        if len(set(codes)) != len(codes):
            raise ValueError("department codes must be unique")
        category_codes = [c.code for c in self.categories]
        if len(set(category_codes)) != len(category_codes):
            raise ValueError("category codes must be unique")
        for name, code in (("fallback_department", self.fallback_department),
                           *((f"category {c.code}", c.department) for c in self.categories)):
            if code not in codes:
                raise ValueError(f"{name} names unknown department {code!r}")
        return self

    def department(self, code: str) -> Department:
        for department in self.departments:
            if department.code == code:
                return department
        raise KeyError(f"unknown department {code!r}")

    def department_by_name(self, name: str) -> Department | None:
        """The department a knowledge base entry names (entries use display names), if any."""
        wanted = name.strip().casefold()
        return next((d for d in self.departments if d.name.casefold() == wanted or d.code == wanted), None)

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(f"unknown category {code!r}")


def load_directory(path: Path = DEFAULT_DIRECTORY_FILE) -> Directory:
    return Directory.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@cache
def default_directory() -> Directory:
    return load_directory()
