"""`citydesk report`: a period's figures for a department or all, beside the previous period's (handoff/report.py)."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

import database
from desk.cli.options import DatabaseUrl, DataDir, console, errors, settings_for


class Format(StrEnum):
    MD = "md"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


class PeriodName(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def _moment(text: str | None, option: str) -> datetime | None:
    """A date (midnight UTC) or an ISO date-time (UTC unless it says otherwise)."""
    if text is None:
        return None
    try:
        moment = (datetime.fromisoformat(text) if "T" in text or " " in text
                  else datetime.combine(date.fromisoformat(text), time()))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: write a date (2026-12-01) or a date-time", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def report(
    period: Annotated[PeriodName, typer.Option(help="The last day, 7 days or 30 days up to now (or from --from).")]
    = PeriodName.WEEK,
    start: Annotated[str | None, typer.Option("--from", help="Start: a date (UTC midnight) or ISO date-time.")]
    = None,
    end: Annotated[str | None, typer.Option("--to", help="End (excluded): a date or ISO date-time.")] = None,
    department: Annotated[str | None, typer.Option(help="A department's code (default: all).")] = None,
    account: Annotated[str | None, typer.Option(help="One of the city's accounts, by name (the accounts file; "
                                                "default: all).")] = None,
    output_format: Annotated[Format, typer.Option("--format", help="md, csv, json (one object on the last line) "
                                                  "or html.")] = Format.MD,
    out: Annotated[Path | None, typer.Option(help="Write the report to this file instead of printing it.")] = None,
    update_topics: Annotated[bool, typer.Option(help="Assign the topics and keywords of messages the desk's job has "
                                                     "not read yet (a desk that is not running) before reporting.")]
    = False,
    now: Annotated[str | None, typer.Option(hidden=True, help="The report's 'now' (tests).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Messages, outcomes, cases, response times, delay rate and topics of a period, beside the previous one."""
    from handoff.report import build_report, period_for

    moment = _moment(now, "--now") or datetime.now(UTC)
    try:
        window = period_for(now=moment, period=period.value, start=_moment(start, "--from"),
                            end=_moment(end, "--to"))
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    settings = settings_for(data_dir, database_url)
    scope = None
    if account is not None:
        from accounts import load_accounts
        from handoff.account_scope import AccountScope

        try:
            scope = AccountScope.of(load_accounts(settings), account)
        except KeyError as exc:
            errors.print(f"[red]{exc.args[0]}[/red]")
            raise typer.Exit(2) from exc
    sessions = database.open(settings)
    if update_topics:
        from handoff.topics import TopicJob
        from knowledge_base.embedder import get_embedder
        from privacy import build_redactor

        TopicJob(sessions, embed=get_embedder(settings.embedding_model).embed,
                 redact=build_redactor(settings).public_text).run(now=moment)
    figures = build_report(sessions, period=window, now=moment, department=department, account=scope)
    text = {Format.JSON: render_json, Format.CSV: render_csv, Format.MD: render_markdown,
            Format.HTML: render_html}[output_format](figures)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        console.print(f"Report written to {out}", markup=False)
    else:
        print(text, end="" if text.endswith("\n") else "\n")


def render_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, ensure_ascii=False) + "\n"


def _rows(figures: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """(figure, this period, previous period, change) of every compared figure, then the per-channel and
    per-department lines."""
    from handoff.report import COMPARED

    rows = [(key, figures[key], figures["previous"][key], figures["change"][key]) for key in COMPARED]
    rows.append(("overdue", figures["overdue"], "", ""))
    rows.append(("open_gaps", figures["open_gaps"], "", ""))
    for channel, row in figures["by_channel"].items():
        rows.append((f"channel {channel} received", row["received"], row["previous_received"],
                     row["received"] - row["previous_received"]))
    for code, row in figures["by_department"].items():
        for key in ("received", "cases", "answered_in_time", "delay_rate", "first_response_p50_hours", "overdue"):
            rows.append((f"department {code} {key}", row[key], "", ""))
    for kind in ("top_topics", "rising_topics", "falling_topics", "top_keywords", "hot_keywords", "cold_keywords"):
        for item in figures[kind]:
            name = item["topic"] if item["label"] == item["topic"] else f"{item['topic']} {item['label']}"
            rows.append((f"{kind} {name}", item["count"], item["previous"], item["count"] - item["previous"]))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_csv(figures: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "value", "previous", "change"])
    for name, value, previous, change in _rows(figures):
        writer.writerow([name, "" if value is None else value, "" if previous is None else previous,
                         "" if change is None else change])
    return buffer.getvalue()


def _title(figures: dict[str, Any]) -> str:
    scope = f"department {figures['department']}" if figures["department"] else "all departments"
    if figures.get("account"):
        scope += f", account {figures['account']}"
    return f"CityDesk report, {scope}: {figures['period']['from']} to {figures['period']['to']}"


def render_markdown(figures: dict[str, Any]) -> str:
    lines = [f"# {_title(figures)}", "", f"Previous period: {figures['previous']['period']['from']} to "
             f"{figures['previous']['period']['to']}", "", "| figure | this period | previous | change |",
             "|---|---:|---:|---:|"]
    lines += [f"| {name} | {_cell(value)} | {_cell(previous)} | {_cell(change)} |"
              for name, value, previous, change in _rows(figures)]
    return "\n".join(lines) + "\n"


def render_html(figures: dict[str, Any]) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(part))}</td>" for part in row) + "</tr>\n" for row in _rows(figures))
    title = html.escape(_title(figures))
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body><h1>{title}</h1>\n<table><thead><tr><th>figure</th><th>this period</th><th>previous</th>"
            f"<th>change</th></tr></thead>\n<tbody>\n{cells}</tbody></table></body></html>\n")
