"""Compare ways of finding names on the labelled corpora: precision, recall and milliseconds per message.

    .venv/bin/python scripts/bench_redaction.py [--json]

Configurations (every other kind is found by the same patterns in each):
  patterns      the cue-based name patterns alone (CITYDESK_REDACTION_NAME_MODEL=none)
  model-raw     spaCy's PERSON entities as they come, without the patterns or the context rules
  model         spaCy with the context rules and the given-names list, without the cue-based patterns
  both          the default: patterns + model + context rules (what build_redactor builds)
The speed is the whole redactor's (every kind), per message, after one warm-up pass, on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from privacy.evaluation import DEFAULT_CORPUS, evaluate, load_corpus  # noqa: E402
from privacy.pii.ner import load_model  # noqa: E402
from privacy.redactor import Redactor, build_redactor  # noqa: E402
from settings import Settings  # noqa: E402

CORPORA = {"corpus": DEFAULT_CORPUS, "held-out": DEFAULT_CORPUS.parent / "pii_heldout.jsonl"}


def _raw_persons(text: str) -> Iterator[tuple[int, int]]:
    for ent in load_model().pipe([text]).__next__().ents:
        if ent.label_ == "PERSON":
            yield ent.start_char, ent.end_char


def redactors(settings: Settings) -> dict[str, Redactor]:
    common = {"public_contacts": settings.public_contact_list, "city_name": settings.city_name}
    patterns = Redactor(settings.phone_region_list, name_model=None, **common)
    raw = Redactor(settings.phone_region_list, name_model=None, **common)
    raw._recognisers["name"] = _raw_persons  # a measurement of the model alone
    model = build_redactor(settings)
    model._recognisers["name"] = lambda text: ()  # the model without the cue-based patterns
    return {"patterns": patterns, "model-raw": raw, "model": model, "both": build_redactor(settings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for config, redactor in redactors(Settings()).items():
        for corpus, path in CORPORA.items():
            messages = load_corpus(path)
            evaluate(messages, redactor)  # warm-up
            started = time.perf_counter()
            report = evaluate(messages, redactor)
            ms = (time.perf_counter() - started) * 1000 / len(messages)
            name = report.kinds["name"]
            results.append({"config": config, "corpus": corpus, "messages": len(messages),
                            "name_precision": name.precision, "name_recall": name.recall,
                            "name_leaked_chars": f"{name.leaked_chars}/{name.gold_chars}",
                            "overall_precision": report.overall.precision, "overall_recall": report.overall.recall,
                            "ms_per_message": round(ms, 2)})
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{'config':<10} {'corpus':<9} {'name P':>7} {'name R':>7} {'leaked':>9} {'all P':>7} {'all R':>7} "
          f"{'ms/msg':>7}")
    for r in results:
        print(f"{r['config']:<10} {r['corpus']:<9} {r['name_precision']:>7.3f} {r['name_recall']:>7.3f} "
              f"{r['name_leaked_chars']:>9} {r['overall_precision']:>7.3f} {r['overall_recall']:>7.3f} "
              f"{r['ms_per_message']:>7.2f}")


if __name__ == "__main__":
    main()
