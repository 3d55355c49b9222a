"""Run `citydesk kb eval` on every set in ../shared/eval and on the demo; write reports/kb-eval.md and .png.

    .venv/bin/python scripts/kb_eval_report.py [--eval-dir ../shared/eval] [--out reports]

Each set is evaluated by the command line itself, one after the other (never in parallel: latency is timed),
at the threshold calibrated on its knowledge base. The chart shows, per set, the precision of the automatic
answers against the share of questions answered automatically as the threshold moves, with the calibrated
threshold marked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITYDESK = ROOT / ".venv" / "bin" / "citydesk"
DEMO = ("demo", ROOT / "knowledge_base" / "demo" / "demo_kb.jsonl",
        ROOT / "knowledge_base" / "demo" / "demo_questions.jsonl")
# Our own messages for the Boulder knowledge base (eval/README.md), evaluated when that knowledge base is there.
BOULDER_DEV = ("boulder-dev", Path("boulder") / "kb.jsonl", ROOT / "eval" / "boulder-dev" / "questions.jsonl")

# Issue 14's targets at the calibrated settings: (set, figure) -> lowest acceptable value (latency: highest).
TARGETS = {
    ("demo", "auto_answer_rate"): 0.55, ("demo", "auto_answer_precision"): 0.97,
    ("demo", "handled_without_staff_rate"): 0.65,
    ("clinc150", "auto_answer_rate"): 0.75, ("clinc150", "auto_answer_precision"): 0.97,
    ("clinc150", "handoff_recall"): 0.95,
    ("banking77_oos", "auto_answer_rate"): 0.35, ("banking77_oos", "auto_answer_precision"): 0.97,
    ("boulder", "top1"): 0.80, ("boulder", "recall_at_3"): 0.95,
}
MAX_LATENCY_P95_MS = 40.0
# Before issue 14 (main at 0f87b3b: one threshold, margin weight 0.5 clipped at 1; same machine and command).
BEFORE = {
    "demo": {"auto_answer_rate": 0.1529, "auto_answer_precision": 1.0, "handoff_recall": 1.0},
    "clinc150": {"auto_answer_rate": 0.6248, "auto_answer_precision": 0.9964, "handoff_recall": 1.0},
    "banking77_oos": {"auto_answer_rate": 0.0894, "auto_answer_precision": 0.955, "handoff_recall": 0.9932},
    "boulder": {"top1": 0.65, "recall_at_3": 0.9, "auto_answer_rate": 0.0},
    "boulder-dev": {"top1": 0.7, "recall_at_3": 0.84, "auto_answer_rate": 0.0182, "auto_answer_precision": 1.0},
}
# What was tried for issues 4 and 14 and kept or dropped, with its measured effect (development sets, ../shared/eval).
NOTES = """## Issue 14: answering without staff

- **Three bands** (knowledge_base/bands.py): answer (expected precision 0.97), answer and ask "Did this answer your
  question?" (the band below, down to where its own expected precision is 0.80), clarify or hand off. A wrong
  answer of either band never counts as handled.
- **Confidence** (knowledge_base/search/fusion.py): the lead over the runner-up now counts fully (weight 0.5 -> 1),
  the classifier's probability lead adds to it at weight 0.5 where a knowledge base has a classifier, and a soft
  ceiling replaces the clip at 1 (which tied the most confident third of clinc150 and banking77 at 1.0). Measured
  on the fusion inputs of the development sets, the share of questions answerable at precision 0.97 by the best
  possible threshold went from 0.00 to 0.20 (banking77), 0.91 to 0.94 (clinc150), 0.08 to 0.15 (boulder-dev),
  0.41 to 0.41 (demo). Tried and not kept: margin weight 2 or 3 (more ties, demo AUROC down), classifier weight
  0.5-2 (clinc150 top-1 +0.9 points but banking77 -0.4 to -1.3), the best phrasing's cosine beside the vote
  (gains and losses of a question or two per set).
- **What limits the direct band**: on the demo and banking77 the best possible threshold itself answers 41% and
  20% of questions at 0.97 (wrong answers with confident scores: an unanswerable "where can I get a flu shot"
  close to the vaccination entry; banking77's in-domain questions with no entry).
- **Calibration of a city FAQ** (one phrasing an entry, the Boulder knowledge base): each question used to be held
  out, the entry standing for itself by its topic and answer; far harder than citizens' words, so nothing was
  answered directly (boulder-dev: threshold never, handled without staff 0.10). Now the question is reworded (60%
  of its words kept, in order) and asked of the whole knowledge base, and an FAQ question that another entry
  restates (cosine 0.8) is no longer an unanswerable one: boulder-dev direct 0.09 at precision 1.0, answer and ask
  0.13 at 0.93, handled 0.58. Reworded questions are easier than real ones (expected direct rate 0.30, measured
  0.09): the thresholds are still conservative; on boulder-dev a threshold of 0.80 would have answered 14.5% at
  precision 1.0.

## Issue 4: what was tried

Measured on the development sets with the knowledge bases' own embeddings, before any threshold (top-1 unless
said otherwise). Kept:

