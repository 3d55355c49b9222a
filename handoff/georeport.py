"""Categories and cases in the shape of Open311 GeoReport v2 (JSON); personal contact data never leaves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from handoff.deadlines import describe_deadline, is_overdue
from handoff.directory import SLA, Category, Directory
from handoff.models import Case

ANSWERED_WITHIN = {SLA.SIMPLE: "within 3 hours", SLA.REVIEW: "within 3 days", SLA.POLICY: "within 5 days",
                   SLA.EMERGENCY: "at once"}


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
    """A case as the public may see it: no name, e-mail, phone, device or account."""

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
    if case.status == "closed":
        return f"Closed by {department}."
    if case.is_emergency:
        return (f"Flagged as an emergency: the duty officer has been alerted and {department} has it. "
                "If anyone is in danger, call the emergency number now.")
    when = describe_deadline(case.expected_datetime, now, timezone)
    if is_overdue(case.expected_datetime, now):
        return f"{department} has it; the answer was due {when}."
    return f"{department} has it and will answer {when}."


def request_of(case: Case, directory: Directory, now: datetime, timezone: str) -> ServiceRequest:
    zone = ZoneInfo(timezone)

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(microsecond=0)

    return ServiceRequest(service_request_id=case.service_request_id, status=case.status,
                          status_notes=case.status_notes, service_name=case.service_name,
                          service_code=case.service_code, description=case.description,
                          agency_responsible=department_name(directory, case.agency_responsible),
                          service_notice=service_notice(case, directory, now, timezone),
                          requested_datetime=local(case.requested_datetime),
                          updated_datetime=local(case.updated_datetime),
                          expected_datetime=local(case.expected_datetime),
                          address=case.address, lat=case.lat, long=case.long)
