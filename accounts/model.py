"""One city account on one channel."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,59}$"  # fits the String(60) `account` columns and a conversation id


class Channel(StrEnum):
    TELEGRAM = "telegram"
    X = "x"
    WEB = "web"


# What each channel's account needs (required) and may have (optional), by credential name.
CREDENTIALS: dict[Channel, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Channel.TELEGRAM: (("token",), ("webhook_secret",)),
    Channel.X: (("api_key", "api_secret", "access_token", "access_token_secret"), ("bearer_token", "user_id")),
    Channel.WEB: ((), ()),
}


class Account(BaseModel):
    """An account of the city on one channel. `credentials` holds the values, `credential_env` the variables they
    were read from (for messages: which variable to set); a credential whose variable is unset is absent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    channel: Channel
    display_name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    credential_env: dict[str, str] = Field(default_factory=dict)
    department: str | None = Field(default=None, description="Department code its messages are routed to unless "
                                                              "they say otherwise.")
    broadcasts: bool = True
    broadcast_chat: str | None = Field(default=None, description="Telegram: the channel (@name or id) alerts are "
                                                                 "posted to; X posts on the account itself.")

    @property
    def is_default(self) -> bool:
        """The account named after its channel: its conversations keep the ids they had before accounts."""
        return self.name == self.channel.value

    def credential(self, key: str) -> str | None:
        """A credential's value, or None when its variable is unset."""
        value = self.credentials.get(key)
        return value.get_secret_value() if value is not None and value.get_secret_value() else None

    @property
    def missing_credentials(self) -> list[str]:
        """The environment variables of its required credentials that are unset."""
        required, _ = CREDENTIALS[self.channel]
        return [self.credential_env.get(key, f"{self.name}.{key}") for key in required if self.credential(key) is None]
