"""The action server's one settings object, from environment variables (prefix CITYDESK_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseSettings, SecretStr  # Rasa 3.6 pins pydantic 1.x, whose BaseSettings this is


class ActionSettings(BaseSettings):
    desk_url: str = "http://127.0.0.1:8000"
    desk_timeout_s: float = 10.0
    emergency_number: str = "911"
    city_service_phone: str = "311"
    # sent to the desk's internal API; `citydesk serve` passes the desk's own
    internal_token: SecretStr = SecretStr("")

    class Config:
        env_prefix = "CITYDESK_"


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