- **Phrasing vote** (mean cosine of an entry's three closest phrasings, instead of the closest one): clinc150
  0.885 → 0.905, banking77 0.855 → 0.896.
- **Field-weighted fusion**: the answer's cosine (weight 0.3; banking77 +2 points, demo +1.7, boulder recall@3
  0.80 → 0.90), BM25 at weight 0.2 instead of 0.1 (demo 0.950 → 0.967, clinc150 +0.5, banking77 +0.7), and
  each question read in the context of its topic ("Disposable Bag Fee: How much is the fee?"; boulder
  0.50 → 0.60).
- **A small classifier** on the knowledge base's phrasings (logistic regression, weight 0.2, only when entries
  have a median of 8 phrasings or more; seconds to train, retrained when entries change): clinc150 0.918 →
  0.951, banking77 0.894 → 0.902; no gain on the demo (4 phrasings an entry), hence the gate.
- **Margin confidence** (the score plus half the lead over the best other entry): AUROC of right answers
  against everything else, clinc150 0.869 → 0.899, banking77 0.880 → 0.890, demo 0.907 → 0.913.
- **Long messages** (40 words or more): the mean of the whole message's score and its best sentence's. Neutral
  on boulder and the demo (pure best-sentence ranking lost a question on each); on a 300-word complaint whose
  question comes after the model's 256 tokens, the whole message alone ranks the wrong entry first and this
  finds the right one (tests/knowledge_base/test_ranking.py). Embedding the sentences apart from the message
  doubled a long message's cost (boulder, 4 long messages in 20: p95 about 60 ms); taking their vectors from
  the message's own pass (the mean of their tokens) and reading BM25 on the whole message only brought it to
  about 25 ms, with the same top-1 and recall@3.
- **An entry with few phrasings leans on its answer and its words** (knowledge_base/search/fusion.py
  `evidence_weights`): the answer's and BM25's weights double for an entry with one phrasing, and are unchanged
  from three phrasings on (clinc150, banking77 and the demo have 4 to 100 an entry: their figures do not move).
  A city FAQ has only its question, and a question like "How much is the fee?" says less than its answer.
  With BM25's answer field at weight 1.0 instead of 0.5 (both backends): boulder-dev top-1 0.64 → 0.68,
  recall@3 0.82 → 0.85; boulder 0.65 → 0.70, recall@3 0.90 → 0.90. Answer weights 0.3/0.45/0.6/0.8/1.0 and
  BM25 weights 0.2/0.4/0.6 were compared on boulder-dev; the differences past this point were a question or two.
- **BM25 for every candidate**: an entry the vectors found but BM25 did not rank among its own 30 best used to
  get no lexical evidence at all, and so lost to entries that did share the message's words; now its words are
  scored too (one more FTS5 query restricted to those rows; one more search body in Elasticsearch's second
  round trip). Needed for the weights above to work as measured (without it boulder fell to 0.60).
- **No English stop words in the embedded backend's BM25 query** (Elasticsearch's `_english_` list, which the
  other backend's analyzer already drops): the two backends now read the same words. boulder-dev top-1
  0.68 → 0.70, recall@3 0.85 → 0.84; boulder 0.70 → 0.65 (two messages moved from rank 1 to rank 2, two
  others the other way at boulder-dev); 100,000 entries: backend and ranking p50 299 → 285 ms.
- **Calibration bank filter**: a bank question that one of the entries states almost word for word (cosine
  ≥ 0.8) is not counted as unanswerable for that knowledge base (clinc150 answers "tell me a joke"): clinc150's
  calibrated threshold 0.897 → 0.784, auto-answer rate 0.39 → 0.63 at precision 0.996.

Dropped:

- **Fine-tuning all-MiniLM-L6-v2** on the phrasings (multiple-negatives ranking loss, one epoch, batch 32): 6.2
  minutes on 2 cores for banking77's 5,900 phrasings, top-1 +0.9 points (vote) and +0.3 (classifier); and a
  fair calibration would need one fine-tuning per fold. Not worth it: no command ships.
- **Nearest-phrasing voting over the whole index** (k = 10 to 50 phrasings): top-1 at best equal to the
  per-entry vote, AUROC far worse (banking77 0.71 to 0.84).
