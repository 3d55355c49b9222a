"""The one place that computes what the public may read of a record: its public view."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from transcripts.log_models import REDACT, UNREDACT, RedactionLogRow

MANUAL_LABEL = "[redacted]"
WHOLE_RECORD_LABEL = "[message withheld on request]"

Redact = Callable[[str], str]


def text_digest(text: str) -> str:
    """The digest a manual redaction keeps of the text it hides (case-insensitive match)."""
    return hashlib.sha256(text.casefold().encode("utf-8")).hexdigest()


def span_digest(text: str) -> str:
    """The digest an un-redaction keeps of the original span it reveals (exact)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def public_view(public_text: str, original: str | None, log: Iterable[RedactionLogRow], *,
                redact: Redact) -> str:
    """The record's stored public text, with supervisor-approved un-redactions and then manual redactions applied.

    Un-redactions need the original: while it is kept the view is computed from it (every part but the revealed
    spans redacted again); once retention removed it, the stored public text stands and un-redactions lapse.
    Manual redactions apply in every case, so text hidden on a citizen's request stays hidden.
    """
    rows = list(log)
    reveal = [r for r in rows if r.action == UNREDACT]
    text = _reveal(original, reveal, redact) if reveal and original is not None else public_text
    return stored_public_view(text, rows)


def stored_public_view(public_text: str, log: Iterable[RedactionLogRow]) -> str:
    """The stored public text with the manual redactions applied: the view once the original is gone."""
    text = public_text
    for row in log:
        if row.action != REDACT:
            continue
        if row.text_sha256 is None:
            return WHOLE_RECORD_LABEL
        text = hide(text, row.text_sha256, row.text_length or 0)
    return text


def _reveal(original: str, rows: list[RedactionLogRow], redact: Redact) -> str:
    spans = sorted({(r.original_start, r.original_end) for r in rows
                    if r.original_start is not None and r.original_end is not None
                    and span_digest(original[r.original_start:r.original_end]) == r.text_sha256})
    out, last = [], 0
    for start, end in spans:
        if start < last:  # overlapping spans: the earlier one already revealed this part
            start = last
        if start >= end:
            continue
        out += [redact(original[last:start]) if start > last else "", original[start:end]]
        last = end
    out.append(redact(original[last:]) if last < len(original) else "")
    return "".join(out)


def hide(text: str, digest: str, length: int) -> str:
    """Every occurrence of the text with this digest and length replaced by the manual label."""
    if length <= 0 or length > len(text):
        return text
    out, i, last = [], 0, 0
    while i + length <= len(text):
        if text_digest(text[i:i + length]) == digest:
            out += [text[last:i], MANUAL_LABEL]
            i = last = i + length
        else:
            i += 1
    return "".join(out) + text[last:]
