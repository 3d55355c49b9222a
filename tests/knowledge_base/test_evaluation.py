"""The `kb eval` figures of shared/EVAL.md: summarise on hand-built answers, read_questions, evaluate_files."""

from __future__ import annotations

import json

import pytest

from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.entry import Entry
from knowledge_base.evaluation import (
    Question,
    QuestionFileError,
    evaluate,
    evaluate_files,
    is_right,
    read_questions,
    summarise,
)
from knowledge_base.importer import EntryFileError
from knowledge_base.search.protocol import SearchHit
from knowledge_base.service import Answer
from tests.conftest import write_jsonl
from tests.knowledge_base.conftest import SMALL_ENTRIES

CONTRACT_KEYS = {"n", "n_answerable", "n_unanswerable", "top1", "recall_at_3", "mrr", "auto_answer_rate",
                 "auto_answer_precision", "handoff_recall", "auroc", "department_accuracy", "latency_ms_p50",
                 "latency_ms_p95", "threshold", "clarify_rate", "clarify_hit_rate", "confirm_answer_rate",
                 "confirm_answer_precision", "handled_without_staff_rate", "confirm_threshold"}
EXPECTED_KEYS = {"expected_auto_answer_precision", "expected_auto_answer_rate", "expected_confirm_answer_precision",
                 "expected_confirm_answer_rate"}

THRESHOLD = 0.5
A = Entry(id="A", question="a?", answer="a", department="Parks")
B = Entry(id="B", question="b?", answer="b", department="Roads")
C = Entry(id="C", question="c?", answer="c", department="Water")
D = Entry(id="D", question="d?", answer="d", department="Parks")


def answer(*ranked: tuple[Entry, float], threshold: float = THRESHOLD) -> Answer:
    return Answer(results=[SearchHit(entry=e, confidence=c, dense=c, lexical=0.0, matched_phrasing=e.question)
                           for e, c in ranked], threshold=threshold)


def q(*expected: str, department: str | None = None) -> Question:
    return Question(text="question", expected_ids=tuple(expected), expected_department=department)


# Seven questions with every case: found at rank 1, 3, 2 and not at all; wrong and right auto-answers;
# an unanswerable question answered anyway, one handed off, one with no results at all.
SCENARIO = [
    (q("A", department="Parks"), answer((A, 0.9), (B, 0.3))),           # rank 1, auto right, routed right
    (q("B", department="Roads"), answer((A, 0.55), (C, 0.4), (B, 0.3))),  # rank 3, auto wrong, routed wrong
    (q("C", "D"), answer((B, 0.4), (D, 0.35))),                           # rank 2 (either id counts), hand-off
    (q("A"), answer((B, 0.2), (C, 0.1))),                                 # not found, hand-off
    (q(department="Water"), answer((C, 0.7))),                          # unanswerable, auto-answered, routed right
    (q(), answer((D, 0.3))),                                              # unanswerable, handed off
    (q(department="Roads"), answer()),                                  # unanswerable, no results, routed nowhere
]
LATENCIES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


@pytest.fixture
def report() -> dict:
    return summarise([s[0] for s in SCENARIO], [s[1] for s in SCENARIO], LATENCIES, THRESHOLD)


def test_summary_has_exactly_the_contract_keys(report):
    assert set(report) == CONTRACT_KEYS


def test_counts(report):
    assert (report["n"], report["n_answerable"], report["n_unanswerable"]) == (7, 4, 3)


def test_top1(report):
    assert report["top1"] == 0.25  # 1 of 4 answerable


def test_recall_at_3(report):
    assert report["recall_at_3"] == 0.75  # ranks 1, 3, 2 of 4 answerable


def test_mrr(report):
    assert report["mrr"] == round((1 + 1 / 3 + 1 / 2 + 0) / 4, 4)
    assert report["mrr"] == 0.4583


def test_auto_answer_rate(report):
    assert report["auto_answer_rate"] == round(3 / 7, 4)  # 0.9, 0.55 and 0.7 reach the threshold


def test_auto_answer_precision(report):
    assert report["auto_answer_precision"] == round(1 / 3, 4)  # only the first was a right entry


def test_handoff_recall(report):
    assert report["handoff_recall"] == round(2 / 3, 4)


def test_auroc(report):
    # answerable 0.9, 0.55, 0.4, 0.2 against unanswerable 0.7, 0.3, 0.0: 3 + 2 + 2 + 1 of 12 pairs
    assert report["auroc"] == round(8 / 12, 4)


