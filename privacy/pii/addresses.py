"""Street addresses: a house number, a street name and a street type, with the flat or unit that follows.

A street named without a house number ("the pothole on Elm Street", "Main St and 5th Ave") is where
something happened, not where someone lives, so it is kept; "I live at 42 Maple" is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

_TYPES = (r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|terrace|ter|way|"
          r"circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|crescent|cres|close|row|alley|aly|plaza|loop|"
          r"pike|walk|gardens|grove|mews|esplanade|expressway|freeway|turnpike|causeway|ridge|hill|crossing")
# Words that end a street name: "3 cars on the road" is not an address.
_NOT_NAME = {"a", "an", "the", "on", "in", "at", "of", "to", "for", "and", "or", "my", "our", "your", "their",
             "his", "her", "its", "this", "that", "down", "up", "by", "from", "with", "near", "into", "across",
             "along", "off", "over", "per", "each", "every", "more", "less", "than", "times", "days", "weeks",
             "hours", "minutes", "years", "months", "is", "was", "are", "were", "been", "be", "it", "i", "we",
             "you", "they", "he", "she", "blocks", "block", "miles", "mile", "feet", "meters", "km"}
_DIRECTION = r"(?:[NSEW]|NE|NW|SE|SW|North|South|East|West)\.?"
_UNIT = r"(?:\.?,?\s*(?:apt|apartment|unit|suite|ste|flat|fl|floor|room|rm|#)\.?\s*#?\s*[A-Za-z]?\d+[A-Za-z]?\b)"
_ADDRESS = re.compile(
    rf"(?<![\w$.,:/-])(?P<number>\d{{1,6}}[A-Za-z]?(?:[-/]\d{{1,4}}[A-Za-z]?)?)\s+"
    rf"(?:{_DIRECTION}\s+)?"
    rf"(?P<name>(?:(?:\d{{1,3}}(?:st|nd|rd|th)|[^\W\d_][\w'\u2019.-]*)\s+){{1,3}}?)"
    rf"(?P<type>{_TYPES})\b(?:\.(?=,|\s+[a-z]))?"  # "Magnolia Dr. any weekday": the abbreviation's full stop
    rf"(?:\s+{_DIRECTION}(?![\w]))?"
    rf"(?P<unit>{_UNIT})?",
    re.IGNORECASE)
_UNIT_BEFORE = re.compile(r"(?:apt|apartment|unit|suite|ste|flat)\.?\s*#?\s*[A-Za-z]?\d+[A-Za-z]?,?\s*$",
                          re.IGNORECASE)
_MORE_TYPE = re.compile(rf"\s+(?:{_TYPES})\b", re.IGNORECASE)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s*Box\s+\d+\b", re.IGNORECASE)
# "I live at 42 Maple": an address by what is said before it, even without a street type
_LIVE_AT = re.compile(
    r"\b(?:i\s+live|we\s+live|living|i\s+reside|residing|my\s+address\s+is|address:|our\s+address\s+is|"
    r"my\s+(?:house|home|place|apartment|flat)\s+(?:is|at)|moved\s+to)\s+(?:at\s+|on\s+|in\s+)?"
    r"(?P<address>(?-i:\d{1,6}[A-Za-z]?\s+[A-Z][\w'\u2019-]*(?:\s+[A-Z][\w'\u2019-]*){0,2}))", re.IGNORECASE)
# Korean road-name addresses: "세종대로 110", "테헤란로 152", "올림픽로35길 10"
_KOREAN_ROAD = re.compile(r"[가-힣0-9]+(?:대로|로|길)\s?\d+(?:-\d+)?(?:번?길\s?\d+(?:-\d+)?)?")


def _street_name_ok(name: str, street_type: str) -> bool:
    words = name.split()
    if any(w.lower().strip(".") in _NOT_NAME for w in words):
        return False
    # lowercase names ("12 main st") only with a street type no one writes in passing
    if any(w[0].islower() for w in words if not w[0].isdigit()):
        return street_type.lower().rstrip(".") in {"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd",
                                                   "lane", "ln", "drive", "court", "terrace", "parkway", "pkwy",
                                                   "highway", "hwy"}
    return True


def find_addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS.finditer(text):
        if not _street_name_ok(m.group("name"), m.group("type")):
            continue
        start, end = m.start(), m.end()
        if not m.group("unit"):  # "25 Cherry Hill Court": the shortest street name stopped at "Hill"
            while more := _MORE_TYPE.match(text, end):
                end = more.end()
            if unit_after := re.compile(_UNIT, re.IGNORECASE).match(text, end):
                end = unit_after.end()
        unit = _UNIT_BEFORE.search(text, max(0, start - 20), start)
        yield (unit.start() if unit else start), end
    for m in _LIVE_AT.finditer(text):
        yield m.span("address")
    for pattern in (_PO_BOX, _KOREAN_ROAD):
        for m in pattern.finditer(text):
            yield m.span()
