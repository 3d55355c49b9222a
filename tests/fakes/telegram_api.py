"""A local Telegram Bot API server for tests: the methods python-telegram-bot calls, and a record of what was sent.

It speaks the wire protocol (POST /bot<token>/<method>, form-encoded parameters whose complex values are JSON,
the {"ok": ..., "result"/"error_code", "parameters": {"retry_after"}} envelope), so the real library runs
unchanged against it: Application.builder().base_url(f"{fake.base_url}/bot"). Like Telegram, it keeps an
update until a getUpdates call with a higher offset confirms it, so a killed poller sees it again. One server serves
several bots (the city's accounts): `add_bot` gives another token its own updates, numbering and record of sends.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_ID = 777000111


@dataclass
class SentMessage:
    chat_id: int
    text: str
    message_id: int
    reply_markup: dict | None = None
    reply_to_message_id: int | None = None


@dataclass
class FakeTelegramApi:
    """The Bot API of one bot; citizens' updates are injected with the helpers, what the bot sent is kept."""

    token: str = "123456:TEST-TOKEN"
    username: str = "alderbrook_city_bot"
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)  # every method called, with its parameters
    callback_answers: list[dict] = field(default_factory=list)
    webhook: dict | None = None
    fail_sends: bool = False  # sendMessage answers 500 while set (and nothing is sent)
    failed_send_attempts: int = 0
    # Telegram's flood limits, enforced when set: more than `max_per_second` messages in the last second overall,
    # or a second message to one private chat within `chat_period_s`, get 429 with retry_after (nothing is sent)
    max_per_second: int | None = None
    chat_period_s: float | None = None
    retry_after_s: int = 1
    blocked_chats: set[int] = field(default_factory=set)  # sendMessage to these gets 403 (the bot was blocked)
    too_many_requests: int = 0  # 429s answered because of the limits
    bot_id: int = BOT_ID

    def __post_init__(self) -> None:
        self._updates: list[dict] = []
        self._condition = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._rate_limits: list[int] = []  # retry_after of the next sendMessage calls to refuse
        self._recent: list[float] = []  # monotonic times of the messages accepted in the last second
        self._last_per_chat: dict[int, float] = {}
        self._hold_after: int | None = None  # sendMessage calls past this many accepted messages wait (hold_after)
        self._released = threading.Event()
        self.held = 0  # calls waiting now
        self._server: ThreadingHTTPServer | None = None
        self._bots: dict[str, FakeTelegramApi] = {self.token: self}  # every bot this server answers for
        self._host: FakeTelegramApi = self

    def add_bot(self, token: str, username: str, bot_id: int) -> FakeTelegramApi:
        """Another bot on this server (same base URL, its own token): its updates and sends are its own."""
        bot = FakeTelegramApi(token=token, username=username, bot_id=bot_id)
        bot._host = self
        self._bots[token] = bot
        return bot

    def bot(self, token: str) -> FakeTelegramApi | None:
        return self._bots.get(token)

    # -- citizens ------------------------------------------------------------------------------------------

    def send_text(self, chat_id: int, text: str, *, user_id: int | None = None) -> dict:
        return self.inject({"message": self._message(chat_id, user_id, text=text)})

    def send_photo(self, chat_id: int, *, caption: str | None = None) -> dict:
        photo = [{"file_id": "photo-small", "file_unique_id": "ps", "width": 90, "height": 90},
                 {"file_id": "photo-big", "file_unique_id": "pb", "width": 800, "height": 800}]
        return self.inject({"message": self._message(chat_id, None, photo=photo,
                                                     **({"caption": caption} if caption else {}))})

    def send_sticker(self, chat_id: int) -> dict:
        sticker = {"file_id": "sticker-1", "file_unique_id": "s1", "width": 512, "height": 512, "type": "regular",
                   "is_animated": False, "is_video": False, "emoji": "👍"}
        return self.inject({"message": self._message(chat_id, None, sticker=sticker)})

    def send_voice(self, chat_id: int) -> dict:
        voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3, "mime_type": "audio/ogg"}
        return self.inject({"message": self._message(chat_id, None, voice=voice)})

    def send_location(self, chat_id: int, lat: float, long: float) -> dict:
        return self.inject({"message": self._message(chat_id, None, location={"latitude": lat, "longitude": long})})

    def press_button(self, chat_id: int, data: str, *, message_id: int | None = None) -> dict:
        """A callback query, as when the citizen presses an inline keyboard button."""
        message = self._message(chat_id, self.bot_id, text="(the bot's message)")
        if message_id is not None:
            message["message_id"] = message_id
        return self.inject({"callback_query": {"id": f"cbq-{next(self._update_ids)}", "from": self._user(chat_id),
                                               "chat_instance": f"ci-{chat_id}", "data": data, "message": message}})

    def inject(self, update: dict, *, update_id: int | None = None) -> dict:
        """Queue an update for getUpdates (give the same update_id to redeliver it); returns it."""
        update = {"update_id": update_id if update_id is not None else next(self._update_ids), **update}
        with self._condition:
            self._updates.append(update)
            self._condition.notify_all()
        return update

    def build_text_update(self, chat_id: int, text: str) -> dict:
        """An update for a webhook test, not queued."""
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, None, text=text)}

    # -- control -----------------------------------------------------------------------------------------------

    def rate_limit(self, retry_after: int = 1, *, times: int = 1) -> None:
        """The next `times` sendMessage calls get 429 Too Many Requests with this retry_after."""
        with self._condition:
            self._rate_limits.extend([retry_after] * times)

    def hold_after(self, accepted: int) -> None:
        """Once `accepted` messages are sent, further sendMessage calls wait unanswered (in flight, not sent) until
        `release_held`: a deterministic moment to kill a sender mid-delivery."""
        with self._condition:
            self._hold_after = accepted
            self._released.clear()

    def release_held(self) -> None:
        """The waiting calls are answered 500 (not sent); calls after this are served normally."""
        with self._condition:
            self._hold_after = None
        self._released.set()

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        with self._condition:
            return [m for m in self.sent if m.chat_id == chat_id]

    def wait_for(self, predicate, timeout: float = 60.0, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()

    def pending_updates(self) -> list[dict]:
        with self._condition:
            return list(self._updates)

    @property
    def base_url(self) -> str:
        if self._host is not self:
            return self._host.base_url
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def bot_base_url(self) -> str:
        """What python-telegram-bot's base_url (and TELEGRAM_BASE_URL) takes."""
        return f"{self.base_url}/bot"

    def start(self) -> FakeTelegramApi:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTelegramApi:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the Bot API -----------------------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict]:
        with self._condition:
            self.calls.append((method, params))
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        return handler(params)

    def _api_getme(self, _params: dict) -> tuple[int, dict]:
        return _ok({"id": self.bot_id, "is_bot": True, "first_name": "Alderbrook", "username": self.username,
                    "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False})

    def _api_getupdates(self, params: dict) -> tuple[int, dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 5.0)  # short, so that tests stop quickly
        deadline = time.monotonic() + timeout
        with self._condition:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._condition.wait(timeout=max(0.0, deadline - time.monotonic()))
            limit = int(params.get("limit") or 100)
            return _ok(sorted(self._updates, key=lambda u: u["update_id"])[:limit])

    def _hold(self) -> bool:
        """Wait while held; True when the call must be refused (it was held)."""
        with self._condition:
            held = self._hold_after is not None and len(self.sent) >= self._hold_after
            if held:
                self.held += 1
        if held:
            self._released.wait()
            with self._condition:
                self.held -= 1
        return held

    def _flood_limited(self, chat_id: int) -> int | None:
        """retry_after when this message breaks the flood limits (call with the condition held)."""
        now = time.monotonic()
        self._recent = [t for t in self._recent if now - t < 1.0]
        if self.max_per_second is not None and len(self._recent) >= self.max_per_second:
            return self.retry_after_s
        last = self._last_per_chat.get(chat_id)
        if self.chat_period_s is not None and chat_id > 0 and last is not None and now - last < self.chat_period_s:
            return self.retry_after_s
        self._recent.append(now)
        if self.chat_period_s is not None:
            self._last_per_chat[chat_id] = now
        return None

    def _api_sendmessage(self, params: dict) -> tuple[int, dict]:
        if self._hold():
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error (held)"}
        with self._condition:
            if int(params.get("chat_id", 0)) in self.blocked_chats:
                return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            if (self.max_per_second is not None or self.chat_period_s is not None) and params.get("text") and (
                    retry_after := self._flood_limited(int(params["chat_id"]))) is not None:
                self.too_many_requests += 1
                return 429, {"ok": False, "error_code": 429, "parameters": {"retry_after": retry_after},
                             "description": f"Too Many Requests: retry after {retry_after}"}
            if self._rate_limits:
                retry_after = self._rate_limits.pop(0)
                return 429, {"ok": False, "error_code": 429, "parameters": {"retry_after": retry_after},
                             "description": f"Too Many Requests: retry after {retry_after}"}
            if self.fail_sends:
                self.failed_send_attempts += 1
                return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            text = params.get("text", "")
            if not text:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
            if len(text) > 4096:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
            markup = params.get("reply_markup")
            for row in (markup or {}).get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        return 400, {"ok": False, "error_code": 400,
                                     "description": "Bad Request: BUTTON_DATA_INVALID"}
            message = SentMessage(chat_id=int(params["chat_id"]), text=text, message_id=next(self._message_ids),
                                  reply_markup=markup,
                                  reply_to_message_id=(params.get("reply_parameters") or {}).get("message_id"))
            self.sent.append(message)
        result = {"message_id": message.message_id, "date": int(time.time()), "text": text,
                  "chat": {"id": message.chat_id, "type": "private"},
                  "from": {"id": self.bot_id, "is_bot": True, "first_name": "Alderbrook", "username": self.username}}
        if markup:
            result["reply_markup"] = markup
        return _ok(result)

    def _api_answercallbackquery(self, params: dict) -> tuple[int, dict]:
        with self._condition:
            self.callback_answers.append(params)
        return _ok(True)

    def _api_editmessagereplymarkup(self, params: dict) -> tuple[int, dict]:
        return _ok(True)

    def _api_setwebhook(self, params: dict) -> tuple[int, dict]:
        self.webhook = params
        return _ok(True)

    def _api_deletewebhook(self, params: dict) -> tuple[int, dict]:
        self.webhook = None
        if params.get("drop_pending_updates"):
            with self._condition:
                self._updates.clear()
        return _ok(True)

    def _api_getwebhookinfo(self, _params: dict) -> tuple[int, dict]:
        return _ok({"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)})

    def _api_close(self, _params: dict) -> tuple[int, dict]:
        return _ok(True)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _user(self, user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": "Citizen", "language_code": "en"}

    def _message(self, chat_id: int, user_id: int | None, **content: Any) -> dict:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Citizen"},
                "from": self._user(user_id or chat_id), **content}


def _ok(result: Any) -> tuple[int, dict]:
    return 200, {"ok": True, "result": result}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTelegramApi
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        bot = self.fake.bot(parts[0].removeprefix("bot")) if len(parts) == 2 and parts[0].startswith("bot") else None
        if bot is None:
            self._send(401 if len(parts) == 2 else 404, {"ok": False, "error_code": 401,
                                                        "description": "Unauthorized"})
            return
        params = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if body and content_type.startswith("application/json"):
            params.update(json.loads(body))
        elif body:
            params.update(dict(parse_qsl(body.decode())))
        for key in ("reply_markup", "reply_parameters", "allowed_updates", "link_preview_options"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        status, payload = bot.call(parts[1], params)
        self._send(status, payload)

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client went away (a stopped poller)
            self.wfile.write(body)