def test_without_a_confirm_band_nothing_is_answered_with_a_question(report):
    assert (report["confirm_answer_rate"], report["confirm_answer_precision"]) == (0.0, None)
    assert report["confirm_threshold"] == THRESHOLD
    assert report["handled_without_staff_rate"] == round(1 / 7, 4)  # the one right direct answer


def test_the_confirm_band_and_what_was_handled_without_staff():
    def banded(*ranked: tuple[Entry, float, float]) -> Answer:
        return Answer(results=[SearchHit(entry=e, confidence=c, dense=s, lexical=0.0, matched_phrasing=e.question,
                                         score=s) for e, c, s in ranked], threshold=0.8, confirm_threshold=0.6)

    scenario = [
        (q("A"), banded((A, 0.9, 0.8))),                               # direct, right
        (q("B"), banded((A, 0.85, 0.8))),                              # direct, wrong: never counts
        (q("A"), banded((A, 0.7, 0.6))),                               # confirm band, right
        (q("C"), banded((A, 0.65, 0.6))),                              # confirm band, wrong
        (q(), banded((B, 0.6, 0.6))),                                  # confirm band, unanswerable: wrong
        (q("B"), banded((A, 0.5, 0.5), (B, 0.45, 0.48))),              # clarify, right entry offered
        (q("C"), banded((A, 0.5, 0.5), (B, 0.45, 0.48))),              # clarify, no right entry offered
        (q("D"), banded((D, 0.1, 0.2))),                               # hand-off
    ]
    report = summarise([s[0] for s in scenario], [s[1] for s in scenario], [1.0] * 8, 0.8, confirm_threshold=0.6)
    assert (report["auto_answer_rate"], report["auto_answer_precision"]) == (0.25, 0.5)
    assert (report["confirm_answer_rate"], report["confirm_answer_precision"]) == (0.375, round(1 / 3, 4))
    assert (report["clarify_rate"], report["clarify_hit_rate"]) == (0.25, 0.5)
    assert report["handled_without_staff_rate"] == round(3 / 8, 4)
    assert report["handoff_recall"] == 1.0  # the confirm band's answer is not a direct one
    assert report["confirm_threshold"] == 0.6
    # a question is right when it counts toward handled_without_staff_rate, or is unanswerable and not answered
    assert [is_right(question, decision) for question, decision in scenario] == [
        True, False, True, False, False, True, False, False]


def test_an_unanswerable_question_is_right_when_it_is_not_answered():
    assert [is_right(question, decision) for question, decision in SCENARIO] == [
        True, False, False, False, False, True, True]


def test_department_accuracy(report):
    assert report["department_accuracy"] == 0.5  # Parks right, Roads wrong, Water right, Roads (none) wrong


def close(*ranked: tuple[Entry, float]) -> Answer:
    """Entries whose fused scores are close together and high enough to offer, none confident enough to answer."""
    return Answer(results=[SearchHit(entry=e, confidence=0.7, dense=s, lexical=0.0, matched_phrasing=e.question,
                                     score=s) for e, s in ranked], threshold=0.9)


def test_clarifications_are_counted_with_how_often_a_right_entry_is_offered(report):
    assert (report["clarify_rate"], report["clarify_hit_rate"]) == (0.0, None)
    questions = [q("B"), q("C"), q(), q("A")]
    answers = [close((A, 0.6), (B, 0.58)), close((A, 0.6), (B, 0.58), (C, 0.3)), close((C, 0.6), (D, 0.59)),
               close((A, 0.6), (B, 0.3))]
    result = summarise(questions, answers, [1.0] * 4, 0.9)
    # three questions get options; the right entry is offered for the first only (C scored too low to be offered)
    assert (result["clarify_rate"], result["clarify_hit_rate"]) == (0.75, round(1 / 3, 4))
    assert result["auto_answer_rate"] == 0.0


def test_latency_percentiles(report):
    assert (report["latency_ms_p50"], report["latency_ms_p95"]) == (4.0, 6.7)


def test_threshold_is_reported(report):
    assert report["threshold"] == THRESHOLD


def test_confidence_equal_to_the_threshold_is_an_automatic_answer():
    result = summarise([q("A")], [answer((A, THRESHOLD))], [1.0], THRESHOLD)
    assert (result["auto_answer_rate"], result["auto_answer_precision"]) == (1.0, 1.0)
    result = summarise([q("A")], [answer((A, THRESHOLD - 1e-9))], [1.0], THRESHOLD)
    assert (result["auto_answer_rate"], result["auto_answer_precision"]) == (0.0, None)


