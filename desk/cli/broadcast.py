"""`citydesk broadcast`: emergency alerts for drills and scripts (draft, approve, send, status, cap, update, cancel;
subscribers for test recipients). The procedure itself is broadcasts/service.py."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import database
from broadcasts import subscriptions
from broadcasts.service import BroadcastError, Broadcasts, cap_of
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for

broadcast_app = typer.Typer(help="Emergency broadcasts: draft, approve (a second person), send, status, cap, update, "
                                 "cancel; test recipients.", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="The supervisor or broadcaster who acts (a staff username).")]
AlertId = Annotated[int, typer.Argument(help="The alert's number.")]


def _broadcasts(data_dir: DataDir, database_url: DatabaseUrl) -> Broadcasts:
    settings = settings_for(data_dir, database_url)
    return Broadcasts(database.open(settings), settings)


def _refused(error: BroadcastError) -> typer.Exit:
    errors.print(f"[red]Refused:[/red] {error}")
    return typer.Exit(1)


@broadcast_app.command("draft")
def draft(
    template: Annotated[str, typer.Option("--template", help="A template of the templates file (flood, heavy-snow, "
                                          "heat-wave, water-outage, road-closure, all-clear).")],
    text: Annotated[str, typer.Option("--text", help="What happens and what people should know (the description).")],
    by: By,
    channels: Annotated[str, typer.Option("--channels", help="Comma-separated accounts.")] = "telegram,x,web",
    area: Annotated[str, typer.Option("--area", help="The area concerned (default: the whole city).")] = "",
    exercise: Annotated[bool, typer.Option("--exercise", help="A drill: only test recipients, marked Exercise.")
                        ] = False,
    severity: Annotated[str | None, typer.Option(help="CAP severity (default: the template's).")] = None,
    urgency: Annotated[str | None, typer.Option(help="CAP urgency (default: the template's).")] = None,
    expires_hours: Annotated[float | None, typer.Option(help="Hours until it expires (default: the template's).")
                             ] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Draft an alert from a template; it waits for another broadcaster's approval. Prints its id."""
    service = _broadcasts(data_dir, database_url)
    try:
        alert = service.draft(template=template, text=text, by=by, channels=channels.split(","), area=area,
                              exercise=exercise, severity=severity, urgency=urgency, expires_hours=expires_hours)
    except BroadcastError as error:
        raise _refused(error) from None
    if as_json:
        print(json.dumps({"id": alert.id, "identifier": alert.identifier, "state": alert.state,
                          "exercise": alert.exercise, "channels": alert.channels}))
        return
    preview = service.preview(alert)
    console.print(f"Drafted alert {alert.id}{' (exercise)' if alert.exercise else ''}: {alert.headline}",
                  markup=False)
    console.print(f"Telegram ({len(preview.telegram)} characters):\n{preview.telegram}", markup=False)
    console.print(f"X ({len(preview.x)} post{'s' if len(preview.x) > 1 else ''}):", markup=False)
    for post in preview.x:
        console.print(f"  {post}", markup=False)
    console.print(f"Web banner: {preview.web}", markup=False)
    console.print(f"Another supervisor or broadcaster approves it: citydesk broadcast approve {alert.id} --by NAME",
                  markup=False)
    print(alert.id)


