"""The action server's one settings object, from environment variables (prefix CITYDESK_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseSettings, SecretStr  # Rasa 3.6 pins pydantic 1.x, whose BaseSettings this is


class ActionSettings(BaseSettings):
    desk_url: str = "http://127.0.0.1:8000"
    desk_timeout_s: float = 10.0
    emergency_number: str = "911"
    city_service_phone: str = "311"
    # the action server (bot/actions/server.py): where it listens, and the secret Rasa must send (endpoints.yml);
    # `citydesk serve` passes the desk's. It holds no token for the desk: each action sends the token of its own
    # conversation, which the desk gave Rasa with the message (desk/api/internal_auth.py).
    host: str = "127.0.0.1"
    action_port: int = 5055
    action_token: SecretStr = SecretStr("")
    action_max_body_bytes: int = 10_000_000  # Rasa sends the conversation's session with every call

    class Config:
        env_prefix = "CITYDESK_"


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