- **Least-squares classifier** instead of logistic regression: clinc150 0.926 against 0.951.
- **Answers split into sentences** and **reciprocal rank fusion** of the fields: no gain on boulder or the demo.
- **Sentence ranking for messages of 20 to 39 words**: no gain, and it cost latency on 9% of banking77.
- **The topic-context question instead of the bare one** (index "Disposable Bag Fee: How much is the fee?" only):
  boulder recall@3 0.90 → 0.95, boulder-dev equal (0.67 against 0.68 top-1), demo top-1 0.983 → 0.950, and a
  citizen typing an entry's exact question was auto-answered less often (boulder 84% → 71% of the 689
  questions, demo 98% → 97%). Both are indexed, as before.
- **Fine-tuning on the knowledge base's own question → answer pairs** (Boulder's 689, multiple-negatives loss,
  one epoch, 130 s on 2 cores): boulder-dev top-1 +2 points, boulder +0. Not worth a training step.
- **Late interaction** (MaxSim of the model's token vectors, IDF-weighted), as a ranker alone or fused: at best
  equal (boulder 0.70 fused at weight 0.2, 0.50 alone).
- **A topic's page as evidence** (the cosine to the mean vector of its entries, or its best entry's score,
  added to every entry of the topic): boulder-dev ±1 question.
- **The best-matching answer sentence** as a fourth kind of evidence (weight 0.3 to 0.6): boulder-dev ±2
  questions. **Long messages** read by their two best sentences, a softmax over sentences, or with BM25 on the
  sentences: boulder-dev's 20 long messages stay at 11 right (the whole message alone does as well).

