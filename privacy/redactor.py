"""Redaction of personal data for the public record: phones, e-mails, card, account and ID numbers, addresses, names.

Each kind has its own recogniser (privacy/pii/); names come from the cue-based patterns and from a named-entity
model (privacy/pii/ner.py) together. Where two findings overlap, the union is redacted under the kind of the
stronger one, so that no character of either is published. The city's own published contacts (a setting) are
never redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from privacy.pii.accounts import find_accounts
from privacy.pii.addresses import find_addresses
from privacy.pii.contact import PhoneFinder, find_emails
from privacy.pii.ids import find_cards, find_rrns, find_ssns
from privacy.pii.names import find_names, find_names_beside, find_names_coordinated
from privacy.pii.ner import DEFAULT_MODEL, NameModel
from privacy.pii.public_contacts import PublicContacts
from settings import Settings

# The kinds, strongest first: a card number that libphonenumber also reads as a phone is a card, and a
# resident registration number written YYMMDD-NNNNNNN is an ID number even when it passes the Luhn check.
# An account or licence number named as such is weaker than a card number (a library card that passes the Luhn check).
KINDS = ("email", "national_id", "card", "account", "phone", "address", "name")
PLACEHOLDERS = {"phone": "[phone]", "email": "[email]", "card": "[card number]", "national_id": "[ID number]",
                "account": "[account number]", "address": "[address]", "name": "[name]"}
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
    """Finds personal data and replaces each piece with its labelled placeholder.

    `name_model`: the spaCy model package that finds names without a cue (None: the patterns alone);
    `public_contacts`: the city's own phones, e-mails and addresses, never redacted; `city_name`: never a name.
    """

    def __init__(self, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS, *, name_model: str | None = DEFAULT_MODEL,
                 public_contacts: Iterable[str] = (), city_name: str = "") -> None:
        phones = PhoneFinder(phone_regions)
        self._recognisers: dict[str, Callable[[str], Iterable[tuple[int, int]]]] = {
            "email": find_emails, "card": find_cards, "national_id": _national_ids, "account": find_accounts,
            "phone": phones.find, "address": find_addresses, "name": find_names}
        self._names = NameModel(name_model, city_name=city_name) if name_model else None
        self.public_contacts = PublicContacts(public_contacts)

    @property
    def name_model(self) -> str | None:
        """The named-entity model's package, or None when names are found by the patterns alone."""
        return self._names.package if self._names else None

    def find(self, text: str) -> tuple[Finding, ...]:
        """The findings in `text`, merged where they overlap, in order."""
        candidates = [Finding(kind, start, end) for kind in KINDS for start, end in self._recognisers[kind](text)
                      if end > start]
        if self._names is not None:
            candidates += [Finding("name", start, end) for start, end in self._names.find(text)]
        if self.public_contacts:
            candidates = [f for f in candidates if not self.public_contacts.allows(f.kind, text[f.start:f.end])]
        contacts = [(f.start, f.end) for f in candidates if f.kind != "name"]
        candidates += [Finding("name", start, end) for start, end in find_names_beside(text, contacts)]
        names = [(f.start, f.end) for f in candidates if f.kind == "name"]
        candidates += [Finding("name", start, end) for start, end in find_names_coordinated(text, names)]
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
    """The redactor for these settings (phone regions, name model, the city's public contacts), built once at start-up
    and passed to every publisher."""
    return Redactor(settings.phone_region_list, name_model=settings.redaction_name_model_package,
                    public_contacts=settings.public_contact_list, city_name=settings.city_name)
