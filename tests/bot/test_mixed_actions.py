"""Mixed messages through the actions and the real desk: what the citizen reads, and which cases exist after.

A report signed "Thanks, <name>" that the classifier took for thanks is a report; a complaint with a phone number
taken for a status check is a complaint; "is it fixed yet?" after a report gets that case's status, never a case.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from bot.actions import messages
from bot.actions.case_status import ActionCaseStatus
from bot.actions.choose_entry import ActionChooseEntry
from bot.actions.handle_message import ActionHandleMessage
from bot.actions.none_of_these import ActionNoneOfThese
from bot.actions.settings import get_settings
from bot.actions.smalltalk import ActionSmalltalk
from tests.bot.conftest import load_tracker
from tests.bot.test_actions import run, texts
from tests.support import free_port

CASE_NUMBER = re.compile(r"CD-\d{4}-\d{6}")


def intent(name: str) -> dict:
    return {"name": name, "confidence": 0.9}


def cases_of(database, conversation: str) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute(
            "SELECT service_request_id FROM cases WHERE conversation_id = ? ORDER BY id", (conversation,))]


def say(action, dispatcher, sender: str, text: str, name: str) -> list:
    return run(action, dispatcher, load_tracker("report_problem", sender=sender, text=text, intent=intent(name)))


def test_action_name_matches_the_domain():
    assert ActionSmalltalk().name() == "action_smalltalk"


@pytest.mark.parametrize(("text", "name", "department"), [
    ("The street light in front of 12 Birch Ave is out. Thanks, Dana Whitfield", "thank", "Public Works"),
    ("hi, the traffic light at 5th and market is stuck on red. thank you, Wei Zhang", "greet", "Public Works"),
    ("overflowing trash can at the bus stop on main st. thanks, bye - Siobhan", "goodbye", "Waste & Recycling"),
])
def test_a_report_signed_with_thanks_and_a_name_is_passed_on_not_thanked(action_env, dispatcher, desk_database,
                                                                         text, name, department):
    sender = f"web-signed-{name}"
    say(ActionSmalltalk(), dispatcher, sender, text, name)
    [reply] = texts(dispatcher)
    number = CASE_NUMBER.search(reply).group(0)
    assert reply.startswith(f"I've passed this to {department} as case {number}.")
    assert cases_of(desk_database, sender) == [number]


@pytest.mark.parametrize(("text", "name"), [
    ("thanks so much, that sorted it!", "thank"), ("hey good morning!", "greet"), ("Thanks, Dana Whitfield", "thank"),
    ("bye, have a nice weekend", "goodbye")])
def test_courtesy_alone_gets_the_courtesy_reply_and_no_case(action_env, dispatcher, desk_database, text, name):
    events = say(ActionSmalltalk(), dispatcher, "web-courtesy", text, name)
    [reply] = texts(dispatcher)
    assert reply in messages.SMALLTALK[name]
    assert events == []
    assert cases_of(desk_database, "web-courtesy") == []


def test_courtesy_when_the_desk_is_down_does_not_pretend_the_message_arrived(action_env, dispatcher, monkeypatch):
    monkeypatch.setenv("CITYDESK_DESK_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    say(ActionSmalltalk(), dispatcher, "web-down", "The swing in Maple Park is broken. Thanks, Dana", "thank")
    assert texts(dispatcher) == [messages.DESK_UNAVAILABLE.format(city_service_phone="(555) 010-0311")]


@pytest.mark.parametrize("text", ["loud music next door every night, call me at 303-555-0199",
                                  "Loud party with subwoofers at 41 Oak St again tonight. 303.555.0199"])
def test_a_noise_complaint_with_a_phone_number_taken_for_a_status_check_opens_a_case(action_env, dispatcher,
                                                                                   desk_database, text):
    sender = f"web-noise-{len(text)}"
    say(ActionCaseStatus(), dispatcher, sender, text, "check_case_status")
    [reply] = texts(dispatcher)
    number = CASE_NUMBER.search(reply).group(0)
    assert reply.startswith(f"I've passed this to Code Enforcement as case {number}.")
    assert cases_of(desk_database, sender) == [number]


def test_a_report_taken_for_a_choice_with_nothing_offered_goes_to_the_desk(action_env, dispatcher, desk_database):
    sender = "web-typed-choice"
    say(ActionChooseEntry(), dispatcher, sender, "loud music next door every night, my number is 303 555 0199",
        "choose_entry")
    [reply] = texts(dispatcher)
    assert reply.startswith("I've passed this to Code Enforcement as case ")
    assert len(cases_of(desk_database, sender)) == 1


def test_a_report_taken_for_none_of_these_with_nothing_offered_goes_to_the_desk(action_env, dispatcher,
                                                                                desk_database):
    sender = "web-typed-none"
    say(ActionNoneOfThese(), dispatcher, sender, "none of the bins on oak st were collected this week",
        "none_of_these")
    [reply] = texts(dispatcher)
    assert reply.startswith("I've passed this to Waste & Recycling as case ")
    assert len(cases_of(desk_database, sender)) == 1


@pytest.mark.parametrize(("action", "text", "name"), [
    (ActionChooseEntry(), "the second one", "choose_entry"), (ActionNoneOfThese(), "none of these", "none_of_these"),
    (ActionNoneOfThese(), "/none_of_these", "none_of_these")])
def test_a_choice_with_nothing_offered_still_says_so(action_env, dispatcher, desk_database, action, text, name):
    say(action, dispatcher, "web-lost-choice", text, name)
    assert texts(dispatcher) == [messages.NO_PENDING_CHOICE]
    assert cases_of(desk_database, "web-lost-choice") == []


@pytest.mark.parametrize(("action", "text", "name"), [
    (ActionCaseStatus(), "is it fixed yet?", "check_case_status"),
    (ActionHandleMessage(), "is the branch cleared yet?", "report_problem"),
    (ActionHandleMessage(), "what's happening with my report?", "ask_question"),
    (ActionSmalltalk(), "thanks! any update?", "thank"),
])
def test_a_follow_up_after_a_report_gets_that_cases_status_and_opens_no_case(action_env, dispatcher, desk_database,
                                                                             action, text, name):
    sender = f"web-follow-up-{name}"
    say(ActionHandleMessage(), dispatcher, sender, "a big branch fell on the path in cedar hill park",
        "report_problem")
    number = CASE_NUMBER.search(texts(dispatcher)[0]).group(0)
    dispatcher.messages.clear()
    say(action, dispatcher, sender, text, name)
    [reply] = texts(dispatcher)
    assert reply.startswith(f"Case {number} is with Parks & Recreation: received, waiting for an officer; "
                            "expect an answer by ")
    assert cases_of(desk_database, sender) == [number]


def test_a_follow_up_without_a_case_is_told_there_is_none(action_env, dispatcher, desk_database):
    say(ActionCaseStatus(), dispatcher, "web-nothing-yet", "is it fixed yet?", "check_case_status")
    assert texts(dispatcher) == [messages.NO_CASES]
    assert cases_of(desk_database, "web-nothing-yet") == []