Not reached: boulder's top-1 (0.80) and recall@3 (0.95) targets. Its 20 messages ask for FAQ rows written as
topic overviews ("Park Maintenance Issues") and rows whose wording is far from the message ("Contact Parking
Services" for a disputed garage charge, "Debris, Trash and Road Kill" for a dead cat); the methods above took it
from 0.50 to 0.65 or 0.70 (five of its misses are at rank 2 or 3, and which of them flip depends on a few
thousandths) and 0.80 to 0.90, and nothing general tried went further with this model. boulder-dev (110
messages written for this project, eval/README.md) measures at a finer grain: top-1 0.64 → 0.70, recall@3
0.82 → 0.84 this session; its 20 long messages are the weak part (11 right).

Latency is timed per question (embedding and search, after warm-up) while other engineers' jobs may be
running on the same 2 cores; on a quiet machine the p95 is about 10 ms for short questions and 25 ms for
boulder's long messages.

The calibrated thresholds are conservative where held-out phrasings are harder than real questions (the demo:
each entry has 3 alternative phrasings, one is held out), and where unanswerable questions sit inside the
domain (banking77: 530 of its 730 unanswerable questions ask about banking intents with no entry, so at the
0.97 target only 9% of questions are answered automatically, at a measured precision of 0.96).
"""
ROWS = ["n", "n_answerable", "n_unanswerable", "top1", "recall_at_3", "mrr", "auto_answer_rate",
        "auto_answer_precision", "confirm_answer_rate", "confirm_answer_precision", "handled_without_staff_rate",
        "handoff_recall", "handoff_recall[in-domain]", "handoff_recall[out-of-domain]",
        "clarify_rate", "clarify_hit_rate", "auroc", "department_accuracy", "latency_ms_p50", "latency_ms_p95",
        "threshold", "confirm_threshold", "expected_auto_answer_precision", "expected_auto_answer_rate",
        "expected_confirm_answer_precision", "expected_confirm_answer_rate", "run_seconds"]


@dataclass
class Run:
    name: str
    kb: Path
    questions: Path
    command: str
    report: dict
    details: list[dict]
    seconds: float


def eval_sets(eval_dir: Path) -> list[tuple[str, Path, Path]]:
    """Every (name, kb, questions) of the evaluation folder, then our Boulder messages, then the demo."""
    sets = []
    for folder in sorted(p for p in eval_dir.iterdir() if (p / "kb.jsonl").is_file()):
        for questions in sorted(folder.glob("questions*.jsonl")):
            sets.append((folder.name, folder / "kb.jsonl", questions))
    name, kb, questions = BOULDER_DEV
    if (eval_dir / kb).is_file():
        sets.append((name, eval_dir / kb, questions))
    return [*sets, DEMO]


def run(name: str, kb: Path, questions: Path) -> Run:
    with tempfile.TemporaryDirectory() as folder:
        details = Path(folder) / "details.jsonl"
        arguments = [str(CITYDESK), "kb", "eval", "--kb", str(kb), "--questions", str(questions), "--json",
                     "--details", str(details)]
        start = time.perf_counter()
        result = subprocess.run(arguments, capture_output=True, text=True, check=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        records = [json.loads(line) for line in details.read_text().splitlines()]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    command = " ".join(["citydesk", *arguments[1:-2]]).replace(str(ROOT) + "/", "").replace(
        str(ROOT.parent) + "/", "../")
    return Run(name, kb, questions, command, report, records, seconds)


def figure(run: Run, row: str) -> object:
    report = run.report
    if row.startswith("handoff_recall["):
        return report.get("handoff_recall_by_kind", {}).get(row[len("handoff_recall["):-1])
    if row.endswith("(calibration)"):
        return (report.get("calibration") or {}).get(row.split(" ")[0])
    if row == "run_seconds":
        return round(run.seconds)
    return report.get(row)


def cell(run: Run, row: str) -> str:
    value = figure(run, row)
    text = "—" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
    target = TARGETS.get((run.name, row))
    if row == "latency_ms_p95" and value is not None:
        target, ok = MAX_LATENCY_P95_MS, value <= MAX_LATENCY_P95_MS
        return f"{text} {'✓' if ok else '✗'} (≤ {target:g})"
    if target is not None and value is not None:
        return f"{text} {'✓' if value >= target else '✗'} (≥ {target:g})"
    return text


def curve(records: list[dict]) -> tuple[list[float], list[float]]:
    """(auto-answer rate, precision) for every threshold, from the highest confidence down."""
    ordered = sorted(records, key=lambda r: -r["confidence"])
    rates, precisions, right = [], [], 0
    for count, record in enumerate(ordered, start=1):
        right += record["answerable"] and record["top_correct"]
        rates.append(count / len(ordered))
        precisions.append(right / count)
    return rates, precisions


def chart(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure_, axes = plt.subplots(figsize=(8, 5.5))
    for run in runs:
        rates, precisions = curve(run.details)
        line, = axes.plot(rates, precisions, label=run.name)
        if run.report["auto_answer_rate"] and run.report["auto_answer_precision"] is not None:
            axes.plot(run.report["auto_answer_rate"], run.report["auto_answer_precision"], "o",
                      color=line.get_color())
    axes.axhline(0.97, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("auto-answer rate (share of all questions answered automatically)")
    axes.set_ylabel("precision of the automatic answers")
    axes.set_title("Precision against auto-answer rate as the threshold moves\n"
                   "(dots: the threshold calibrated on each knowledge base; dotted: 0.97)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0.5, 1.005)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    figure_.tight_layout()
    figure_.savefig(path, dpi=110)


def markdown(runs: list[Run], chart_name: str) -> str:
    names = [r.name for r in runs]
    lines = ["# Knowledge base evaluation", "",
             "Written by `scripts/kb_eval_report.py`; every figure comes from `citydesk kb eval` (contract in "
             "`../shared/EVAL.md`) at the answer threshold **calibrated on each knowledge base** "
             "(`citydesk kb calibrate`: target precision 0.97, 30% of questions assumed unanswerable), not a "
             "threshold tuned on the questions. ✓/✗: issue 14's targets. Machine: 2 cores, no GPU, MiniLM.", "",
             "| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for row in ROWS:
        lines.append(f"| {row} | " + " | ".join(cell(r, row) for r in runs) + " |")
    lines += ["", "## Before issue 14", "",
              "One threshold; margin weight 0.5 clipped at 1 (main at 0f87b3b, same command).", "",
              "| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    before_rows = sorted({k for figures in BEFORE.values() for k in figures}, key=ROWS.index)
    for row in before_rows:
        lines.append(f"| {row} | " + " | ".join(str(BEFORE.get(n, {}).get(row, "—")) for n in names) + " |")
    lines += ["", NOTES, "## Precision against auto-answer rate", "",
              f"![precision against auto-answer rate]({chart_name})",
              "", "## Commands", "", "```bash", ".venv/bin/python scripts/kb_eval_report.py   # all of the below"]
    lines += [f".venv/bin/{r.command}" for r in runs]
    lines += ["```", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    arguments = parser.parse_args()
    runs = []
    for name, kb, questions in eval_sets(arguments.eval_dir):
        print(f"{name}: {questions.name} …", file=sys.stderr, flush=True)
        runs.append(run(name, kb, questions))
    arguments.out.mkdir(parents=True, exist_ok=True)
    chart(runs, arguments.out / "kb-eval.png")
    (arguments.out / "kb-eval.md").write_text(markdown(runs, "kb-eval.png"), encoding="utf-8")
    print(f"Wrote {arguments.out / 'kb-eval.md'} and {arguments.out / 'kb-eval.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
