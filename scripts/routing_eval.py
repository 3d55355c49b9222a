"""Where the desk's hand-off sends each message of a set, on the directory file alone and on the directory a desk
runs with (the file plus the departments the entries name, categories mapped onto them: handoff/city_directory.py).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/routing_eval.py --kb ../shared/eval/boulder/kb.jsonl \\
        --questions eval/boulder-dev/questions.jsonl

Each message with an `expected_department` is routed as a hand-off would be (its service category, else the
best entries' vote, else the fallback inbox); right when the department reached is the expected one (by name or
code, as routing matches names). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

from handoff.categories import CategoryClassifier
from handoff.city_directory import CityDirectory
from handoff.directory import Directory, load_directory
from handoff.routing import route_case
from knowledge_base.factory import build_knowledge_base
from knowledge_base.importer import read_entries
from knowledge_base.service import KnowledgeBase
from settings import Settings


def accuracy(kb: KnowledgeBase, directory: Directory, rows: list[dict]) -> dict:
    classifier = CategoryClassifier(directory, kb.embedder)
    right, reached = 0, Counter[str]()
    for row in rows:
        answer = kb.answer(row["text"])
        category, _ = classifier.classify(row["text"], vector=answer.vector)
        department = route_case(directory=directory, category=category,
                                entry_matches=[(h.entry.department, h.confidence) for h in answer.results]).department
        expected = directory.department_by_name(row["expected_department"])
        right += expected is not None and expected.code == department.code
        reached[department.name] += 1
    return {"department_accuracy": round(right / len(rows), 4), "departments": len(directory.departments),
            "reached": dict(reached.most_common())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings()
    rows = [row for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()
            and (row := json.loads(line)).get("expected_department")]
    with tempfile.TemporaryDirectory() as folder:
        # routing does not depend on the answer threshold: an explicit one spares the calibration
        kb = build_knowledge_base(database_url=f"sqlite:///{folder}/kb.db", model_name=settings.embedding_model,
                                  threshold=0.6)
        kb.import_entries(read_entries(args.kb))
        file = load_directory(settings.directory_file)
        city = CityDirectory(file, kb).directory
        print(json.dumps({"n": len(rows), "file": accuracy(kb, file, rows), "city": accuracy(kb, city, rows),
                          "categories": {c.code: city.department(c.department).name for c in city.categories}}))


if __name__ == "__main__":
    main()
