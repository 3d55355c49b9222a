"""Which recorded decisions count as questions the knowledge base could not answer."""

from __future__ import annotations

from datetime import timedelta

from handoff.directory import SLA, default_directory
from handoff.routing import route_case
from handoff.service import CaseDesk
from handoff.unanswered import unanswered_questions

DIRECTORY = default_directory()


def decide(desk: CaseDesk, text: str, *, intent: str | None, route: str, category: str | None = None,
           with_case: bool = False) -> None:
    """Record a decision as the intake does, with the case it opened (categorised or not)."""
    case = None
    if with_case or category:
        found = DIRECTORY.category(category) if category else None
        case = desk.open_case(description=text, channel="web", conversation_id=f"web-{text[:8]}", sla=SLA.REVIEW,
                              assignment=route_case(directory=DIRECTORY, category=found), category=found)
    desk.record_decision(channel="web", conversation_id=f"web-{text[:8]}", text=text, intent=intent, route=route,
                         reason="test", entry_id=None, confidence=0.2, case=case)


def test_only_questions_the_knowledge_base_could_not_answer_count_newest_first(desk, sessions, clock):
    decide(desk, "When does the pool open?", intent="ask_question", route="case", with_case=True)
    clock.advance(minutes=1)
    decide(desk, "zzz qqq", intent="nlu_fallback", route="out_of_scope")
    clock.advance(minutes=1)
    decide(desk, "free wifi at city hall?", intent=None, route="case", with_case=True)
    clock.advance(minutes=1)
    # not counted: answered, a categorised problem, a report by intent, Rasa's own out of scope, small talk
    decide(desk, "when is bulk trash pickup", intent="ask_question", route="answer")
    decide(desk, "how do I report the pothole on Elm?", intent="ask_question", route="case", category="pothole")
    decide(desk, "the bins were not emptied", intent="report_problem", route="case", with_case=True)
    decide(desk, "who won the football game", intent="out_of_scope", route="out_of_scope")
    decide(desk, "hello", intent="greet", route="smalltalk")
    decide(desk, "my house is flooding", intent="emergency", route="emergency", with_case=True)
    found = unanswered_questions(sessions)
    assert [(q.text, q.route) for q in found] == [("free wifi at city hall?", "case"), ("zzz qqq", "out_of_scope"),
                                                   ("When does the pool open?", "case")]
    assert found[0].at == clock.now - timedelta(minutes=1)


def test_since_and_limit_keep_the_newest(desk, sessions, clock):
    for n in range(4):
        decide(desk, f"question number {n}?", intent="ask_question", route="out_of_scope")
        clock.advance(hours=1)
    assert [q.text for q in unanswered_questions(sessions, limit=2)] == ["question number 3?", "question number 2?"]
    since = clock.now - timedelta(hours=2, minutes=30)
    assert [q.text for q in unanswered_questions(sessions, since=since)] == ["question number 3?",
                                                                             "question number 2?"]
