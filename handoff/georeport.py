"""Categories and cases in the shape of Open311 GeoReport v2 (JSON), as the public may see them.

Personal contact data never leaves; the citizen's and staff's texts are redacted by the transcripts' redactor;
the place is published at block level (street without house or unit number, coordinates to ~100 m).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from handoff.deadlines import describe_deadline, is_overdue
from handoff.directory import SLA, Category, Directory
from handoff.models import Case, CaseEvent, CaseStatus
from handoff.places import block_address
from privacy import Redactor

ANSWERED_WITHIN = {SLA.SIMPLE: "within 3 hours", SLA.REVIEW: "within 3 days", SLA.POLICY: "within 5 days",
                   SLA.EMERGENCY: "at once"}
COORDINATE_DECIMALS = 3  # about 110 m of latitude: the block, not the door


class Service(BaseModel):
    """One service a citizen can request: a category of the directory."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="Whether the service asks for attributes: see services/{service_code}.json.")
    type: str = Field(description="Always 'realtime': a request becomes a case at once.")
    keywords: str = Field(description="Comma-separated ways citizens describe the problem.")
    group: str = Field(description="The department that handles it.")


class ServiceRequest(BaseModel):
    """A case as the public may see it: no name, e-mail, phone, device or account; texts redacted; place at block
    level."""

    service_request_id: str
    status: str = Field(description="open or closed")
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str
    agency_responsible: str = Field(description="The department's name.")
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime
    address: str | None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None
    long: float | None
    media_url: str | None = None


class AttributeChoice(BaseModel):
    key: str
    name: str


class ServiceAttribute(BaseModel):
    """One question of a service definition, in GeoReport v2's fields."""

    variable: bool = Field(description="Always true: the filer answers it (false would be information only).")
    code: str = Field(description="Filed as attribute[code].")
    datatype: str = Field(description="string, number, datetime, text, singlevaluelist or multivaluelist.")
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeChoice] = Field(default=[], description="The choices of a list attribute.")


class ServiceDefinition(BaseModel):
    """What a service asks beside the description (GET services/{service_code})."""

    service_code: str
    attributes: list[ServiceAttribute]


class RequestUpdate(BaseModel):
    """A change of a service request as Open311 clients such as FixMyStreet read it (servicerequestupdates):
    a public answer or question of staff, or the request's closing."""

    update_id: str
    service_request_id: str
    status: str = Field(description="open or closed")
    updated_datetime: datetime
    description: str = Field(description="What staff told the filer, redacted as the public reads it.")
    media_url: str = ""


# The events of a case that the public sees as updates, and the request's status after each. Everything else
# (claims, reassignments, escalations, staff-only notes, drafts awaiting review) stays inside the desk.
PUBLIC_UPDATES = {"replied": CaseStatus.OPEN, "asked_details": CaseStatus.OPEN, "closed": CaseStatus.CLOSED,
                  "reopened": CaseStatus.OPEN}


def service_of(category: Category, directory: Directory) -> Service:
    department = directory.department(category.department)
    return Service(service_code=category.code, service_name=category.name,
                   description=f"{category.name}: handled by {department.name}, answered "
                               f"{ANSWERED_WITHIN[category.sla]}.",
                   metadata=bool(category.attributes), type="realtime", keywords=", ".join(category.examples),
                   group=department.name)


def definition_of(category: Category) -> ServiceDefinition:
    return ServiceDefinition(service_code=category.code, attributes=[
        ServiceAttribute(variable=True, code=a.code, datatype=a.datatype, required=a.required,
                         datatype_description=a.datatype_description, order=order, description=a.description,
                         values=[AttributeChoice(key=v.key, name=v.name) for v in a.values])
        for order, a in enumerate(category.attributes, start=1)])


