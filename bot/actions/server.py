"""The action server, locked down: `python -m bot.actions.server` (what `citydesk serve` starts).

rasa_sdk's own `rasa run actions` listens on every interface (SANIC_HOST, default 0.0.0.0) and answers anyone. This
serves the same app (rasa_sdk.endpoint.create_app) but:

- bound to CITYDESK_HOST (default 127.0.0.1; a container sets 0.0.0.0 and keeps the port private);
- every call but /health must carry the shared secret CITYDESK_ACTION_TOKEN as 'Authorization: Bearer <secret>'
  (Rasa sends it: endpoints.yml, action_endpoint.headers); without it 401, and the server does not start at all
  without a secret;
- no CORS (only Rasa calls it), bodies above CITYDESK_ACTION_MAX_BODY_BYTES refused (413), and an action's
  failure answered without echoing the request (rasa_sdk's own handler sends the whole tracker back).
"""

from __future__ import annotations

import argparse
import hmac
import logging

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.actions.settings import ActionSettings, get_settings

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
REFUSED = "This action server answers Rasa only: send its secret (CITYDESK_ACTION_TOKEN) as 'Authorization: Bearer'."


def authorized(request: Request, secret: str) -> bool:
    """Whether the request carries the shared secret (compared in constant time)."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), secret.encode())


def build_app(settings: ActionSettings, actions: str = "bot.actions") -> Sanic:
    """rasa_sdk's app with the secret checked on every call but /health."""
    secret = settings.action_token.get_secret_value()
    if not secret:
        raise SystemExit("CITYDESK_ACTION_TOKEN is not set: the action server refuses to run without its secret "
                         "(`citydesk serve` passes the one in the data folder's action_token).")
    app = create_app(actions, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = settings.action_max_body_bytes

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or authorized(request, secret):
            return None
        log.warning("refused a call to %s from %s without the action server's secret", request.path, request.ip)
        return response.json({"error": REFUSED}, status=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        log.error("action call to %s failed", request.path, exc_info=exception)
        return response.json({"error": f"{type(exception).__name__} in the action server"}, status=500)

    return app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description="CityDesk's action server (rasa_sdk), bound and authenticated")
    parser.add_argument("--host", default=settings.host, help="interface to listen on (CITYDESK_HOST)")
    parser.add_argument("--port", type=int, default=settings.action_port, help="port (CITYDESK_ACTION_PORT)")
    parser.add_argument("--actions", default="bot.actions", help="package of the actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(settings, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    log.info("Action server on http://%s:%d (calls need CITYDESK_ACTION_TOKEN)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
