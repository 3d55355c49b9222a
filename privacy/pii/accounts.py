"""Account and ID numbers named as such: utility, library, customer and permit accounts, driver's licences,
passports, Medicaid and member IDs.

Only a number that the words right before it call an account or a personal ID is found: "account no. 0047-2291-66",
"Driver's license D123-4567-8901". Case, ticket, permit, order and meter numbers are the city's own references and
stay readable, as do amounts ("Account balance shows -$12.50").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

_HOLDER = (r"(?:(?:water|utility|utilities|sewer|trash|electric|gas|bank|checking|savings|library|customer|"
           r"member(?:ship)?|resident(?:\s+permit)?|billing|service|patient|medicaid|medicare|insurance|"
           r"benefits?|ebt|snap|student|employee|voter|tax(?:payer)?)\s+)?")
_WHAT = (r"(?:account|acct|customer|member|client|patient|library\s+card|"
         r"ebt\s+card|driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|licen[cs]e|dl|passport|medicaid|medicare|"
         r"id|identification|voter\s+id|student\s+id|policy)")
# "account number is", "acct #", "ID:", "license no.", "number", "account, number"
_LABEL = r"(?:[\s,]*(?:number|num|no\.?|nr|#|id)\b\.?)?(?:\s*(?:is|was|reads)\b)?[\s:#.]*"
_CUE = re.compile(rf"\b{_HOLDER}{_WHAT}{_LABEL}", re.IGNORECASE)
# an identifier: digits with optional letters and dashes, at least 6 digits in all; no amounts or dates
_NUMBER = re.compile(r"(?<![\w$.-])(?=[A-Z0-9-]*\d)[A-Z]{0,3}-?\d[\dA-Z]*(?:[- ]\d[\dA-Z]*){0,4}(?![\w$%/]|[.,]\d)",
                     re.IGNORECASE)
# what is not a person's account although a cue word stands before it
_NOT_PERSONAL = re.compile(r"\b(?:dog|cat|pet|animal|business)\s*'?s?\s+licen[cs]e|\bcard\s+ending\s+in\b|"
                           r"\bcase\b|\bticket\b|\bcitation\b|\border\b|\bmeter\b", re.IGNORECASE)


def find_accounts(text: str) -> Iterator[Span]:
    for cue in _CUE.finditer(text):
        if _NOT_PERSONAL.search(text, max(0, cue.start() - 12), cue.end()):
            continue
        number = _NUMBER.match(text, cue.end())
        if number is None:
            continue
        digits = sum(ch.isdigit() for ch in number.group())
        if digits >= 6 and not re.fullmatch(r"(?:19|20)\d\d", number.group()):
            yield number.span()