def test_auto_answer_to_an_unanswerable_question_is_never_correct():
    result = summarise([q(), q()], [answer((A, 0.9)), answer((B, 0.1))], [1.0, 1.0], THRESHOLD)
    assert (result["auto_answer_rate"], result["auto_answer_precision"], result["handoff_recall"]) == (0.5, 0.0,
                                                                                                         0.5)


def test_an_entry_below_rank_3_counts_for_mrr_but_not_recall():
    ranked = [(B, 0.5), (C, 0.4), (D, 0.3), (A, 0.2)]
    result = summarise([q("A")], [answer(*ranked)], [1.0], THRESHOLD)
    assert (result["top1"], result["recall_at_3"], result["mrr"]) == (0.0, 0.0, 0.25)


@pytest.mark.parametrize(("positives", "negatives", "expected"), [
    ([0.9, 0.8], [0.1, 0.2], 1.0),
    ([0.1], [0.9], 0.0),
    ([0.4], [0.4], 0.5),                    # a tie counts half
    ([0.5, 0.5], [0.5, 0.2], 0.75),         # two ties (0.5 each) and two wins, of 4 pairs
    ([0.3, 0.6, 0.6], [0.6, 0.1], 0.6667),  # 0.3: 1 win; 0.6: a tie and a win, twice -> 4 of 6
])
def test_auroc_counts_ties_as_half(positives, negatives, expected):
    questions = [q("A") for _ in positives] + [q() for _ in negatives]
    answers = [answer((B, c)) for c in positives + negatives]
    result = summarise(questions, answers, [1.0] * len(questions), THRESHOLD)
    assert result["auroc"] == expected


def test_auroc_uses_zero_for_an_answer_without_results():
    result = summarise([q("A"), q()], [answer(), answer((B, 0.0))], [1.0, 1.0], THRESHOLD)
    assert result["auroc"] == 0.5


def test_only_answerable_questions():
    result = summarise([q("A"), q("B")], [answer((A, 0.9)), answer((A, 0.8), (B, 0.7))], [1.0, 3.0], THRESHOLD)
    assert result["auroc"] is None
    assert result["handoff_recall"] is None
    assert (result["n"], result["n_answerable"], result["n_unanswerable"]) == (2, 2, 0)
    assert (result["top1"], result["recall_at_3"], result["mrr"]) == (0.5, 1.0, 0.75)
    assert (result["auto_answer_rate"], result["auto_answer_precision"]) == (1.0, 0.5)


def test_only_unanswerable_questions():
    result = summarise([q(), q()], [answer((A, 0.2)), answer((B, 0.3))], [1.0, 1.0], THRESHOLD)
    assert (result["auroc"], result["top1"], result["recall_at_3"], result["mrr"]) == (None, None, None, None)
    assert (result["handoff_recall"], result["auto_answer_rate"], result["auto_answer_precision"]) == (1.0, 0.0,
                                                                                                         None)


def test_department_accuracy_is_none_without_expected_departments():
    result = summarise([q("A")], [answer((A, 0.9))], [1.0], THRESHOLD)
    assert result["department_accuracy"] is None


def test_department_accuracy_follows_the_hand_offs_vote_even_below_the_threshold():
    # a hand-off goes to the department the best-matching entries vote for (handoff.routing)
    result = summarise([q(department="Roads")], [answer((B, 0.5), (A, 0.4))], [1.0], THRESHOLD)
    assert result["department_accuracy"] == 1.0


def test_matches_too_weak_to_vote_reach_no_department():
    # below the routing minimum the case would go to the fallback inbox, not to the entry's department
    result = summarise([q(department="Roads")], [answer((B, 0.1), (A, 0.05))], [1.0], THRESHOLD)
    assert result["department_accuracy"] == 0.0


def test_no_questions():
    result = summarise([], [], [], 0.7)
    assert result == {"n": 0, "n_answerable": 0, "n_unanswerable": 0, "top1": None, "recall_at_3": None,
                      "mrr": None, "auto_answer_rate": None, "auto_answer_precision": None, "handoff_recall": None,
                      "auroc": None, "department_accuracy": None, "latency_ms_p50": None, "latency_ms_p95": None,
                      "threshold": 0.7, "clarify_rate": None, "clarify_hit_rate": None, "confirm_answer_rate": None,
                      "confirm_answer_precision": None, "handled_without_staff_rate": None, "confirm_threshold": 0.7}


