"""The conversation tests of tests/e2e against a stack whose Rasa keeps its conversation locks in a real Redis
(REDIS_URL → endpoints.yml's lock_store), and the evidence that it did: Redis ran Rasa's lock commands."""

from __future__ import annotations

import uuid

import pytest

from desk.bot_model import ensure_trained
from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.e2e.test_assistant import (  # noqa: F401  (collected here, run against this module's stack)
    ask,
    test_a_demo_question_gets_the_right_entrys_answer,
    test_a_greeting_is_answered,
    test_a_pothole_report_is_handed_off_answered_by_staff_and_followed_up,
    test_an_emergency_gets_the_emergency_number,
    test_an_off_topic_question_is_not_answered_from_the_knowledge_base,
    test_every_message_is_kept_in_the_conversation_store,
    test_nothing_listens_beyond_the_loopback_interface,
    test_the_web_chat_goes_through_the_desk_to_the_assistant,
)
from tests.e2e.test_clarification import (  # noqa: F401
    test_an_ambiguous_question_gets_buttons_and_pressing_one_answers_with_that_entry,
    test_none_of_these_hands_the_original_question_to_a_person,
)
from tests.scale.conftest import command_calls
from tests.support import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    """The e2e stack (SQLite, demo knowledge base, free ports) with REDIS_URL set."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("stack-redis"), seed_kb_file=DEMO_KB_FILE,
                        internal_token=None, desk_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                        redis_url=redis_url)
    ensure_trained(settings)
    with Stack(settings, connectors=()) as running:
        yield running


def test_rasa_takes_each_conversations_lock_in_redis(stack, redis_url):
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    before = command_calls(port, "set"), command_calls(port, "del")
    ask(stack, "hello there", sender=f"e2e-{uuid.uuid4().hex[:8]}")
    after = command_calls(port, "set"), command_calls(port, "del")
    # RedisLockStore: the lock is written (SET) when a message comes in, and deleted (DEL) once it is handled
    assert after[0] > before[0] and after[1] > before[1], (before, after)
