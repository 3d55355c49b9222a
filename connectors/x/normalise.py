"""X mentions and direct messages → the internal message; what the desk does not answer is left out here.

Rules (in this order): the city account's own posts and DMs are ignored; a retweet is ignored (it carries
no words of its own); a quote tweet is kept only when its own words (without @handles and links) ask a
question; every other mention is kept. A mention is public and answered in its thread; a DM is private.
"""

from __future__ import annotations

import re

import tweepy

from connectors.message import InboundMessage, conversation_id_for, platform_id_for

CHANNEL = "x"
TWEET_FIELDS = ["conversation_id", "referenced_tweets", "author_id", "created_at"]
DM_EVENT_FIELDS = ["sender_id", "dm_conversation_id", "created_at"]
_LEADING_HANDLES = re.compile(r"^(?:@\w+\s*)+")
_HANDLE = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")
_QUESTION_WORDS = ("who", "what", "when", "where", "why", "how", "which", "can", "could", "is", "are", "do",
                   "does", "did", "will", "would", "should", "may", "whom", "whose")


def own_words(text: str) -> str:
    """The words a citizen wrote: without the @handles X puts in front of a reply, the city's handle and links."""
    return " ".join(_URL.sub(" ", _HANDLE.sub(" ", text)).split())


def asks_a_question(words: str) -> bool:
    """A question mark, or a sentence that opens with a question word."""
    if "?" in words:
        return True
    return any(sentence.split()[0].lower().strip(",") in _QUESTION_WORDS
               for sentence in re.split(r"[.!\n]+", words) if sentence.split())


def _referenced(tweet: tweepy.Tweet, kind: str) -> list[str]:
    return [str(ref.id) for ref in (tweet.referenced_tweets or []) if ref.type == kind]


def mention_to_message(tweet: tweepy.Tweet, *, account_id: str, account: str | None = None) -> InboundMessage | None:
    """The message of a mention, or None when the desk leaves it alone (own post, retweet, quote without a question)."""
    author = str(tweet.author_id)
    if author == str(account_id):
        return None
    if _referenced(tweet, "retweeted") or tweet.text.startswith("RT @"):
        return None
    text = " ".join(_LEADING_HANDLES.sub("", tweet.text.strip()).split())
    if _referenced(tweet, "quoted") and not asks_a_question(own_words(text)):
        return None
    return InboundMessage(channel=CHANNEL, platform_message_id=platform_id_for(tweet.id, account, CHANNEL),
                          conversation_id=conversation_id_for(CHANNEL, author, account), sender_id=author, text=text,
                          reply_to=str(tweet.id), public=True, account=account,
                          raw={"kind": "mention", "conversation_id": str(tweet.conversation_id or tweet.id)},
                          **({"received_at": tweet.created_at} if tweet.created_at else {}))


def dm_to_message(event: tweepy.DirectMessageEvent, *, account_id: str,
                  account: str | None = None) -> InboundMessage | None:
    """The message of a direct message to the city, or None for the city's own DMs and non-message events."""
    if event.event_type != "MessageCreate" or event.sender_id is None or str(event.sender_id) == str(account_id):
        return None
    sender = str(event.sender_id)
    return InboundMessage(channel=CHANNEL, platform_message_id=platform_id_for(event.id, account, CHANNEL),
                          conversation_id=conversation_id_for(CHANNEL, sender, account), sender_id=sender,
                          text=(event.text or "").strip(), public=False, account=account,
                          raw={"kind": "dm", "dm_conversation_id": event.dm_conversation_id},
                          **({"received_at": event.created_at} if event.created_at else {}))
