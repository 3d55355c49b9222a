"""Redaction of personal data for the public record: phones, e-mails, card and ID numbers, addresses, names.

Each kind has its own recogniser (privacy/pii/); where two overlap, the union is redacted under the
kind of the stronger one, so that no character of either is published.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from privacy.pii.addresses import find_addresses
from privacy.pii.contact import PhoneFinder, find_emails
from privacy.pii.ids import find_cards, find_rrns, find_ssns
from privacy.pii.names import find_names, find_names_beside
from settings import Settings

# The kinds, strongest first: a card number that libphonenumber also reads as a phone is a card, and a
# resident registration number written YYMMDD-NNNNNNN is an ID number even when it passes the Luhn check.
KINDS = ("email", "national_id", "card", "phone", "address", "name")
PLACEHOLDERS = {"phone": "[phone]", "email": "[email]", "card": "[card number]", "national_id": "[ID number]",
                "address": "[address]", "name": "[name]"}
DEFAULT_PHONE_REGIONS = ("US", "KR")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and its span in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    text: str  # the redacted text
    findings: tuple[Finding, ...]  # spans in the original text, in order


class Redactor:
    """Finds personal data and replaces each piece with its labelled placeholder."""

    def __init__(self, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> None:
        phones = PhoneFinder(phone_regions)
        self._recognisers: dict[str, Callable[[str], Iterable[tuple[int, int]]]] = {
            "email": find_emails, "card": find_cards, "national_id": _national_ids, "phone": phones.find,
            "address": find_addresses, "name": find_names}

    def find(self, text: str) -> tuple[Finding, ...]:
        """The findings in `text`, merged where they overlap, in order."""
        candidates = [Finding(kind, start, end) for kind in KINDS for start, end in self._recognisers[kind](text)
                      if end > start]
        contacts = [(f.start, f.end) for f in candidates if f.kind != "name"]
        candidates += [Finding("name", start, end) for start, end in find_names_beside(text, contacts)]
        return tuple(_merge(candidates))

    def redact(self, text: str, *, keep: Collection[str] = ()) -> Redaction:
        """`text` with each finding replaced by its placeholder, except those of the kinds in `keep`."""
        findings = self.find(text)
        out, last = [], 0
        for f in findings:
            out += [text[last:f.start], text[f.start:f.end] if f.kind in keep else PLACEHOLDERS[f.kind]]
            last = f.end
        return Redaction(text="".join(out) + text[last:], findings=findings)

    def public_text(self, text: str) -> str:
        """`text` as the public may read it: every finding replaced by its placeholder."""
        return self.redact(text).text


def _national_ids(text: str) -> Iterator[tuple[int, int]]:
    yield from find_ssns(text)
    yield from find_rrns(text)


def _merge(candidates: list[Finding]) -> Iterator[Finding]:
    """Overlapping findings become one covering both, of the stronger kind."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    current: Finding | None = None
    for f in sorted(candidates, key=lambda f: (f.start, -f.end)):
        if current is None or f.start >= current.end:
            if current is not None:
                yield current
            current = f
        else:
            kind = current.kind if rank[current.kind] <= rank[f.kind] else f.kind
            current = Finding(kind, current.start, max(current.end, f.end))
    if current is not None:
        yield current


def build_redactor(settings: Settings) -> Redactor:
    """The redactor for these settings (the phone regions), built once at start-up and passed to every publisher."""
    return Redactor(settings.phone_region_list)
