"""Emergency broadcasts on the web: the broadcasters' pages under /inbox/broadcasts (compose, preview, approve, send,
progress, timeline, update, cancel), the public archive /alerts with its Atom feed and each alert's CAP 1.2 document
at /alerts/<id>/cap.xml, and the banner the web chat and the disclosure site show (`alert_banners` in templates)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from broadcasts.feed import atom_feed
from broadcasts.models import Alert, AlertState
from broadcasts.render import banner_text
from broadcasts.service import BROADCAST_ROLES, BroadcastError, Broadcasts, cap_of
from broadcasts.templates import SEVERITIES, URGENCIES
from desk.web.auth import (
    INBOX_PATH,
    PageError,
    PageRoute,
    csrf_protected,
    flash,
    logged_in_user,
    page_context,
    sentence,
)
from desk.web.formatting import local_time
from desk.web.templates import templates
from handoff.models import StaffUser

BROADCASTS_PATH = f"{INBOX_PATH}/broadcasts"
router = APIRouter(prefix=BROADCASTS_PATH, include_in_schema=False, route_class=PageRoute)
post_router = APIRouter(prefix=BROADCASTS_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(csrf_protected)])
public_router = APIRouter(include_in_schema=False)


def get_broadcasts(request: Request) -> Broadcasts:
    return request.app.state.broadcasts


def current_broadcaster(user: StaffUser = Depends(logged_in_user)) -> StaffUser:
    if user.role not in BROADCAST_ROLES:
        raise PageError(403, "Broadcasters only", f"Emergency broadcasts are for supervisors and broadcasters; "
                                                  f"{user.username} is a {user.role}.")
    return user


def alert_banners(request: Request) -> list[dict[str, Any]]:
    """The banners of the current alerts, for the public pages (a Jinja global)."""
    service: Broadcasts | None = getattr(request.app.state, "broadcasts", None)
    if service is None:
        return []
    return [{"id": a.id, "text": banner_text(a, None), "severity": a.severity} for a in service.banners()]


templates.env.globals["alert_banners"] = alert_banners


def _when(request: Request, moment: Any) -> str:
    return local_time(moment, request.app.state.settings.city_timezone) if moment else ""


def _list_page(request: Request, user: StaffUser, service: Broadcasts, *, error: str | None = None,
               typed: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    alerts = [{"a": a, "drafted": _when(request, a.drafted_at)} for a in service.alerts()]
    return templates.TemplateResponse(request, "broadcasts.html", page_context(
        request, user, alerts=alerts, templates_=sorted(service.templates().values(), key=lambda t: t.name),
        accounts=service.accounts(), severities=SEVERITIES, urgencies=URGENCIES, error=error,
        typed=typed or {"channels": [a.name for a in service.accounts()]}), status_code=status_code)


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, user: StaffUser = Depends(current_broadcaster),
              service: Broadcasts = Depends(get_broadcasts)) -> HTMLResponse:
    return _list_page(request, user, service)


@post_router.post("")
def draft(request: Request, template: str = Form(""), text: str = Form(""), area: str = Form(""),
          severity: str = Form(""), urgency: str = Form(""), exercise: bool = Form(False),
          channels: list[str] = Form([]), user: StaffUser = Depends(current_broadcaster),
          service: Broadcasts = Depends(get_broadcasts)) -> Response:
    try:
        alert = service.draft(template=template, text=text, by=user.username, channels=channels, area=area,
                              exercise=exercise, severity=severity or None, urgency=urgency or None)
    except BroadcastError as error:
        typed = {"template": template, "text": text, "area": area, "severity": severity, "urgency": urgency,
                 "exercise": exercise, "channels": channels}
        return _list_page(request, user, service, error=sentence(error), typed=typed, status_code=400)
    flash(request, f"Alert {alert.id} drafted. Another supervisor or broadcaster must approve it.")
    return RedirectResponse(f"{BROADCASTS_PATH}/{alert.id}", status_code=303)


def _alert(service: Broadcasts, alert_id: int) -> Alert:
    try:
        return service.get(alert_id)
    except BroadcastError:
        raise PageError(404, "No such alert", f"There is no alert {alert_id}.") from None


def _alert_page(request: Request, user: StaffUser, service: Broadcasts, alert_id: int, *,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    alert = _alert(service, alert_id)
    timeline = [{"at": _when(request, e.at), "e": e} for e in service.timeline(alert_id)]
    return templates.TemplateResponse(request, "broadcast.html", page_context(
        request, user, alert=alert, original=service.original_of(alert), preview=service.preview(alert),
        status=service.status(alert_id), timeline=timeline, updates=service.updates_of(alert_id),
        expires=_when(request, alert.expires_at), own=alert.drafted_by == user.username, error=error,
        cap_url=f"/alerts/{alert.id}/cap.xml"), status_code=status_code)


@router.get("/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: int, user: StaffUser = Depends(current_broadcaster),
               service: Broadcasts = Depends(get_broadcasts)) -> HTMLResponse:
    return _alert_page(request, user, service, alert_id)


@router.get("/{alert_id}/status")
def alert_status(alert_id: int, user: StaffUser = Depends(current_broadcaster),
                 service: Broadcasts = Depends(get_broadcasts)) -> JSONResponse:
    _alert(service, alert_id)
    return JSONResponse(service.status(alert_id).as_dict())


def _act(request: Request, user: StaffUser, service: Broadcasts, alert_id: int, action: Any,
         done: str) -> Response:
    _alert(service, alert_id)
    try:
        result = action()
    except BroadcastError as error:
        return _alert_page(request, user, service, alert_id, error=sentence(error), status_code=409)
    flash(request, done.format(result=result))
    target = result.id if isinstance(result, Alert) else alert_id
    return RedirectResponse(f"{BROADCASTS_PATH}/{target}", status_code=303)


@post_router.post("/{alert_id}/approve")
def approve(request: Request, alert_id: int, user: StaffUser = Depends(current_broadcaster),
            service: Broadcasts = Depends(get_broadcasts)) -> Response:
    return _act(request, user, service, alert_id, lambda: service.approve(alert_id, by=user.username),
                "Approved. It can be sent now.")


@post_router.post("/{alert_id}/send")
def send(request: Request, alert_id: int, user: StaffUser = Depends(current_broadcaster),
         service: Broadcasts = Depends(get_broadcasts)) -> Response:
    return _act(request, user, service, alert_id, lambda: service.release(alert_id, by=user.username),
                "Sending: the progress is below.")


@post_router.post("/{alert_id}/cancel")
def cancel(request: Request, alert_id: int, text: str = Form(""), user: StaffUser = Depends(current_broadcaster),
           service: Broadcasts = Depends(get_broadcasts)) -> Response:
    return _act(request, user, service, alert_id, lambda: service.cancel(alert_id, by=user.username, text=text),
                "Cancelled.")


@post_router.post("/{alert_id}/update")
def update(request: Request, alert_id: int, text: str = Form(""), user: StaffUser = Depends(current_broadcaster),
           service: Broadcasts = Depends(get_broadcasts)) -> Response:
    return _act(request, user, service, alert_id, lambda: service.update(alert_id, text=text, by=user.username),
                "Update drafted. Another supervisor or broadcaster must approve it.")


# --- public: the archive, its Atom feed, CAP ---

def _public(service: Broadcasts, alert_id: int) -> Alert:
    """A released alert; drafts and exercises are not public (an exercise's CAP is, marked Exercise)."""
    alert = _alert(service, alert_id)
    if alert.released_at is None:
        raise PageError(404, "No such alert", f"There is no alert {alert_id}.")
    return alert


@public_router.get("/alerts", response_class=HTMLResponse)
def archive(request: Request, service: Broadcasts = Depends(get_broadcasts)) -> HTMLResponse:
    alerts = [{"a": a, "sent": _when(request, a.released_at), "expires": _when(request, a.expires_at)}
              for a in service.alerts(public=True)]
    return templates.TemplateResponse(request, "alerts.html", {
        "city_name": request.app.state.settings.city_name, "alerts": alerts})


@public_router.get("/alerts.atom")
def feed(request: Request, service: Broadcasts = Depends(get_broadcasts)) -> Response:
    settings = request.app.state.settings
    body = atom_feed(service.alerts(public=True, limit=50), title=f"{settings.city_name} emergency alerts",
                     base_url=settings.public_base_url, now=service.clock())
    return Response(body, media_type="application/atom+xml")


@public_router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def public_alert(request: Request, alert_id: int, service: Broadcasts = Depends(get_broadcasts)) -> Response:
    try:
        alert = _public(service, alert_id)
    except PageError:
        return HTMLResponse("No such alert.", status_code=404)
    if alert.exercise:
        return HTMLResponse("No such alert.", status_code=404)
    return templates.TemplateResponse(request, "alert_public.html", {
        "city_name": request.app.state.settings.city_name, "alert": alert, "original": service.original_of(alert),
        "sent": _when(request, alert.released_at), "expires": _when(request, alert.expires_at),
        "updates": [u for u in service.updates_of(alert_id) if u.released_at is not None]})


@public_router.get("/alerts/{alert_id}/cap.xml")
def cap(alert_id: int, service: Broadcasts = Depends(get_broadcasts)) -> Response:
    try:
        _public(service, alert_id)
    except PageError:
        return Response("No such alert.", status_code=404, media_type="text/plain")
    return Response(cap_of(service, alert_id), media_type="application/cap+xml")


@public_router.get("/api/alerts/current")
def current(request: Request) -> JSONResponse:
    """The banners now shown, for other pages and tools."""
    return JSONResponse(alert_banners(request))


__all__ = ["AlertState", "post_router", "public_router", "router"]
