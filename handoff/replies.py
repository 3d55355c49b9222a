"""Response templates for staff replies, per service category, loaded from handoff/templates.yml."""

from __future__ import annotations

from pathlib import Path
from string import Template

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel

from handoff.directory import Directory
from handoff.models import Case

DEFAULT_TEMPLATES_FILE = Path(__file__).resolve().parent / "templates.yml"
DEFAULT_KEY = "default"


class ResponseTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ResponseTemplates(RootModel[dict[str, tuple[ResponseTemplate, ...]]]):
    """Category code (or `default`) → its templates."""

    def for_case(self, case: Case) -> list[ResponseTemplate]:
        """The case's category's templates first, then the default ones."""
        own = self.root.get(case.service_code, ()) if case.service_code else ()
        return [*own, *self.root.get(DEFAULT_KEY, ())]

    def check_categories(self, directory: Directory) -> None:
        """A key that names no category is a typo that would silently hide its templates."""
        known = {c.code for c in directory.categories} | {DEFAULT_KEY}
        unknown = sorted(set(self.root) - known)
        if unknown:
            raise ValueError(f"response templates for unknown categories: {', '.join(unknown)}")


def fill(template: ResponseTemplate, case: Case, directory: Directory) -> str:
    """The template's text for one case; placeholders it cannot fill read naturally."""
    try:
        department = directory.department(case.agency_responsible).name
    except KeyError:
        department = "The department"
    return Template(template.text).safe_substitute(
        case_number=case.service_request_id, department=department,
        category=(case.service_name or "your report").lower(), address=case.address or "the place you reported")


def load_templates(path: Path = DEFAULT_TEMPLATES_FILE, directory: Directory | None = None) -> ResponseTemplates:
    templates = ResponseTemplates.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    if directory is not None:
        templates.check_categories(directory)
    return templates
