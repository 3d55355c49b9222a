"""Payment card numbers (Luhn), US social security numbers and Korean resident registration numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

Span = tuple[int, int]

# Groups of digits joined by single spaces, dashes or dots; lengths are checked after the separators go.
_CARD = re.compile(r"(?<![\w.-])\d{2,}(?:[ .-]\d{2,}){0,5}(?![\w-]|\.\d)")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])")
_SSN_CONTEXT = re.compile(r"\b(?:ssn|ss#|ss no|social security|social sec)\b", re.IGNORECASE)
_RRN = re.compile(r"(?<![\w-])(\d{2})(\d{2})(\d{2})([- ]?)(\d)(\d{6})(?![\w-])")
_RRN_CONTEXT = re.compile(r"주민|\b(?:rrn|resident registration|registration number|resident number)\b",
                          re.IGNORECASE)
# From October 2020 the last six digits are random, so numbers issued since carry no checksum.
_RRN_CHECKSUM_UNTIL = date(2020, 10, 1)
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_RRN_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000,
                "9": 1800, "0": 1800}


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_valid(digits) and len(set(digits)) > 1


def find_cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", text[m.start():m.end()])]
        # the longest run of whole groups that is a card: "4111 1111 1111 1111 2027" holds one and a year
        runs = sorted(((i, j) for i in range(len(groups)) for j in range(i, len(groups))),
                      key=lambda ij: ij[0] - ij[1])
        for i, j in runs:
            start, end = m.start() + groups[i][0], m.start() + groups[j][1]
            if is_card_number(re.sub(r"\D", "", text[start:end])):
                yield start, end
                break


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """The SSA's rules: no area 000, 666 or 900-999, no group 00, no serial 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def find_ssns(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        area, sep, group, serial = m.groups()
        if not ssn_valid(area, group, serial):
            continue
        # nine bare digits are an SSN only when the message says so
        if sep or _SSN_CONTEXT.search(text, max(0, m.start() - 40), m.start()):
            yield m.span()


def rrn_birth_date(number: str) -> date | None:
    """The birth date a resident registration number encodes (YYMMDD, century from the 7th digit), if real."""
    century = _RRN_CENTURY.get(number[6])
    if century is None:
        return None
    try:
        born = date(century + int(number[:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        return None
    return born if born <= date.today() else None


def rrn_checksum_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:12], _RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(number[12])


def rrn_valid(number: str, *, formatted: bool) -> bool:
    """A real date and a 7th digit of 1-8; bare 13 digits must also pass the checksum where one applies."""
    number = re.sub(r"\D", "", number)
    if len(number) != 13 or number[6] not in "12345678":
        return False
    born = rrn_birth_date(number)
    if born is None:
        return False
    return formatted or born >= _RRN_CHECKSUM_UNTIL or rrn_checksum_valid(number)


def find_rrns(text: str) -> Iterator[Span]:
    for m in _RRN.finditer(text):
        formatted = bool(m.group(4)) or bool(_RRN_CONTEXT.search(text, max(0, m.start() - 40), m.start()))
        if rrn_valid(m.group(), formatted=formatted):
            yield m.span()
