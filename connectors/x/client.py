"""The tweepy 4 `Client` of the city account, pointed at the configured X API host."""

from __future__ import annotations

from typing import Any

import requests
import tweepy
from pydantic import SecretStr

from accounts import Account
from settings import Settings

# tweepy builds every URL from one of these hosts; X_BASE_URL replaces it (a local fake in tests)
TWEEPY_HOSTS = ("https://api.twitter.com", "https://api.x.com")
REQUIRED = {"X_API_KEY": "x_api_key", "X_API_SECRET": "x_api_secret", "X_ACCESS_TOKEN": "x_access_token",
            "X_ACCESS_TOKEN_SECRET": "x_access_token_secret"}


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's calls to `base_url` instead of X's host; all else unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        for host in TWEEPY_HOSTS:
            if url.startswith(host + "/"):
                url = self.base_url + url[len(host):]
                break
        return super().request(method, url, *args, **kwargs)


def missing_credentials(settings: Settings) -> list[str]:
    """The env vars the X connector needs and that are not set (OAuth 1.0a user context: posting and DMs)."""
    return [env for env, attr in REQUIRED.items()
            if getattr(settings, attr) is None or not getattr(settings, attr).get_secret_value()]


def build_client(settings: Settings, account: Account | None = None) -> tweepy.Client:
    """The client of one city account (default: the one of today's X_* settings); rate limits raise
    `tweepy.TooManyRequests` (the poller decides how to wait)."""
    if account is None:
        if missing := missing_credentials(settings):
            raise ValueError(f"X credentials not set: {', '.join(missing)}")

        def secret(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        client = tweepy.Client(bearer_token=secret(settings.x_bearer_token), consumer_key=secret(settings.x_api_key),
                               consumer_secret=secret(settings.x_api_secret),
                               access_token=secret(settings.x_access_token),
                               access_token_secret=secret(settings.x_access_token_secret), wait_on_rate_limit=False)
    else:
        if missing := account.missing_credentials:
            raise ValueError(f"X credentials of account {account.name!r} not set: {', '.join(missing)}")
        client = tweepy.Client(bearer_token=account.credential("bearer_token"),
                               consumer_key=account.credential("api_key"),
                               consumer_secret=account.credential("api_secret"),
                               access_token=account.credential("access_token"),
                               access_token_secret=account.credential("access_token_secret"), wait_on_rate_limit=False)
    if settings.x_base_url.rstrip("/") not in TWEEPY_HOSTS:
        client.session = RebasedSession(settings.x_base_url)
    return client
