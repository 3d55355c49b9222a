"""The disclosure exports: CSV (one row per message) and JSON (one object per conversation), streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from disclosure.public import STATUSES, PublicConversation

FORMATS = ("csv", "json")
CSV_COLUMNS = ("conversation", "channel", "status", "departments", "topics", "cases", "pending_case_expected",
               "message_at", "author_role", "text", "entry_id", "entry_version", "case_id")
# a cell a spreadsheet would run as a formula is written with a leading apostrophe (OWASP's CSV injection advice)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def conversation_json(conversation: PublicConversation) -> dict[str, Any]:
    s = conversation.summary
    pending = s.open_case
    return {"id": s.id, "channel": s.channel, "status": s.status, "status_label": STATUSES[s.status],
            "first_at": _iso(s.first_at), "last_at": _iso(s.last_at), "departments": sorted(s.departments),
            "topics": sorted(s.topics),
            "cases": [{"service_request_id": c.service_request_id, "agency_responsible": c.department,
                       "department_name": c.department_name, "category": c.category, "status": c.status,
                       "state": c.state, "requested_datetime": _iso(c.requested_datetime),
                       "expected_datetime": _iso(c.expected_datetime)} for c in s.cases],
            "pending_case": pending.service_request_id if pending else None,
            "messages": [{"at": _iso(m.at), "author_role": m.role, "text": m.text, "entry_id": m.entry_id,
                          "entry_version": m.entry_version, "case_id": m.case_id} for m in conversation.messages]}


def json_chunks(conversations: Iterable[PublicConversation], meta: dict[str, Any]) -> Iterator[str]:
    """One JSON document, {..meta, "conversations": [...]}, written a conversation at a time."""
    head = json.dumps(meta, ensure_ascii=False)[:-1]
    yield head + (", " if meta else "") + '"conversations": ['
    for i, conversation in enumerate(conversations):
        yield ("," if i else "") + "\n" + json.dumps(conversation_json(conversation), ensure_ascii=False)
    yield "\n]}\n"


def csv_chunks(conversations: Iterable[PublicConversation]) -> Iterator[str]:
    """A header, then one row per published message; a chunk per conversation."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for conversation in conversations:
        s = conversation.summary
        pending = s.open_case
        common = [s.id, s.channel, s.status, ";".join(sorted(s.departments)), ";".join(sorted(s.topics)),
                  ";".join(c.service_request_id for c in s.cases), _iso(pending.expected_datetime) if pending else ""]
        for m in conversation.messages:
            writer.writerow([_cell(v) for v in (*common, _iso(m.at), m.role, m.text, m.entry_id or "",
                                                 "" if m.entry_version is None else m.entry_version,
                                                 m.case_id or "")])
        yield _drain(buffer)


def _cell(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
