"""Open311 GeoReport v2 (JSON and XML): the city's services and their definitions, its service requests and their
updates (FixMyStreet's servicerequestupdates), and filing a request with an API key."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from desk.api.deps import get_cases, get_intake, get_redactor, get_settings
from desk.api.open311_xml import xml_response
from handoff.georeport import (
    RequestUpdate,
    Service,
    ServiceDefinition,
    ServiceRequest,
    attribute_problems,
    definition_of,
    request_of,
    request_updates,
    service_notice,
    service_of,
)
from handoff.intake import IncomingMessage, Intake
from handoff.service import CaseDesk
from privacy import Redactor
from settings import Settings

router = APIRouter(prefix="/open311/v2", tags=["open311"])
log = logging.getLogger("citydesk.open311")

MAX_DESCRIPTION_CHARS = 4_000  # GeoReport v2's limit
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1_000
STATUSES = ("open", "closed")
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
ATTRIBUTE_FIELD = re.compile(r"^attribute\[(.+)\]$")


class Open311Error(BaseModel):
    code: int
    description: str


class FiledRequest(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": list[Open311Error], "description": "Bad request (one object per problem)"},
    403: {"model": list[Open311Error], "description": "Missing or unknown api_key, or filing disabled"},
    404: {"model": list[Open311Error], "description": "No such service request or service"}}
FORMATS = ("json", "xml")
XML: dict[str, Any] = {"responses": {200: {"content": {"text/xml": {}}}}}


def error(status: int, *descriptions: str, fmt: str = "json") -> Response:
    """GeoReport v2's error body: a list of {code, description} (in XML: errors/error)."""
    problems = [{"code": status, "description": d} for d in descriptions]
    if fmt == "xml":
        return xml_response("errors", problems, status_code=status)
    return JSONResponse(status_code=status, content=problems)


def refusal(request: Request, refused: Exception, status: int) -> Response:
    """A domain error raised by an Open311 route, in GeoReport v2's format (desk.api.errors sends them here)."""
    fmt = request.path_params.get("fmt", "json")
    if type(refused) is LookupError:  # CaseDesk.get: no such case
        return error(status, f"There is no service request {request.path_params.get('service_request_id')}.",
                     fmt=fmt)
    return error(status, str(refused), fmt=fmt)


def wrong_format(resource: str, fmt: str, formats: tuple[str, ...] = FORMATS) -> Response | None:
    if fmt in formats:
        return None
    if formats == ("json",):
        return error(400, f"Only JSON is offered: ask for {resource}.json (the format {fmt!r} is not supported).")
    offered = " or ".join(f"{resource}.{f}" for f in formats)
    return error(400, f"Ask for {offered} (the format {fmt!r} is not supported).")


def respond(fmt: str, root: str, value: Any, status_code: int = 200) -> Any:
    """The models as they are (FastAPI writes the JSON with the route's status), or as GeoReport v2's XML under
    `root` with `status_code`."""
    return xml_response(root, value, status_code=status_code) if fmt == "xml" else value


@router.get("/services.{fmt}", response_model=list[Service], responses=ERRORS, openapi_extra=XML)
def services(fmt: str, cases: CaseDesk = Depends(get_cases)) -> list[Service] | Response:
    """Every service a request can be filed for: the directory's categories, grouped by department."""
    return wrong_format("services", fmt) or respond(
        fmt, "services", [service_of(c, cases.directory) for c in cases.directory.categories])


@router.get("/services/{service_code}.{fmt}", response_model=ServiceDefinition, responses=ERRORS,
            openapi_extra=XML)
def service_definition(service_code: str, fmt: str, jurisdiction_id: str | None = Query(None),
                       cases: CaseDesk = Depends(get_cases)) -> ServiceDefinition | Response:
    """What a service asks beside the description: its attributes, filed as attribute[code]."""
    if (response := wrong_format(f"services/{service_code}", fmt)) is not None:
        return response
    try:
        category = cases.directory.category(service_code)
    except KeyError:
        return error(404, f"There is no service {service_code!r}; see services.{fmt}.", fmt=fmt)
    return respond(fmt, "service_definition", definition_of(category))


@router.get("/servicerequestupdates.{fmt}", response_model=list[RequestUpdate], responses=ERRORS,
            openapi_extra=XML)
def service_request_updates(
        fmt: str,
        start_date: str | None = Query(None, description="ISO 8601 with a time zone, on updated_datetime; "
                                                         "default: 90 days before end_date (or now)."),
        end_date: str | None = Query(None, description="ISO 8601 with a time zone; default: no limit."),
        api_key: str | None = Query(None, description="Accepted and ignored: updates are public."),
        jurisdiction_id: str | None = Query(None, description="Accepted and ignored: the desk serves one city."),
        cases: CaseDesk = Depends(get_cases),
        redactor: Redactor = Depends(get_redactor)) -> list[RequestUpdate] | Response:
    """The public updates of service requests (FixMyStreet's Open311 extension), oldest first, at most 1000:
    staff's answers and questions to the filer (redacted) and closings, with the request's status after each."""
    if (response := wrong_format("servicerequestupdates", fmt)) is not None:
        return response
    start, start_problem = _moment("start_date", start_date)
    end, end_problem = _moment("end_date", end_date)
    problems = [p for p in (start_problem, end_problem) if p]
    if start and end and start > end:
        problems.append("start_date is after end_date.")
    if problems:
        return error(400, *problems, fmt=fmt)
    if start is None:
        start = (end or cases.now()) - DEFAULT_WINDOW
    updates = request_updates(cases.sessions, start=start, end=end, timezone=cases.timezone, redactor=redactor,
                              limit=MAX_REQUESTS)
    return respond(fmt, "service_request_updates", updates)


