"""The alert templates: a YAML file the city edits (settings.broadcast_templates_file), checked when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE",
              "Other")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
CITY_WIDE = "the whole city"


class TemplateError(ValueError):
    """A template file or a value the desk cannot use, with the reason."""


@dataclass(frozen=True)
class AlertTemplate:
    name: str
    event: str
    category: str
    severity: str
    urgency: str
    certainty: str
    expires_hours: float
    headline: str
    instruction: str = ""

    def headline_for(self, area: str) -> str:
        return self.headline.format(area=area or CITY_WIDE)


def check_value(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    """A CAP value, as CAP spells it (case-insensitive input)."""
    for option in allowed:
        if option.lower() == value.strip().lower():
            return option
    raise TemplateError(f"{kind} {value!r} is not one of CAP's: {', '.join(allowed)}")


def load_templates(path: Path) -> dict[str, AlertTemplate]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"cannot read the alert templates {path}: {error}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: expected a mapping of template names")
    templates = {}
    for name, fields in data.items():
        if not isinstance(fields, dict):
            raise TemplateError(f"{path}: template {name!r} is not a mapping")
        try:
            templates[str(name)] = AlertTemplate(
                name=str(name), event=str(fields["event"]),
                category=check_value("category", str(fields["category"]), CATEGORIES),
                severity=check_value("severity", str(fields["severity"]), SEVERITIES),
                urgency=check_value("urgency", str(fields["urgency"]), URGENCIES),
                certainty=check_value("certainty", str(fields.get("certainty", "Likely")), CERTAINTIES),
                expires_hours=float(fields.get("expires_hours", 24)), headline=str(fields["headline"]),
                instruction=str(fields.get("instruction", "")))
        except KeyError as missing:
            raise TemplateError(f"{path}: template {name!r} lacks {missing}") from None
    return templates
