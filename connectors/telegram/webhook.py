"""Webhook mode: Telegram POSTs updates here; the secret token header is checked before anything else."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from connectors.telegram.normalise import CHANNEL

if TYPE_CHECKING:
    from connectors.telegram.app import TelegramConnector

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REJECTED_CONVERSATION = "tg-webhook"  # where rejected deliveries are recorded (system records)


def webhook_app(connector: TelegramConnector, *, url: str, secret: str) -> Starlette:
    """The one route, at the path of `url` (TELEGRAM_WEBHOOK_URL); deliveries must carry `secret`."""
    path = urlsplit(url).path or "/"

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            client = request.client.host if request.client else "unknown"
            reason = "missing secret token" if not given else "wrong secret token"
            log.warning("rejected a Telegram webhook delivery from %s: %s", client, reason)
            await asyncio.to_thread(connector.pipeline.writer.append, channel=CHANNEL,
                                    conversation_id=REJECTED_CONVERSATION, author_role="system",
                                    text=f"Rejected a webhook delivery: {reason}.",
                                    meta={"event": "webhook_rejected", "client": client, "reason": reason})
            return JSONResponse({"ok": False, "description": "Forbidden"}, status_code=403)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, connector.application.bot)
            if update is None or not isinstance(data, dict) or "update_id" not in data:
                raise ValueError("not a Telegram update")
        except (ValueError, TypeError, KeyError) as error:
            # 400: Telegram keeps the update and delivers it again, so nothing is lost
            log.warning("refused a malformed Telegram webhook delivery: %s", error)
            return JSONResponse({"ok": False, "description": f"Bad Request: {error}"}, status_code=400)
        await connector.application.update_queue.put(update)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


async def serve_webhook(connector: TelegramConnector, stop: asyncio.Event) -> None:
    """Register the webhook with Telegram (with the secret) and serve it until `stop` is set."""
    settings = connector.settings
    if settings.telegram_webhook_secret is None or not settings.telegram_webhook_secret.get_secret_value():
        raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set in webhook mode")
    if not settings.telegram_webhook_url:
        raise ValueError("TELEGRAM_WEBHOOK_URL must be set in webhook mode")
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret.get_secret_value()
    await connector.application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    server = uvicorn.Server(uvicorn.Config(webhook_app(connector, url=url, secret=secret), host=settings.host,
                                           port=settings.telegram_webhook_port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
