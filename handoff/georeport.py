"""Categories and cases in the shape of Open311 GeoReport v2 (JSON), as the public may see them.

Personal contact data never leaves; the citizen's and staff's texts are redacted by the transcripts' redactor;
the place is published at block level (street without house or unit number, coordinates to ~100 m).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from handoff.deadlines import describe_deadline, is_overdue
from handoff.directory import SLA, Category, Directory
from handoff.models import Case, CaseStatus
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
    metadata: bool = Field(description="Always false: no service asks for extra attributes.")
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


def service_of(category: Category, directory: Directory) -> Service:
    department = directory.department(category.department)
    return Service(service_code=category.code, service_name=category.name,
                   description=f"{category.name}: handled by {department.name}, answered "
                               f"{ANSWERED_WITHIN[category.sla]}.",
                   metadata=False, type="realtime", keywords=", ".join(category.examples), group=department.name)


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