@broadcast_app.command("update")
def update(alert_id: AlertId, text: Annotated[str, typer.Option("--text", help="What changed.")], by: By,
           as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Draft an update of a released alert, for everyone who got it (approved and sent like an alert)."""
    try:
        alert = _broadcasts(data_dir, database_url).update(alert_id, text=text, by=by)
    except BroadcastError as error:
        raise _refused(error) from None
    print(json.dumps({"id": alert.id, "references": alert_id}) if as_json else alert.id)


@broadcast_app.command("approve")
def approve(alert_id: AlertId, by: By, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Approve another broadcaster's draft (nobody approves their own: exit 1, nothing sent)."""
    try:
        alert = _broadcasts(data_dir, database_url).approve(alert_id, by=by)
    except BroadcastError as error:
        raise _refused(error) from None
    console.print(f"Alert {alert.id} approved by {alert.approved_by}. Send it: citydesk broadcast send {alert.id}",
                  markup=False)


@broadcast_app.command("send")
def send(alert_id: AlertId,
         wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Show the progress until nothing is pending "
                                            "(the connectors deliver).")] = True,
         timeout_s: Annotated[float, typer.Option("--timeout", help="Stop watching after this many seconds.")
                              ] = 3600.0,
         data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Queue an approved alert for every recipient (once each, whatever happens) and show the delivery's progress."""
    service = _broadcasts(data_dir, database_url)
    try:
        queued = service.release(alert_id, by="cli")
    except BroadcastError as error:
        raise _refused(error) from None
    status = service.status(alert_id)
    total = sum(c.total for c in status.channels.values())
    now = ", ".join(f"{n} {c}" for c, n in sorted(queued.items())) or "none new"
    console.print(f"Alert {alert_id}: {total} messages ({now} queued now).", markup=False)
    if not wait:
        return
    deadline = time.monotonic() + timeout_s
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        tasks = {name: progress.add_task(name, total=c.total) for name, c in sorted(status.channels.items())}
        while True:
            status = service.status(alert_id)
            for name, counts in status.channels.items():
                if name in tasks:
                    progress.update(tasks[name], completed=counts.sent + counts.failed,
                                    description=f"{name} ({counts.failed} failed)")
            if status.pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    if status.pending:
        errors.print(f"{status.pending} still pending: the connectors go on delivering "
                     f"(citydesk broadcast status {alert_id}).")
        raise typer.Exit(3)
    service.record_delivered(alert_id, by="cli")
    console.print(" ".join(f"{n}: {c.sent} sent, {c.failed} failed." for n, c in sorted(status.channels.items())),
                  markup=False)


@broadcast_app.command("status")
def status(alert_id: AlertId, as_json: JsonFlag = False, data_dir: DataDir = None,
           database_url: DatabaseUrl = None) -> None:
    """Per channel: sent, failed, pending."""
    try:
        result = _broadcasts(data_dir, database_url).status(alert_id)
    except BroadcastError as error:
        raise _refused(error) from None
    if as_json:
        print(json.dumps(result.as_dict()))
        return
    console.print(f"Alert {alert_id} ({result.state})", markup=False)
    for name, counts in sorted(result.channels.items()):
        console.print(f"  {name}: {counts.sent} sent, {counts.failed} failed, {counts.pending} pending", markup=False)


@broadcast_app.command("cap")
def cap(alert_id: AlertId, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Print the alert as a CAP 1.2 document."""
    try:
        document = cap_of(_broadcasts(data_dir, database_url), alert_id)
    except BroadcastError as error:
        raise _refused(error) from None
    print(document.decode(), end="")


@broadcast_app.command("cancel")
def cancel(alert_id: AlertId, by: By,
           text: Annotated[str, typer.Option("--text", help="Why (sent with the cancel).")] = "",
           data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Withdraw an alert: a draft simply ends; a sent one gets a Cancel to everyone who got it."""
    try:
        alert = _broadcasts(data_dir, database_url).cancel(alert_id, by=by, text=text)
    except BroadcastError as error:
        raise _refused(error) from None
    if alert.id == alert_id:
        console.print(f"Alert {alert_id} withdrawn; nothing had been sent.", markup=False)
    else:
        console.print(f"Alert {alert_id} cancelled: cancel {alert.id} queued for everyone who got it.", markup=False)
    print(alert.id)


@broadcast_app.command("subscribe")
def subscribe(address: Annotated[str, typer.Argument(help="A conversation id: tg-<chat id>, web-<id>.")],
              test: Annotated[bool, typer.Option("--test", help="A test recipient: exercises reach only these.")
                              ] = False,
              topic: Annotated[str, typer.Option(help="Only alerts of this template.")] = "",
              area: Annotated[str, typer.Option(help="Only alerts of this area (and city-wide ones).")] = "",
              data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Subscribe a chat (staff phones as test recipients for exercises)."""
    from datetime import UTC, datetime

    channel = {"tg": "telegram", "web": "web"}.get(address.split("-", 1)[0])
    if channel is None:
        errors.print("[red]Refused:[/red] the address starts with tg- or web-.")
        raise typer.Exit(2)
    service = _broadcasts(data_dir, database_url)
    with service.sessions.begin() as session:
        subscriptions.subscribe(session, channel=channel, address=address, topic=topic, area=area, test=test,
                                now=datetime.now(UTC))
    console.print(f"Subscribed {address}{' (test recipient)' if test else ''}.", markup=False)
