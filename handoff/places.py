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