@router.get("/requests.{fmt}", response_model=list[ServiceRequest], responses=ERRORS, openapi_extra=XML)
def list_requests(
        fmt: str,
        service_request_id: str | None = Query(None, description="Comma-separated; overrides every other filter."),
        service_code: str | None = Query(None, description="Comma-separated service codes."),
        status: str | None = Query(None, description="open, closed, or both comma-separated."),
        start_date: str | None = Query(None, description="ISO 8601 with a time zone, on requested_datetime; "
                                                         "default: 90 days before end_date (or now)."),
        end_date: str | None = Query(None, description="ISO 8601 with a time zone; default: no limit."),
        jurisdiction_id: str | None = Query(None, description="Accepted and ignored: the desk serves one city."),
        cases: CaseDesk = Depends(get_cases),
        redactor: Redactor = Depends(get_redactor)) -> list[ServiceRequest] | Response:
    """Service requests, newest first, at most 1000; the last 90 days unless dates are given."""
    if (response := wrong_format("requests", fmt)) is not None:
        return response
    now = cases.now()
    ids = _split(service_request_id)
    if ids:
        if len(ids) > MAX_REQUESTS:
            return error(400, f"Ask for at most {MAX_REQUESTS} service_request_id values at once.", fmt=fmt)
        found = cases.requests(ids=ids, limit=MAX_REQUESTS)
    else:
        problems, codes, statuses = [], _split(service_code), _split(status)
        known = {c.code for c in cases.directory.categories}
        problems += [f"service_code {c!r} is not a service of this city; see services.json."
                     for c in codes if c not in known]
        problems += [f"status {s!r} is not one of: {', '.join(STATUSES)}." for s in statuses if s not in STATUSES]
        start, start_problem = _moment("start_date", start_date)
        end, end_problem = _moment("end_date", end_date)
        problems += [p for p in (start_problem, end_problem) if p]
        if start and end and start > end:
            problems.append("start_date is after end_date.")
        if problems:
            return error(400, *problems, fmt=fmt)
        if start is None:
            start = (end or now) - DEFAULT_WINDOW
        found = cases.requests(service_codes=codes, statuses=statuses, start=start, end=end, limit=MAX_REQUESTS)
    return respond(fmt, "service_requests",
                   [request_of(c, cases.directory, now, cases.timezone, redactor=redactor) for c in found])


@router.get("/requests/{service_request_id}.{fmt}", response_model=list[ServiceRequest], responses=ERRORS,
            openapi_extra=XML)
def one_request(service_request_id: str, fmt: str, cases: CaseDesk = Depends(get_cases),
                redactor: Redactor = Depends(get_redactor)) -> list[ServiceRequest] | Response:
    """One service request, as a one-element list (as GeoReport v2 does)."""
    if (response := wrong_format(f"requests/{service_request_id}", fmt)) is not None:
        return response
    case = cases.get(service_request_id)  # none: LookupError, answered by `refusal`
    return respond(fmt, "service_requests",
                   [request_of(case, cases.directory, cases.now(), cases.timezone, redactor=redactor)])


