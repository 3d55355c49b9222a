"""Two guards around every request of the desk, as ASGI middleware (installed once, in desk.app.create_app):

- `BodyGuard`: a request body larger than `settings.max_body_bytes` (1 MB; the file uploads of UPLOAD_PATHS
  `settings.max_upload_bytes`) is refused with 413, on its Content-Length before it is read, else as soon as the
  stream passes the limit; a JSON body that is not text (a lone UTF-16 surrogate such as "\\ud800", which no
  database or reply can encode) is refused with 400. The refusals are desk.api.errors' (`BadBody`), in the
  format of the surface asked (Open311's or the JSON API's).
- `SecurityHeaders`: every response, page or API, gets a Content-Security-Policy (scripts and styles from the desk
  itself only, no inline script, no framing), X-Frame-Options DENY, X-Content-Type-Options nosniff and a
  Referrer-Policy. FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from a CDN with an inline script:
  they alone get a policy that allows those (they show no citizen's data).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desk.api.errors import BadBody, refusal

UPLOAD_PATHS = frozenset({"/editor/import", "/editor/evaluate", "/api/kb/entries/import"})
JSON_TYPES = ("application/json", "+json")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
           "referrer-policy": "strict-origin-when-cross-origin"}


class _TooLarge(Exception):
    """The body passed the limit while it was being read."""


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), "")


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int,
                 upload_paths: Iterable[str] = UPLOAD_PATHS) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if scope["path"] in self.upload_paths else self.max_body_bytes
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, self._too_large(limit), 413)
            return
        if any(kind in _header(scope, b"content-type").lower() for kind in JSON_TYPES):
            await self._json(scope, receive, send, limit)
            return
        await self._streamed(scope, receive, send, limit)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole (small) JSON body first: refuse it if too large or not text, else replay it to the app."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, self._too_large(limit), 413)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = text_problem(body)
        if problem:
            await self._refuse(scope, receive, send, BadBody(problem), 400)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the body as the app reads it; past the limit the app's reading fails, and whatever it answers
        then (a form parser turns the failure into its own 400) is replaced by the 413."""
        size, exceeded, started = 0, False, False

        async def counted() -> Message:
            nonlocal size, exceeded
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                exceeded = True
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, receive, send, self._too_large(limit), 413)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, self._too_large(limit), 413)

    @staticmethod
    def _too_large(limit: int) -> BadBody:
        shown = f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit} bytes"
        return BadBody(f"The request body is larger than {shown}, the limit of this endpoint.")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: BadBody, status: int) -> None:
        response = refusal(Request(scope), error, status)
        response.headers["connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def text_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken as text, or None. Invalid JSON is left to the route's validation (422)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not text: send JSON in UTF-8."
    try:
        value = json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return ("The request body contains a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), "
                "which is not text: send UTF-8 text.")
    except (ValueError, RecursionError):
        return None
    return None


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in (("content-security-policy", policy), *HEADERS.items()):
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