def attribute_problems(category: Category, given: dict[str, str]) -> list[str]:
    """What is wrong with a filed request's attributes: a required one missing, a choice not offered."""
    problems = []
    for attribute in category.attributes:
        value = (given.get(attribute.code) or "").strip()
        if attribute.required and not value:
            problems.append(f"attribute[{attribute.code}] is required for {category.code}: {attribute.description}")
        elif value and attribute.values:
            keys = [v.key for v in attribute.values]
            chosen = [part.strip() for part in value.split(",")] if attribute.datatype == "multivaluelist" else [value]
            problems += [f"attribute[{attribute.code}] {c!r} is not one of: {', '.join(keys)}."
                         for c in chosen if c not in keys]
    return problems


def request_updates(sessions: sessionmaker, *, start: datetime, end: datetime | None, timezone: str,
                    redactor: Redactor, limit: int = 1000) -> list[RequestUpdate]:
    """The public updates of every request between `start` and `end` (on when they happened), oldest first."""
    query = (select(CaseEvent, Case.service_request_id).join(Case, CaseEvent.case_id == Case.id)
             .where(CaseEvent.kind.in_(PUBLIC_UPDATES), CaseEvent.at >= start)
             .order_by(CaseEvent.at, CaseEvent.id).limit(limit))
    if end is not None:
        query = query.where(CaseEvent.at <= end)
    zone = ZoneInfo(timezone)
    with sessions() as session:
        rows: Sequence = session.execute(query).all()
        return [RequestUpdate(update_id=str(event.id), service_request_id=number, status=PUBLIC_UPDATES[event.kind],
                              updated_datetime=_aware(event.at).astimezone(zone).replace(microsecond=0),
                              description=public_text(event.text, redactor) or "")
                for event, number in rows]


def _aware(moment: datetime) -> datetime:
    """SQLite gives back the stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def department_name(directory: Directory, code: str) -> str:
    """The department's name; its code if the directory no longer has it."""
    try:
        return directory.department(code).name
    except KeyError:
        return code


def service_notice(case: Case, directory: Directory, now: datetime, timezone: str) -> str:
    """What happens next, in a sentence."""
    department = department_name(directory, case.agency_responsible)
    if case.status == CaseStatus.CLOSED:
        return f"Closed by {department}."
    if case.is_emergency:
        return (f"Flagged as an emergency: the duty officer has been alerted and {department} has it. "
                "If anyone is in danger, call the emergency number now.")
    if case.answered_at is not None:  # the deadline is met by the answer, whatever the case's later state
        return f"{department} has answered; the case stays open until {department} closes it."
    if case.paused_at is not None:
        return f"{department} has asked the citizen for more details and waits for their reply."
    when = describe_deadline(case.expected_datetime, now, timezone)
    if is_overdue(case.expected_datetime, now):
        return f"{department} has it; the answer was due {when}."
    return f"{department} has it and will answer {when}."


def request_of(case: Case, directory: Directory, now: datetime, timezone: str, *, redactor: Redactor) -> ServiceRequest:
    zone = ZoneInfo(timezone)

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(microsecond=0)

    return ServiceRequest(service_request_id=case.service_request_id, status=case.status,
                          status_notes=public_text(case.status_notes, redactor), service_name=case.service_name,
                          service_code=case.service_code, description=public_text(case.description, redactor) or "",
                          agency_responsible=department_name(directory, case.agency_responsible),
                          service_notice=service_notice(case, directory, now, timezone),
                          requested_datetime=local(case.requested_datetime),
                          updated_datetime=local(case.updated_datetime),
                          expected_datetime=local(case.expected_datetime),
                          address=public_address(case.address, redactor), lat=public_coordinate(case.lat),
                          long=public_coordinate(case.long))


def public_text(text: str | None, redactor: Redactor) -> str | None:
    """A citizen's or staff's text as the public reads it: redacted exactly as the transcripts are."""
    return redactor.public_text(text) if text else text


def public_address(address: str | None, redactor: Redactor) -> str | None:
    """The address at block level, any other personal data in it (a name, a phone) redacted; what the redactor
    still reads as an address after the house numbers went becomes its placeholder."""
    block = block_address(redactor.redact(address, keep=("address",)).text) if address else None
    return public_text(block, redactor) if block else None


def public_coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, COORDINATE_DECIMALS)
