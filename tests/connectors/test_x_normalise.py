"""X posts as the desk sees them: fetched by the real tweepy client from the local X API, then normalised."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr

from connectors.registry import plan_connectors
from connectors.x.client import build_client, missing_credentials
from connectors.x.normalise import DM_EVENT_FIELDS, TWEET_FIELDS, dm_to_message, mention_to_message
from connectors.x.poller import call_x
from settings import Settings
from tests.fakes.x_api import FakeXApi

CITIZEN = "4242"


@pytest.fixture
def x():
    with FakeXApi() as fake:
        fake.add_user(CITIZEN, "alice")
        fake.add_user("777", "bob")
        settings = Settings(x_api_key=SecretStr("key"), x_api_secret=SecretStr("secret"),
                            x_access_token=SecretStr("token"), x_access_token_secret=SecretStr("token-secret"),
                            x_base_url=fake.base_url)
        yield fake, build_client(settings)


def mentions(fake: FakeXApi, client) -> dict[str, object]:
    response = client.get_users_mentions(fake.account_id, user_auth=True, tweet_fields=TWEET_FIELDS,
                                         expansions=["author_id", "referenced_tweets.id"])
    return {str(t.id): mention_to_message(t, account_id=fake.account_id) for t in response.data or []}


def test_a_mention_becomes_a_public_message_in_the_citizens_conversation(x):
    fake, client = x
    tweet = fake.mention(CITIZEN, "when is bulk pickup?")
    message = mentions(fake, client)[tweet]
    assert (message.channel, message.conversation_id, message.sender_id) == ("x", f"x-{CITIZEN}", CITIZEN)
    assert (message.text, message.reply_to, message.public, message.platform_message_id) == (
        "when is bulk pickup?", tweet, True, tweet)
    request = fake.requests[-1]
    assert request.headers["Authorization"].startswith("OAuth ")  # OAuth 1.0a user context, signed by tweepy


def test_retweets_quotes_without_a_question_and_the_citys_own_posts_are_left_out(x):
    fake, client = x
    question = fake.mention("777", "how do I renew a parking permit?")
    retweet = fake.post(CITIZEN, "", retweet_of=question)
    quote_plain = fake.mention(CITIZEN, "this 👇 https://x.com/bob/status/1", quote_of=question)
    quote_asking = fake.mention(CITIZEN, "same here, and can I do it online? https://x.com/bob/status/1",
                                quote_of=question)
    own = fake.post(fake.account_id, f"@{fake.username} reminder: offices close at 5", in_reply_to=question)
    found = mentions(fake, client)
    assert found[retweet] is None and found[quote_plain] is None and found[own] is None
    assert found[quote_asking].text == "same here, and can I do it online? https://x.com/bob/status/1"
    assert found[question].text == "how do I renew a parking permit?"


def test_a_direct_message_is_private_and_the_citys_own_dms_are_left_out(x):
    fake, client = x
    event = fake.send_dm(CITIZEN, "  Is the pool open on Sunday?  ")
    client.create_direct_message(participant_id=CITIZEN, text="Yes, 9 to 5.")
    response = client.get_direct_message_events(event_types="MessageCreate", dm_event_fields=DM_EVENT_FIELDS)
    messages = [dm_to_message(e, account_id=fake.account_id) for e in response.data]
    assert messages[0] is None  # newest first: the city's own answer
    assert (messages[1].text, messages[1].public, messages[1].conversation_id, messages[1].platform_message_id) == (
        "Is the pool open on Sunday?", False, f"x-{CITIZEN}", event)


def test_a_rate_limit_is_waited_out_until_its_reset_then_the_call_succeeds(x):
    fake, client = x
    fake.rate_limit("GET", f"/2/users/{fake.account_id}/mentions", times=1, reset_after_s=1)
    started = time.monotonic()
    response = asyncio.run(call_x(client.get_users_mentions, fake.account_id, user_auth=True))
    assert response.meta == {"result_count": 0}
    assert time.monotonic() - started >= 1.0
    assert [r.path for r in fake.requests].count(f"/2/users/{fake.account_id}/mentions") == 2


def test_the_connector_names_the_credentials_it_misses():
    settings = Settings(x_api_key=SecretStr("key"), x_api_secret=None, x_access_token=None,
                        x_access_token_secret=SecretStr(""), _env_file=None)
    assert missing_credentials(settings) == ["X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"]
    with pytest.raises(ValueError, match="X_API_SECRET"):
        build_client(settings)
    assert plan_connectors(settings)[1]["x"] == "X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET are not set"
    complete = settings.model_copy(update={name: SecretStr("set") for name in (
        "x_api_secret", "x_access_token", "x_access_token_secret")})
    assert "x" in plan_connectors(complete)[0]
