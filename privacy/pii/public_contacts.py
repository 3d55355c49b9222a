"""The city's own published contacts (its phone lines, e-mail addresses and offices): never redacted.

A citizen who writes "I called (555) 010-0420 twice" or an answer that says "City Hall, 200 Main Street" publishes
nothing personal. The allow-list is a setting (CITYDESK_PUBLIC_CONTACTS); a finding is kept when it is one of
its entries, compared as a phone number (the same digits, with or without the country code), an e-mail address
(case-insensitive) or a street address (the same words, street types abbreviated or not, a room or unit after it
allowed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_STREET_TYPES = {"street": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "lane": "ln",
                 "drive": "dr", "court": "ct", "place": "pl", "terrace": "ter", "parkway": "pkwy", "highway": "hwy",
                 "square": "sq", "plaza": "plz", "circle": "cir", "north": "n", "south": "s", "east": "e",
                 "west": "w"}


def _phone_key(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]  # the North American country code
    return digits if len(digits) >= 3 else None


def _address_key(text: str) -> str:
    words = re.findall(r"[^\W_]+", text.casefold())
    return " ".join(_STREET_TYPES.get(w, w) for w in words)


class PublicContacts:
    """Phones, e-mails and addresses the city publishes itself."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.entries = tuple(e.strip() for e in entries if e.strip())
        self._emails = {e.casefold() for e in self.entries if "@" in e}
        self._phones = {key for e in self.entries
                        if "@" not in e and not re.search(r"[^\W\d_]", e) and (key := _phone_key(e))}
        self._addresses = {_address_key(e) for e in self.entries if "@" not in e and re.search(r"[^\W\d_]", e)}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, kind: str, text: str) -> bool:
        """Whether this finding (of `kind`, reading `text`) is one of the city's published contacts."""
        if kind == "email":
            return text.strip().casefold() in self._emails
        if kind == "phone":
            return _phone_key(text) in self._phones
        if kind == "address":
            key = _address_key(text)
            return any(key == a or key.startswith(a + " ") for a in self._addresses)
        return False
