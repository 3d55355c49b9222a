"""Turn NAME.src.txt (personal data marked [[kind:text]]) into NAME.jsonl with exact spans, for each corpus.

Run: .venv/bin/python privacy/data/build_pii_corpus.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
# pii_corpus: the measured corpus; pii_heldout, pii_heldout2: written before rule changes and never tuned on,
# for an honest estimate
CORPORA = {"pii_corpus": "pii", "pii_heldout": "heldout", "pii_heldout2": "heldout2"}  # file name: id prefix
MARK = re.compile(r"\[\[(phone|email|card|national_id|account|address|name):(.+?)\]\]")


def parse(line: str) -> tuple[str, list[dict]]:
    """The plain text of one marked-up line and its spans."""
    line = line.replace("\\n", "\n")
    text, spans, last = [], [], 0
    for m in MARK.finditer(line):
        text.append(line[last:m.start()])
        start = sum(map(len, text))
        text.append(m.group(2))
        spans.append({"kind": m.group(1), "start": start, "end": start + len(m.group(2))})
        last = m.end()
    text.append(line[last:])
    plain = "".join(text)
    if "[[" in plain or "]]" in plain:
        raise ValueError(f"unparsed mark-up in: {line!r}")
    return plain, spans


def build(name: str) -> int:
    """Write NAME.jsonl from NAME.src.txt; the number of messages."""
    lines = [ln for ln in (HERE / f"{name}.src.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    prefix = CORPORA[name]
    with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as out:
        for n, line in enumerate(lines, 1):
            text, spans = parse(line)
            out.write(json.dumps({"id": f"{prefix}-{n:03d}", "text": text, "spans": spans}, ensure_ascii=False) + "\n")
    return len(lines)


def main() -> None:
    for name in CORPORA:
        print(f"{build(name)} messages written to {HERE / (name + '.jsonl')}")


if __name__ == "__main__":
    main()