def test_questions_and_answers_must_pair_up():
    with pytest.raises(ValueError):
        summarise([q("A"), q("B")], [answer((A, 0.9))], [1.0], THRESHOLD)


# ---------------------------------------------------------------- read_questions


def test_read_questions(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text('\ufeff{"text": "where do i pay a parking ticket?", "expected_ids": ["t-ticket"],'
                    ' "expected_department": "Parking Services", "source": "ignored"}\n'
                    "\n"
                    '{"text": "what\'s the score of the game tonight", "expected_ids": []}\n'
                    '   \n'
                    '{"text": "no list at all"}\n', encoding="utf-8")
    assert read_questions(path) == [
        Question(text="where do i pay a parking ticket?", expected_ids=("t-ticket",),
                 expected_department="Parking Services"),
        Question(text="what's the score of the game tonight", expected_ids=()),
        Question(text="no list at all", expected_ids=()),
    ]
    assert [x.answerable for x in read_questions(path)] == [True, False, False]


@pytest.mark.parametrize(("bad_line", "line"), [
    ('{"text": "broken', 3),
    ('{"expected_ids": ["a"]}', 3),
    ('["text", "a list"]', 3),
    ('"just a string"', 3),
    ("null", 3),
])
def test_read_questions_errors_name_the_line(tmp_path, bad_line, line):
    path = tmp_path / "questions.jsonl"
    path.write_text('{"text": "one"}\n\n' + bad_line + '\n{"text": "four"}\n', encoding="utf-8")
    with pytest.raises(QuestionFileError) as info:
        read_questions(path)
    assert str(info.value).startswith(f"{path}, line {line}: not a question")
    assert (info.value.line, info.value.reason.split(" (")[0]) == (line, "not a question")


def test_read_questions_rejects_expected_ids_that_are_not_a_list(tmp_path):
    # a single id given as a string must not become one expected id per character
    path = write_jsonl(tmp_path / "questions.jsonl", [{"text": "one", "expected_ids": ["a"]},
                                                      {"text": "two", "expected_ids": "boulder-0412"}])
    with pytest.raises(ValueError) as info:
        read_questions(path)
    assert str(info.value).startswith(f"{path}, line 2: ")


def test_read_questions_broken_utf8_names_the_line(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_bytes(b'{"text": "one"}\n{"text": "two"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(ValueError) as info:
        read_questions(path)
    assert str(info.value).startswith(f"{path}, line 3: ")


# ---------------------------------------------------------------- evaluate_files and evaluate


def kb_rows() -> list[dict]:
    return [e.model_dump(mode="json") for e in SMALL_ENTRIES]


EVAL_QUESTIONS = [
    {"text": "where do I pay my parking fine", "expected_ids": ["t-ticket"],
     "expected_department": "Parking Services"},
    {"text": "I want to throw away an old sofa", "expected_ids": ["t-bulk"]},
    {"text": "who won the football game last night", "expected_ids": []},
    {"text": "what's the weather tomorrow", "expected_ids": [], "note": "extra fields are ignored"},
]


def test_evaluate_files_returns_the_contract(tmp_path):
    kb_path = write_jsonl(tmp_path / "kb.jsonl", kb_rows())
    questions_path = write_jsonl(tmp_path / "questions.jsonl", EVAL_QUESTIONS)
    progress = []
    report = evaluate_files(kb_path=kb_path, questions_path=questions_path, model_name=DEFAULT_MODEL,
                            threshold=0.35, on_progress=lambda: progress.append(1))
    assert set(report) == CONTRACT_KEYS
    assert json.loads(json.dumps(report)) == report
    assert len(progress) == 4
    assert {k: report[k] for k in CONTRACT_KEYS - {"latency_ms_p50", "latency_ms_p95"}} == {
        "n": 4, "n_answerable": 2, "n_unanswerable": 2, "top1": 1.0, "recall_at_3": 1.0, "mrr": 1.0,
        "auto_answer_rate": 0.5, "auto_answer_precision": 1.0, "handoff_recall": 1.0, "auroc": 1.0,
        "department_accuracy": 1.0, "threshold": 0.35, "clarify_rate": 0.0, "clarify_hit_rate": None,
        "confirm_answer_rate": 0.0, "confirm_answer_precision": None, "handled_without_staff_rate": 0.5,
        "confirm_threshold": 0.35}
    assert 0.0 < report["latency_ms_p50"] <= report["latency_ms_p95"]


def test_evaluate_files_reads_a_csv_knowledge_base(tmp_path):
    kb_path = tmp_path / "kb.csv"
    kb_path.write_text("id,question,alt_questions,answer,department\n"
                       "t-ticket,How do I pay a parking ticket?,pay parking fine online|where can I pay my parking"
                       " citation,Online.,Parking Services\n", encoding="utf-8")
    questions_path = write_jsonl(tmp_path / "questions.jsonl", EVAL_QUESTIONS[:1])
    report = evaluate_files(kb_path=kb_path, questions_path=questions_path, model_name=DEFAULT_MODEL,
                            threshold=0.6)
    assert (report["n"], report["top1"], report["auroc"]) == (1, 1.0, None)


def test_evaluate_files_with_a_bad_knowledge_base_names_the_line(tmp_path):
    kb_path = write_jsonl(tmp_path / "kb.jsonl", [*kb_rows(), {"id": "x", "question": "q?"}])
    questions_path = write_jsonl(tmp_path / "questions.jsonl", EVAL_QUESTIONS)
    with pytest.raises(EntryFileError) as info:
        evaluate_files(kb_path=kb_path, questions_path=questions_path, model_name=DEFAULT_MODEL, threshold=0.6)
    assert (info.value.line, info.value.reason) == (6, "missing answer")


def test_evaluate_uses_the_knowledge_bases_own_threshold(shared_small_kb):
    questions = [Question(text=r["text"], expected_ids=tuple(r["expected_ids"])) for r in EVAL_QUESTIONS[:3]]
    report = evaluate(shared_small_kb, questions)
    assert report["threshold"] == shared_small_kb.threshold == 0.6
    # the sofa question's confidence is below 0.6: only the parking fine is answered
    assert (report["n"], report["top1"], report["auto_answer_rate"], report["handoff_recall"]) == (3, 1.0,
                                                                                                  round(1 / 3, 4),
                                                                                                  1.0)


# ---------------------------------------------------------------- kinds, details and calibration


def test_handoff_recall_is_reported_per_kind_when_questions_have_one():
    questions = [Question("x", ("A",)), Question("y", (), kind="in-domain"), Question("z", (), kind="in-domain"),
                 Question("w", (), kind="out-of-domain")]
    answers = [answer((A, 0.9)), answer((B, 0.9)), answer((B, 0.1)), answer((C, 0.2))]
    result = summarise(questions, answers, [1.0] * 4, THRESHOLD)
    assert set(result) >= CONTRACT_KEYS
    assert result["handoff_recall_by_kind"] == {"in-domain": 0.5, "out-of-domain": 1.0}
    assert result["handoff_recall"] == round(2 / 3, 4)


def test_read_questions_keeps_the_kind(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"text": "a", "expected_ids": [], "kind": "out-of-domain"},
                                              {"text": "b", "expected_ids": ["x"]}])
    assert [q.kind for q in read_questions(path)] == ["out-of-domain", None]


def test_evaluate_writes_one_record_per_question(shared_small_kb):
    questions = [Question(text=r["text"], expected_ids=tuple(r["expected_ids"])) for r in EVAL_QUESTIONS[:3]]
    records: list[dict] = []
    evaluate(shared_small_kb, questions, details=records)
    assert [r["text"] for r in records] == [q.text for q in questions]
    first, _, off_topic = records
    assert (first["top_id"], first["top_correct"], first["rank"], first["answered"]) == ("t-ticket", True, 1, True)
    assert (first["expected_ids"], first["right"]) == (["t-ticket"], True)
    assert first["confidence"] >= shared_small_kb.threshold
    assert (off_topic["answerable"], off_topic["answered"], off_topic["rank"], off_topic["options"]) == (
        False, False, None, [])
    assert (off_topic["expected_ids"], off_topic["right"]) == ([], True)


def test_evaluate_files_uses_the_threshold_calibrated_on_the_knowledge_base(tmp_path):
    kb_path = write_jsonl(tmp_path / "kb.jsonl", kb_rows())
    questions_path = write_jsonl(tmp_path / "questions.jsonl", EVAL_QUESTIONS)
    report = evaluate_files(kb_path=kb_path, questions_path=questions_path, model_name=DEFAULT_MODEL,
                            threshold=None)
    assert set(report) >= CONTRACT_KEYS
    assert report["threshold"] == report["calibration"]["threshold"]
    assert report["calibration"]["target_precision"] == 0.97
    assert report["handoff_recall"] == 1.0