class NewRequest(BaseModel):
    """The fields of a new service request; unknown fields are an error, so that nothing is silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jurisdiction_id: str | None = Field(default=None, max_length=200)  # one city: accepted and ignored
    service_code: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    attribute: dict[str, str] = Field(default_factory=dict, max_length=50)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=300, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=100)
    device_id: str | None = Field(default=None, max_length=200)
    account_id: str | None = Field(default=None, max_length=200)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def text(self) -> str:
        """The description, followed by any attribute values."""
        parts = [self.description] if self.description else []
        parts += [f"{code}: {value}" for code, value in self.attribute.items() if value.strip()]
        return "\n".join(parts)


@router.post("/requests.{fmt}", status_code=201, response_model=list[FiledRequest], responses=ERRORS,
             openapi_extra={"requestBody": {"content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                 "application/json": {"schema": {"type": "object"}}}}})
async def file_request(fmt: str, request: Request, settings: Settings = Depends(get_settings),
                       intake: Intake = Depends(get_intake),
                       cases: CaseDesk = Depends(get_cases)) -> list[FiledRequest] | Response:
    """File a service request (form-encoded as GeoReport v2 says, or JSON) with an `api_key`; the answer in JSON,
    or in XML for requests.xml (as FixMyStreet files them).

    It becomes a case the same way a chat message does: routed by its service's category, on channel
    `open311`, with the filer's contact fields kept on the case (and never shown by the GETs).
    """
    if (response := wrong_format("requests", fmt)) is not None:
        return response
    fields, problem = await _fields(request)
    if problem:
        return error(400, problem, fmt=fmt)
    key = fields.pop("api_key", None)
    if (refusal := _refuse_key(key, settings, request, fmt)) is not None:
        return refusal
    try:
        filed = NewRequest.model_validate(fields)
    except ValidationError as exc:
        return error(400, *(_describe(e) for e in exc.errors()), fmt=fmt)
    problems = []
    if filed.service_code not in {c.code for c in cases.directory.categories}:
        problems.append(f"service_code {filed.service_code!r} is not a service of this city; see services.json.")
    else:
        problems += attribute_problems(cases.directory.category(filed.service_code), filed.attribute)
    if not filed.text():
        problems.append("Give a description (or attribute values) of the problem.")
    elif len(filed.text()) > MAX_DESCRIPTION_CHARS:
        problems.append(f"The description and attributes are {len(filed.text())} characters long; "
                        f"the limit is {MAX_DESCRIPTION_CHARS}.")
    if (filed.lat is None) != (filed.long is None):
        problems.append("Give lat and long together.")
    if problems:
        return error(400, *problems, fmt=fmt)
    contact = {f: getattr(filed, f) for f in CONTACT_FIELDS if getattr(filed, f) is not None}
    message = IncomingMessage(text=filed.text(), conversation_id=f"open311-{_fingerprint(key)}-{uuid.uuid4().hex}",
                              channel="open311", intent="report_problem", address=filed.address_string,
                              lat=filed.lat, long=filed.long, service_code=filed.service_code,
                              contact=contact or None)
    outcome = await run_in_threadpool(intake.handle, message)
    case = outcome.case
    if case is None:  # cannot happen: a reported problem always becomes a case (handoff.decide)
        raise RuntimeError(f"the filed request was routed {outcome.decision.route.value}, not to a case")
    notice = service_notice(case, cases.directory, cases.now(), cases.timezone)
    log.info("Open311 request %s filed for %s", case.service_request_id, case.agency_responsible)
    return respond(fmt, "service_requests",
                   [FiledRequest(service_request_id=case.service_request_id, service_notice=notice)], 201)


async def _fields(request: Request) -> tuple[dict[str, Any], str | None]:
    """The posted fields, attribute[code] gathered into `attribute`; or a problem with the body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return {}, "The body is not valid JSON."
        if not isinstance(body, dict):
            return {}, "The JSON body must be an object of fields."
        return body, None
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}, ("Send the request form-encoded (application/x-www-form-urlencoded), as GeoReport v2 says, "
                    "or as JSON.")
    try:
        form = await request.form(max_files=0, max_fields=100)
    except StarletteHTTPException as exc:
        return {}, f"The form cannot be read: {exc.detail}"
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            return {}, "Files are not accepted."
        match = ATTRIBUTE_FIELD.match(name)
        target, key = (fields.setdefault("attribute", {}), match.group(1)) if match else (fields, name)
        if key in target:
            return {}, f"The field {name!r} is given twice."
        target[key] = value
    return fields, None


def _refuse_key(key: Any, settings: Settings, request: Request, fmt: str = "json") -> Response | None:
    """403 unless `key` is one of the configured keys; every refusal is logged (never the key itself)."""
    client = request.client.host if request.client else "unknown"
    keys = settings.open311_keys
    if not keys:
        log.warning("Open311 request refused from %s: filing is disabled (no API keys configured)", client)
        return error(403, "Filing service requests is disabled on this desk: no API keys are configured.", fmt=fmt)
    if not isinstance(key, str) or not key.strip():
        log.warning("Open311 request refused from %s: no api_key", client)
        return error(403, "An api_key is required to file a service request.", fmt=fmt)
    # compare with every key, in constant time, so that the time taken says nothing about a near miss
    if not any([hmac.compare_digest(key.strip().encode(), k.encode()) for k in keys]):
        log.warning("Open311 request refused from %s: unknown api_key (fingerprint %s)", client, _fingerprint(key))
        return error(403, "The api_key is not valid.", fmt=fmt)
    return None


def _fingerprint(key: str) -> str:
    """A short, one-way name for a key: tells keys apart in logs and cases without revealing them."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:10]


def _describe(problem: ErrorDetails) -> str:
    field = ".".join(str(part) for part in problem["loc"]) or "body"
    if problem["type"] == "extra_forbidden":
        return f"{field}: not a field this desk accepts."
    if problem["type"] == "string_pattern_mismatch" and field == "email":
        return "email: not an e-mail address."
    return f"{field}: {problem['msg']}."


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _moment(name: str, value: str | None) -> tuple[datetime | None, str | None]:
    """An aware datetime from ISO 8601, or the problem with it."""
    if value is None or not value.strip():
        return None, None
    # an unescaped '+' of an offset arrives as a space
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return None, (f"{name} {value!r} is not an ISO 8601 date and time with a time zone, "
                      "e.g. 2026-11-01T00:00:00Z or 2026-11-01T00:00:00-05:00.")
    return moment, None
