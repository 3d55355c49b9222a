"""The departments and service categories a case can go to, loaded from handoff/departments.yml."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from handoff.clock import OfficeHours
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


def slug(name: str) -> str:
    """A department's code made from its name: "Parks & Recreation" -> "parks-and-recreation"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.replace("&", " and ")).strip("-")


class Department(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    head: Person
    # Not in the city's directory file: added because knowledge base entries name it (handoff/city_directory.py);
    # its head is the fallback department's until the city adds it to the file.
    from_knowledge_base: bool = False
    # "Mon-Fri 08:00-17:00" in the city's time: its `simple` cases are due in 3 business hours (public holidays
    # off); none: 3 hours around the clock
    office_hours: str | None = None
    # an officer's answer waits for a reviewer (the head, a supervisor or a staff member marked reviewer)
    review_answers: bool = False

    @field_validator("office_hours")
    @classmethod
    def _office_hours_read(cls, value: str | None) -> str | None:
        if value is not None:
            OfficeHours.parse(value)
        return value

    @property
    def hours(self) -> OfficeHours | None:
        return OfficeHours.parse(self.office_hours) if self.office_hours else None


class AttributeValue(BaseModel):
    """One choice of a list attribute: the key filed, the name shown."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    name: str


class Attribute(BaseModel):
    """A question a service asks beside the description (Open311 GeoReport v2's service definition attribute)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    description: str  # the question, as the filer reads it
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"] = "string"
    required: bool = False
    datatype_description: str = ""
    values: tuple[AttributeValue, ...] = ()

    @model_validator(mode="after")
    def _lists_have_values(self) -> Attribute:
        if self.datatype.endswith("valuelist") and not self.values:
            raise ValueError(f"attribute {self.code!r} is a {self.datatype} without values")
        if self.values and not self.datatype.endswith("valuelist"):
            raise ValueError(f"attribute {self.code!r} has values but is a {self.datatype}")
        return self


class Category(BaseModel):
    """An Open311 service: what a citizen reports, which department handles it, how fast, what else it asks."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    department: str
    sla: SLA = SLA.SIMPLE
    examples: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()

    @model_validator(mode="after")
    def _attribute_codes_unique(self) -> Category:
        codes = [a.code for a in self.attributes]
        if len(set(codes)) != len(codes):
            raise ValueError(f"category {self.code!r} has two attributes of one code")
        return self


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    fallback_department: str
    duty_officer: Person
    departments: tuple[Department, ...]
    categories: tuple[Category, ...] = ()
    # The city's own mapping of service categories onto its departments: category code -> department name or
    # code, of the file or one only the knowledge base's entries name (handoff/city_directory.py).
    category_departments: dict[str, str] = {}

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
        for code, department in self.category_departments.items():
            if code not in category_codes:
                raise ValueError(f"category_departments names unknown category {code!r}")
            if not slug(department):
                raise ValueError(f"category_departments gives category {code!r} no department")
        return self

    def department(self, code: str) -> Department:
        for department in self.departments:
            if department.code == code:
                return department
        raise KeyError(f"unknown department {code!r}")

    def department_by_name(self, name: str) -> Department | None:
        """The department a knowledge base entry names (entries use display names), if any.

        By name or code, ignoring case, accents and punctuation ("Parks and Recreation" is "Parks & Recreation").
        """
        wanted = name.strip().casefold()
        exact = next((d for d in self.departments if d.name.casefold() == wanted or d.code == wanted), None)
        if exact is not None or not slug(name):
            return exact
        return next((d for d in self.departments if slug(d.name) == slug(name) or d.code == slug(name)), None)

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
