"""Street addresses and intersections a citizen names, kept on the case for the crew."""

from __future__ import annotations

import re

_STREET_TYPE = (r"(?i:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
                r"Parkway|Pkwy|Highway|Hwy|Square|Sq|Terrace|Ter|Circle|Cir)\b\.?")
_PROPER_NAME = r"(?:\d+(?:st|nd|rd|th)|[A-Z][a-z]+)(?:\s+[A-Z][a-z]+){0,2}"
_ANY_NAME = r"[A-Za-z]+(?:\s+[A-Za-z]+){0,2}?"
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?\s+{_ANY_NAME}\s+{_STREET_TYPE}"  # 14 elm st, 221B Baker Street
    rf"|\b{_PROPER_NAME}\s+{_STREET_TYPE}"  # Main St ...
    rf"(?:\s+(?:and|&|near|at)\s+{_PROPER_NAME}(?:\s+{_STREET_TYPE})?)?")  # ... near 5th


def find_address(text: str) -> str | None:
    """The first street address or intersection in the text, as written."""
    match = _ADDRESS.search(text)
    return match.group(0).strip() if match else None


# Block level, as civic open-data portals publish places: the street, never the door.
_UNIT = re.compile(r"(?:,\s*)?(?<![\w#])(?:(?:apt|apartment|unit|suite|ste|flat|floor|room|rm)\.?\s*#?\s*|#\s*)"
                   r"[A-Za-z]?\d+[A-Za-z]?\b\.?", re.IGNORECASE)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s*Box\s+\d+\b", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"(?<![\w#/.-])\d{1,6}(?:\s+1/2|½|[A-Za-z](?![A-Za-z]))?"
                           r"(?:\s?[-/\u2013]\s?\d{1,6}[A-Za-z]?(?![A-Za-z]))?\s+(?=[^\W\d_]|\d{1,3}(?:st|nd|rd|th)\b)")
# a number after these words names the road itself, or the block: "Highway 101", "the 100 block of Oak St"
_NUMBERED_ROAD = re.compile(r"\b(?:route|rte|highway|hwy|interstate|us|sr|cr|exit|county\s+road)\s*$", re.IGNORECASE)
_STATE_CODE = re.compile(r"\b[A-Z]{2}\s*$")  # "Springfield, IL 62704": a ZIP code, not a house
_KOREAN_NUMBER = re.compile(r"([가-힣0-9]+(?:대로|로|길)|[가-힣]+동)\s?\d+(?:-\d+)?(?:번지)?|\s?\d+동\s?\d+호|\s?\d+호")


def block_address(address: str) -> str | None:
    """The address without its house, building and unit numbers ("12 Elm St, Apt 4" -> "Elm St"); street
    names and intersections stay. None when nothing is left."""
    text = _PO_BOX.sub("", address)
    text = _UNIT.sub("", text)
    text = _KOREAN_NUMBER.sub(lambda m: m.group(1) or "", text)
    text = _HOUSE_NUMBER.sub(_drop_house_number, text)
    parts = [" ".join(part.split()) for part in text.split(",")]
    return ", ".join(part for part in parts if part.strip(" .-")) or None


def _drop_house_number(match: re.Match[str]) -> str:
    before, after = match.string[:match.start()], match.string[match.end():]
    if _NUMBERED_ROAD.search(before) or _STATE_CODE.search(before) or re.match(r"blocks?\b", after, re.I):
        return match.group(0)
    return ""
