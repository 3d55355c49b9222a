"""The X connector end to end: the local X API, the real tweepy client, the pipeline, the real assistant stack.

The connector runs in process (poll once, deliver the outbox) against the stack's database, so each test
decides when X is polled; a fresh citizen per test keeps their conversations apart.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

import database
from connectors.models import ButtonChoice, InboundRecord
from connectors.x.app import XConnector, build_connector
from connectors.x.sender import DM_NOTE, DUPLICATE_MARK, STAFF_NOTE, thread_parts
from connectors.x.text import TWEET_LIMIT, weighted_length
from desk.stack import child_environment
from handoff.directory import load_directory
from handoff.models import Case
from handoff.service import Actor, CaseDesk
from outbox.models import OutboxMessage
from settings import DEMO_KB_FILE, PROJECT_ROOT, Settings
from tests.fakes.x_api import FakeXApi
from tests.transcripts.conftest import writer_for

pytestmark = pytest.mark.e2e

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
LIBRARY = next(e for e in DEMO.values() if "library card" in e["question"].lower())
BULK = DEMO["demo-0002"]
_citizens = itertools.count(5001)


@pytest.fixture(scope="module")
def fake_x():
    with FakeXApi() as fake:
        yield fake


@pytest.fixture(scope="module")
def x_settings(stack, fake_x) -> Settings:
    return stack.settings.model_copy(update={
        "x_api_key": SecretStr("key"), "x_api_secret": SecretStr("secret"), "x_access_token": SecretStr("token"),
        "x_access_token_secret": SecretStr("token-secret"), "x_base_url": fake_x.base_url, "x_account_id": None})


def citizen(fake: FakeXApi) -> str:
    user_id = str(next(_citizens))
    return fake.add_user(user_id, f"citizen{user_id}")


def with_connector(settings: Settings, steps: Callable[[XConnector], Awaitable[Any]]) -> Any:
    """Build a fresh connector (as a restarted process would), run `steps` with it, close it."""
    async def main() -> Any:
        connector = await build_connector(settings)
        try:
            return await steps(connector)
        finally:
            await connector.pipeline.aclose()

    return asyncio.run(main())


async def poll_and_deliver(connector: XConnector) -> int:
    """One poll of X, then deliver everything that is due; how many messages went to the pipeline."""
    handled = await connector.poller.poll_once()
    while await connector.sender.run_once():
        pass
    return handled


def texts(tweets: list[dict]) -> list[str]:
    return [t["text"] for t in tweets]


def thread_texts(fake: FakeXApi, tweet: str) -> list[str]:
    """The city's thread under `tweet` as the citizen reads it, less the mark X's duplicate rule may have forced."""
    return [text.removesuffix(DUPLICATE_MARK.format(ref=tweet[-6:])) for text in texts(fake.thread_from(tweet))]


def test_a_mention_with_a_question_is_answered_in_its_thread(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "hi, how can i get a library card?")
    with_connector(x_settings, poll_and_deliver)
    assert len(fake_x.replies_to(tweet)) == 1, "one reply under the citizen's post, the rest chained to it"
    thread = thread_texts(fake_x, tweet)
    answer = thread_parts(LIBRARY["answer"])
    assert thread[:len(answer)] == answer
    assert thread[len(answer)].startswith(f"More: {LIBRARY['url']}")
    assert fake_x.dms_to(user) == []


def test_a_numbered_reply_in_the_thread_presses_the_offered_button(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "hi, how can i get a library card?")
    with_connector(x_settings, poll_and_deliver)
    offering = [t for t in fake_x.thread_from(tweet) if "Reply 1" in t["text"]]
    if not offering:
        pytest.skip("the assistant offered no buttons for this answer (feedback buttons not in this bot model)")
    sessions = database.session_factory(database.create_db_engine(x_settings.resolved_database_url))
    with sessions() as session:
        offered = session.scalars(select(ButtonChoice).where(ButtonChoice.conversation_id == f"x-{user}")
                                  .order_by(ButtonChoice.id.desc())).first()
    choice = fake_x.mention(user, str(offered.number), in_reply_to=offering[-1]["id"])
    with_connector(x_settings, poll_and_deliver)
    with sessions() as session:
        pressed = session.scalar(select(InboundRecord).where(InboundRecord.platform_message_id == choice))
    assert (pressed.text, pressed.is_button) == (offered.payload, True)


def test_a_long_answer_is_a_thread_of_parts_each_replying_to_the_previous(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "How do I schedule a bulk item pickup for furniture or appliances?")
    with_connector(x_settings, poll_and_deliver)
    thread = fake_x.thread_from(tweet)
    parts = thread_parts(BULK["answer"])
    assert len(parts) >= 2
    assert thread_texts(fake_x, tweet)[:len(parts)] == parts
    assert all(weighted_length(t["text"]) <= TWEET_LIMIT for t in thread)
    parents = [tweet] + [t["id"] for t in thread[:-1]]
    assert [t["referenced_tweets"][0]["id"] for t in thread] == parents
    assert len(fake_x.posted_tweets) == len({t["id"] for t in fake_x.posted_tweets})


def test_an_answer_x_already_saw_gets_a_reference_so_it_is_not_refused_as_a_duplicate(fake_x, x_settings):
    first, second = citizen(fake_x), citizen(fake_x)
    asked = [fake_x.mention(user, "What day is my garbage collected?") for user in (first, second)]
    with_connector(x_settings, poll_and_deliver)
    threads = [texts(fake_x.thread_from(tweet)) for tweet in asked]
    parts = thread_parts(DEMO["demo-0001"]["answer"])
    # the two conversations are delivered concurrently: whichever comes second carries its post's reference
    firsts = sorted([threads[0][0], threads[1][0]], key=len)
    assert firsts[0] == parts[0]
    assert firsts[1] in {parts[0] + DUPLICATE_MARK.format(ref=tweet[-6:]) for tweet in asked}
    assert all(len(thread) >= len(parts) for thread in threads)


def test_a_direct_message_is_answered_by_direct_message(fake_x, x_settings):
    user = citizen(fake_x)
    fake_x.send_dm(user, "How do I get a library card?")
    with_connector(x_settings, poll_and_deliver)
    dms = fake_x.dms_to(user)
    assert dms[0] == LIBRARY["answer"] and dms[1].startswith(f"More: {LIBRARY['url']}")
    assert not any(t["text"] == LIBRARY["answer"] for t in fake_x.posted_tweets if t.get("in_reply_to_user_id") == user)


def test_duplicates_retweets_and_quotes_without_a_question_are_ignored(fake_x, x_settings):
    user, other = citizen(fake_x), citizen(fake_x)
    first = fake_x.mention(user, "how can i get a library card?")
    again = fake_x.mention(user, "How can I get a  library card?")  # same text, same person, within the window
    retweet = fake_x.post(other, "", retweet_of=first)
    quote = fake_x.mention(other, "this 👇 https://x.com/a/status/1", quote_of=first)
    handled = with_connector(x_settings, poll_and_deliver)
    assert handled == 2  # the two mentions went to the pipeline; the retweet and the quote did not
    assert fake_x.replies_to(first) and not fake_x.replies_to(again)
    assert not fake_x.replies_to(retweet) and not fake_x.replies_to(quote)
    before = len(fake_x.posted_tweets)

    async def refetch_after_a_lost_since_id(connector: XConnector) -> int:
        connector.state.set("mentions_since_id", str(int(first) - 1))  # as if a crash lost the last advance
        return await poll_and_deliver(connector)

    assert with_connector(x_settings, refetch_after_a_lost_since_id) >= 1
    assert len(fake_x.posted_tweets) == before, "the same tweet id is never answered twice"


def test_a_rate_limit_is_waited_out_without_a_crash_or_a_double_post(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "hi, how can i get a library card?")
    fake_x.rate_limit("GET", f"/2/users/{fake_x.account_id}/mentions", times=1, reset_after_s=1)
    fake_x.rate_limit("POST", "/2/tweets", times=1, reset_after_s=1)

    async def poll_then_retry(connector: XConnector) -> None:
        await poll_and_deliver(connector)  # the mentions call waits; the first post is told to wait
        deadline = time.monotonic() + 10
        while not fake_x.thread_from(tweet) or len(fake_x.thread_from(tweet)) < 2:
            assert time.monotonic() < deadline, "the reply was never posted after the rate limit reset"
            await asyncio.sleep(0.5)
            while await connector.sender.run_once():
                pass

    with_connector(x_settings, poll_then_retry)
    thread = thread_texts(fake_x, tweet)
    parts = thread_parts(LIBRARY["answer"])
    assert thread[:len(parts)] == parts and thread.count(parts[0]) == 1
    assert len(fake_x.replies_to(tweet)) == 1


def test_since_id_survives_a_restart_so_no_mention_is_handled_twice(fake_x, x_settings):
    user = citizen(fake_x)
    first = fake_x.mention(user, "hi, how can i get a library card?")
    assert with_connector(x_settings, poll_and_deliver) == 1
    assert with_connector(x_settings, poll_and_deliver) == 0  # a new connector on the same database
    second = fake_x.mention(user, "How do I schedule a bulk item pickup for furniture or appliances?")
    assert with_connector(x_settings, poll_and_deliver) == 1
    assert len(fake_x.replies_to(first)) == 1 and len(fake_x.replies_to(second)) == 1


def test_a_mention_with_a_phone_number_is_answered_by_dm_with_a_public_note(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "how can i get a library card? call me on 555-123-4567")
    with_connector(x_settings, poll_and_deliver)
    assert texts(fake_x.replies_to(tweet)) == [DM_NOTE.format(ref=tweet[-6:])]
    assert fake_x.thread_from(tweet)[1:] == []
    assert LIBRARY["answer"] in fake_x.dms_to(user)


def test_a_case_from_a_mention_and_its_staff_answer_reach_the_citizen_by_dm_once(fake_x, x_settings):
    user = citizen(fake_x)
    tweet = fake_x.mention(user, "There's a huge pothole on Main St near 5th, nearly wrecked my bike")
    with_connector(x_settings, poll_and_deliver)
    [opened] = fake_x.dms_to(user)
    assert opened.startswith("I've passed this to Public Works as case CD-"), opened
    assert opened.endswith("through the same service you used to reach us."), opened  # a DM is no "chat here"
    assert texts(fake_x.replies_to(tweet)) == [DM_NOTE.format(ref=tweet[-6:])]  # the case number stays private

    sessions = database.session_factory(database.create_db_engine(x_settings.resolved_database_url))
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.conversation_id == f"x-{user}"))
    desk = CaseDesk(sessions, load_directory(x_settings.directory_file), x_settings.city_timezone,
                    transcript=writer_for(sessions))
    desk.reply(service_request_id=case.service_request_id, actor=Actor("pw.staff", "staff", "public-works"),
               text="A crew will fill it tomorrow morning.")
    with_connector(x_settings, poll_and_deliver)
    with_connector(x_settings, poll_and_deliver)  # delivering again never sends it twice
    staff_answer = f"{case.service_request_id}: A crew will fill it tomorrow morning."
    assert fake_x.dms_to(user) == [opened, staff_answer]
    notes = texts(fake_x.replies_to(tweet))
    assert notes[0] == DM_NOTE.format(ref=tweet[-6:]) and len(notes) == 2 and notes[1].startswith(
        STAFF_NOTE.split("{")[0])
    assert not any("crew" in t["text"] for t in fake_x.posted_tweets)


def start_connector_process(settings: Settings, log_path) -> subprocess.Popen:
    """`python -m desk.cli connector x` (what `citydesk serve` runs), polling twice a second."""
    env = {**child_environment(settings), "CITYDESK_X_POLL_INTERVAL_S": "0.5"}
    return subprocess.Popen([sys.executable, "-m", "desk.cli", "connector", "x"], cwd=PROJECT_ROOT, env=env,
                            stdout=log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(condition: Callable[[], object], what: str, log_path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}; log:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.3)


def test_a_killed_connector_process_restarts_without_losing_or_repeating_an_answer(fake_x, x_settings,
                                                                                   tmp_path):
    user = citizen(fake_x)
    conversation = f"x-{user}"
    tweet = fake_x.mention(user, "hi, how can i get a library card?")
    fake_x.rate_limit("POST", "/2/tweets", times=10_000, reset_after_s=1)  # X takes no posts: the answer waits
    sessions = database.session_factory(database.create_db_engine(x_settings.resolved_database_url))

    def queued() -> list[OutboxMessage]:
        with sessions() as session:
            return session.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation)).all()

    log_path = tmp_path / "connector-x.log"
    process = start_connector_process(x_settings, log_path)
    try:
        wait_for(lambda: any(row.last_error for row in queued()), "the answer is queued and waiting",
                 log_path)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # a crash between receiving and replying
        process.wait()
    assert fake_x.thread_from(tweet) == []
    fake_x.clear_rate_limits()
    process = start_connector_process(x_settings, log_path)
    try:
        later = fake_x.mention(user, "How do I schedule a bulk item pickup for furniture or appliances?")
        wait_for(lambda: queued() and all(row.delivered_at for row in queued())
                 and len(queued()) > len({row.inbound_id for row in queued()}) >= 2, "both answers are delivered",
                 log_path)
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert len(fake_x.replies_to(tweet)) == 1 and len(fake_x.replies_to(later)) == 1
    parts = thread_parts(LIBRARY["answer"])
    assert thread_texts(fake_x, tweet)[:len(parts)] == parts
    assert thread_texts(fake_x, tweet).count(parts[0]) == 1
    with sessions() as session:
        received = session.scalars(select(InboundRecord.platform_message_id).where(
            InboundRecord.conversation_id == conversation)).all()
    assert sorted(received) == sorted([tweet, later])  # since_id kept: the first mention was not taken again
