"""A local X API v2 server for tests: the endpoints tweepy 4's `Client` calls, and a record of what was sent.

It speaks the wire protocol (paths, query parameters, JSON bodies, status codes, rate-limit headers) so the
real tweepy library runs unchanged against it; point the client's session at `FakeXApi.base_url`. Several city
accounts (`add_account`) are told apart by the OAuth 1.0a access token their requests are signed with.
Only the fields a request asks for (`tweet.fields`, `dm_event.fields`) come back, as on the real API.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TWEET_LIMIT = 280
URL_WEIGHT = 23  # X counts every link as 23 characters (t.co)
_URL = re.compile(r"https?://\S+")


def weighted_length(text: str) -> int:
    """The tweet length X checks: each URL counts 23 characters."""
    return len(_URL.sub("x" * URL_WEIGHT, text))


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict | None


@dataclass
class _RateLimit:
    method: str
    path_prefix: str
    times: int
    reset_after_s: float


@dataclass
class FakeXApi:
    """The X API of one account (the city's), with citizens who mention it and write to it."""

    account_id: str = "1000"
    username: str = "CityOfAlderbrook"
    tweets: dict[str, dict] = field(default_factory=dict)
    dm_events: list[dict] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # id -> username
    requests: list[Request] = field(default_factory=list)
    posted_tweets: list[dict] = field(default_factory=list)
    sent_dms: list[dict] = field(default_factory=list)

    access_token: str = "token"  # the city account's OAuth access token; a request signed with another's is theirs

    def __post_init__(self) -> None:
        self.users.setdefault(self.account_id, self.username)
        self.accounts: dict[str, str] = {self.access_token: self.account_id}  # access token -> account id
        self._ids = itertools.count(1_700_000_000_000_000_000, 1_000)
        self._lock = threading.Lock()
        self._rate_limits: list[_RateLimit] = []
        self._server: ThreadingHTTPServer | None = None

    # --- the world: citizens act ---

    def next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def add_account(self, account_id: str, username: str, *, access_token: str) -> str:
        """Another city account on this X: requests signed with `access_token` act as it."""
        self.users[account_id] = username
        self.accounts[access_token] = account_id
        return account_id

    def add_user(self, user_id: str, username: str) -> str:
        self.users[user_id] = username
        return user_id

    def post(self, author_id: str, text: str, *, in_reply_to: str | None = None, quote_of: str | None = None,
             retweet_of: str | None = None) -> str:
        """A tweet by `author_id`; a retweet's text is "RT @user: …" as on X. Returns its id."""
        tweet_id = self.next_id()
        referenced = []
        conversation_id = tweet_id
        in_reply_to_user = None
        if in_reply_to:
            parent = self.tweets[in_reply_to]
            referenced.append({"type": "replied_to", "id": in_reply_to})
            conversation_id = parent["conversation_id"]
            in_reply_to_user = parent["author_id"]
        if quote_of:
            referenced.append({"type": "quoted", "id": quote_of})
        if retweet_of:
            original = self.tweets[retweet_of]
            referenced = [{"type": "retweeted", "id": retweet_of}]
            text = f"RT @{self.users[original['author_id']]}: {original['text']}"
        tweet = {"id": tweet_id, "text": text, "author_id": author_id, "conversation_id": conversation_id,
                 "created_at": _now(), "edit_history_tweet_ids": [tweet_id]}
        if referenced:
            tweet["referenced_tweets"] = referenced
        if in_reply_to_user:
            tweet["in_reply_to_user_id"] = in_reply_to_user
        with self._lock:
            self.tweets[tweet_id] = tweet
        return tweet_id

    def mention(self, author_id: str, text: str, *, account_id: str | None = None, **kwargs: Any) -> str:
        """A tweet by a citizen that mentions the city account (or another of the city's accounts)."""
        return self.post(author_id, f"@{self.users[account_id or self.account_id]} {text}", **kwargs)

    def send_dm(self, sender_id: str, text: str, *, account_id: str | None = None) -> str:
        """A direct message from a citizen to the city account (or another). Returns the DM event id."""
        return self._add_dm(sender_id, account_id or self.account_id, text)

    def rate_limit(self, method: str, path_prefix: str, *, times: int = 1, reset_after_s: float = 1.0) -> None:
        """Answer the next `times` matching requests with 429 and an x-rate-limit-reset `reset_after_s` ahead."""
        with self._lock:
            self._rate_limits.append(_RateLimit(method, path_prefix, times, reset_after_s))

    def clear_rate_limits(self) -> None:
        with self._lock:
            self._rate_limits.clear()

    # --- what the city account did ---

    def posted_by(self, account_id: str) -> list[dict]:
        """The tweets one of the city's accounts posted, oldest first."""
        return [t for t in self.posted_tweets if t["author_id"] == account_id]

    def replies_to(self, tweet_id: str) -> list[dict]:
        """The city's tweets that reply to `tweet_id`, oldest first."""
        return [t for t in self.posted_tweets
                if any(r["type"] == "replied_to" and r["id"] == tweet_id for r in t.get("referenced_tweets", []))]

    def thread_from(self, tweet_id: str) -> list[dict]:
        """The city's chain of replies starting under `tweet_id`: first reply, the reply to it, and so on."""
        chain, parent = [], tweet_id
        while replies := self.replies_to(parent):
            chain.append(replies[0])
            parent = replies[0]["id"]
        return chain

    def dms_to(self, user_id: str, *, sender_id: str | None = None) -> list[str]:
        """The DMs the city's accounts (or one of them) sent to `user_id`."""
        return [dm["text"] for dm in self.sent_dms
                if dm["participant_id"] == user_id and (sender_id is None or dm["sender_id"] == sender_id)]

    # --- server ---

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeXApi:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-x-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeXApi:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- internals ---

    def _add_dm(self, sender_id: str, recipient_id: str, text: str) -> str:
        event_id = self.next_id()
        low, high = sorted((sender_id, recipient_id), key=int)
        with self._lock:
            self.dm_events.append({"id": event_id, "event_type": "MessageCreate", "text": text,
                                   "sender_id": sender_id, "dm_conversation_id": f"{low}-{high}",
                                   "created_at": _now(), "participant_ids": [sender_id, recipient_id]})
        return event_id

    def _take_rate_limit(self, method: str, path: str) -> _RateLimit | None:
        with self._lock:
            for limit in self._rate_limits:
                if limit.method == method and path.startswith(limit.path_prefix) and limit.times > 0:
                    limit.times -= 1
                    return limit
        return None

    def _mentions(self, user_id: str) -> list[dict]:
        """Tweets that name @user or reply to one of the user's tweets, newest first (as X's timeline)."""
        handle = f"@{self.users[user_id]}".lower()
        found = [t for t in self.tweets.values()
                 if handle in t["text"].lower() or t.get("in_reply_to_user_id") == user_id]
        return sorted(found, key=lambda t: int(t["id"]), reverse=True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _select(item: dict, fields_param: str | None, always: tuple[str, ...]) -> dict:
    wanted = set(always) | set(filter(None, (fields_param or "").split(",")))
    return {k: v for k, v in item.items() if k in wanted}


def _page(items: list[dict], params: dict[str, str]) -> tuple[list[dict], str | None]:
    size = int(params.get("max_results", 10))
    start = int(params.get("pagination_token") or 0)
    chunk = items[start:start + size]
    return chunk, (str(start + size) if start + size < len(items) else None)


class _Handler(BaseHTTPRequestHandler):
    api: FakeXApi
    caller: str  # the city account the request acts as (its OAuth access token)
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return self._send(400, {"title": "Invalid Request", "detail": "body is not JSON"})
        self.api.requests.append(Request(method, url.path, params, dict(self.headers.items()), body))
        auth = self.headers.get("Authorization", "")
        if not (auth.startswith("OAuth ") or auth.startswith("Bearer ")):
            return self._send(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
        if limit := self.api._take_rate_limit(method, url.path):
            reset = int(time.time() + limit.reset_after_s)
            return self._send(429, {"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"},
                              {"x-rate-limit-limit": "15", "x-rate-limit-remaining": "0",
                               "x-rate-limit-reset": str(reset)})
        user_context = auth.startswith("OAuth ")
        token = re.search(r'oauth_token="([^"]*)"', auth)
        self.caller = self.api.accounts.get(unquote(token.group(1)) if token else "", self.api.account_id)
        route = self._route(method, url.path)
        if route is None:
            return self._send(404, {"title": "Not Found Error", "detail": f"no route {method} {url.path}"})
        handler, needs_user, args = route
        if needs_user and not user_context:
            return self._send(403, {"title": "Unsupported Authentication",
                                    "detail": "this endpoint needs OAuth 1.0a User Context", "status": 403})
        handler(params, body, *args)

    def _route(self, method: str, path: str):
        if method == "GET" and path == "/2/users/me":
            return self._me, True, ()
        if method == "GET" and (m := re.fullmatch(r"/2/users/(\d+)/mentions", path)):
            return self._mentions, False, (m.group(1),)
        if method == "POST" and path == "/2/tweets":
            return self._create_tweet, True, ()
        if method == "GET" and path == "/2/dm_events":
            return self._dm_events, True, (None,)
        if method == "GET" and (m := re.fullmatch(r"/2/dm_conversations/with/(\d+)/dm_events", path)):
            return self._dm_events, True, (m.group(1),)
        if method == "POST" and (m := re.fullmatch(r"/2/dm_conversations/with/(\d+)/messages", path)):
            return self._create_dm, True, (m.group(1),)
        return None

    def _me(self, params: dict, _body: Any) -> None:
        self._send(200, {"data": {"id": self.caller, "name": "City of Alderbrook",
                                  "username": self.api.users[self.caller]}})

    def _mentions(self, params: dict, _body: Any, user_id: str) -> None:
        if user_id not in self.api.users:
            return self._send(404, {"title": "Not Found Error", "detail": f"no user {user_id}"})
        items = self.api._mentions(user_id)
        if since := params.get("since_id"):
            items = [t for t in items if int(t["id"]) > int(since)]
        chunk, next_token = _page(items, params)
        if not chunk:
            return self._send(200, {"meta": {"result_count": 0}})
        fields = params.get("tweet.fields")
        response: dict[str, Any] = {"data": [_select(t, fields, ("id", "text", "edit_history_tweet_ids"))
                                             for t in chunk]}
        expansions = set((params.get("expansions") or "").split(","))
        includes: dict[str, list] = {}
        if "author_id" in expansions:
            authors = dict.fromkeys(t["author_id"] for t in chunk)
            includes["users"] = [{"id": a, "username": self.api.users.get(a, a), "name": self.api.users.get(a, a)}
                                 for a in authors]
        if "referenced_tweets.id" in expansions:
            referenced = [r["id"] for t in chunk for r in t.get("referenced_tweets", [])]
            includes["tweets"] = [_select(self.api.tweets[r], fields, ("id", "text", "edit_history_tweet_ids"))
                                  for r in dict.fromkeys(referenced) if r in self.api.tweets]
        if includes:
            response["includes"] = includes
        response["meta"] = {"result_count": len(chunk), "newest_id": chunk[0]["id"], "oldest_id": chunk[-1]["id"],
                            **({"next_token": next_token} if next_token else {})}
        self._send(200, response)

    def _create_tweet(self, _params: dict, body: Any) -> None:
        text = (body or {}).get("text")
        if not text:
            return self._send(400, {"title": "Invalid Request", "detail": "text is required"})
        if weighted_length(text) > TWEET_LIMIT:
            return self._send(403, {"title": "Forbidden", "status": 403,
                                    "detail": "You are not allowed to create a Tweet with this text length."})
        if any(t["text"] == text for t in self.api.posted_tweets):
            return self._send(403, {"title": "Forbidden", "status": 403, "type": "about:blank",
                                    "detail": "You are not allowed to create a Tweet with duplicate content."})
        parent = ((body or {}).get("reply") or {}).get("in_reply_to_tweet_id")
        if parent is not None and str(parent) not in self.api.tweets:
            return self._send(400, {"title": "Invalid Request", "detail": f"no tweet {parent} to reply to"})
        tweet_id = self.api.post(self.caller, text, in_reply_to=str(parent) if parent else None)
        tweet = self.api.tweets[tweet_id]
        self.api.posted_tweets.append(tweet)
        self._send(201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}})

    def _dm_events(self, params: dict, _body: Any, participant_id: str | None) -> None:
        items = sorted((e for e in self.api.dm_events if self.caller in e["participant_ids"]),
                       key=lambda e: int(e["id"]), reverse=True)
        if participant_id:
            items = [e for e in items if participant_id in e["participant_ids"]]
        if (types := params.get("event_types")) and "MessageCreate" not in types.split(","):
            items = []
        chunk, next_token = _page(items, params)
        fields = params.get("dm_event.fields")
        response: dict[str, Any] = {"data": [_select(e, fields, ("id", "event_type", "text")) for e in chunk]}
        if not chunk:
            response = {}
        response["meta"] = {"result_count": len(chunk), **({"next_token": next_token} if next_token else {})}
        self._send(200, response)

    def _create_dm(self, _params: dict, body: Any, participant_id: str) -> None:
        text = (body or {}).get("text")
        if not text:
            return self._send(400, {"title": "Invalid Request", "detail": "text is required"})
        if participant_id not in self.api.users:
            return self._send(400, {"title": "Invalid Request", "detail": f"no user {participant_id}"})
        event_id = self.api._add_dm(self.caller, participant_id, text)
        self.api.sent_dms.append({"participant_id": participant_id, "text": text, "dm_event_id": event_id,
                                  "sender_id": self.caller})
        conversation = self.api.dm_events[-1]["dm_conversation_id"]
        self._send(201, {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}})

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
