"""Webhook mode: Telegram POSTs updates here; the secret token header is checked before anything else."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from connectors.telegram.normalise import CHANNEL

if TYPE_CHECKING:
    from connectors.telegram.app import TelegramConnector

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REJECTED_CONVERSATION = "tg-webhook"  # where rejected deliveries are recorded (system records)


def webhook_url(base_url: str, account: str, default: str) -> str:
    """Where Telegram posts one account's updates: TELEGRAM_WEBHOOK_URL for the default account, the URL with
    "/<account>" appended for another."""
    return base_url if account == default else f"{base_url.rstrip('/')}/{account}"


def webhook_app(connector: TelegramConnector, *, url: str, secret: str,
                secrets: dict[str, str] | None = None) -> Starlette:
    """A route per account, at the path of its webhook URL (webhook_url of `url`, TELEGRAM_WEBHOOK_URL); deliveries
    must carry the account's secret (`secrets`, by account; default: `secret`)."""
    default = next(iter(connector.applications))
    routes = []
    for account, application in connector.applications.items():
        path = urlsplit(webhook_url(url, account, default)).path or "/"
        routes.append(Route(path, _receiver(connector, application, (secrets or {}).get(account, secret)),
                            methods=["POST"]))
    return Starlette(routes=routes)


def _receiver(connector: TelegramConnector, application: Application,
              secret: str) -> Callable[[Request], Awaitable[Response]]:
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
            update = Update.de_json(data, application.bot)
            if update is None or not isinstance(data, dict) or "update_id" not in data:
                raise ValueError("not a Telegram update")
        except (ValueError, TypeError, KeyError) as error:
            # 400: Telegram keeps the update and delivers it again, so nothing is lost
            log.warning("refused a malformed Telegram webhook delivery: %s", error)
            return JSONResponse({"ok": False, "description": f"Bad Request: {error}"}, status_code=400)
        await application.update_queue.put(update)
        return JSONResponse({"ok": True})

    return receive


async def serve_webhook(connector: TelegramConnector, stop: asyncio.Event) -> None:
    """Register the webhook with Telegram (with the secret) and serve it until `stop` is set."""
    settings = connector.settings
    if settings.telegram_webhook_secret is None or not settings.telegram_webhook_secret.get_secret_value():
        raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set in webhook mode")
    if not settings.telegram_webhook_url:
        raise ValueError("TELEGRAM_WEBHOOK_URL must be set in webhook mode")
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret.get_secret_value()
    default = next(iter(connector.applications))
    secrets = {a.name: a.credential("webhook_secret") or secret for a in connector.accounts}
    for account, application in connector.applications.items():
        await application.bot.set_webhook(url=webhook_url(url, account, default),
                                          secret_token=secrets.get(account, secret), allowed_updates=Update.ALL_TYPES)
    app = webhook_app(connector, url=url, secret=secret, secrets=secrets)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host,
                                           port=settings.telegram_webhook_port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
