"""The desk's one settings object: environment variables (prefix CITYDESK_) or a git-ignored .env file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from desk.secrets import load_or_create_secret
from handoff.directory import DEFAULT_DIRECTORY_FILE
from knowledge_base.embedder import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_KB_FILE = PROJECT_ROOT / "knowledge_base" / "demo" / "demo_kb.jsonl"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYDESK_", env_file=PROJECT_ROOT / ".env",
                                      extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="Local state: database, logs.")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CITYDESK_DATABASE_URL"),
        description="SQLAlchemy URL; default: SQLite file citydesk.db in the data folder.")
    embedding_model: str = Field(default=DEFAULT_MODEL,
                                 description="sentence-transformers model name or folder, loaded offline.")
    answer_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Confidence at or above which the knowledge base answers; unset: the threshold calibrated "
                    "on the knowledge base for target_precision (recalibrated when entries change).")
    target_precision: float = Field(default=0.97, gt=0.0, lt=1.0,
                                    description="Share of automatic answers that must be right, which the "
                                                "answer threshold is calibrated for.")
    unanswerable_share: float = Field(default=0.3, ge=0.0, lt=1.0,
                                      description="Share of citizens' questions that no entry answers, "
                                                  "assumed when calibrating the threshold.")
    seed_kb_file: Path | None = Field(default=None,
                                      description="Entries loaded at start when the knowledge base is empty.")
    host: str = "127.0.0.1"
    desk_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_timeout_s: float = Field(default=30.0, description="How long the web chat waits for Rasa.")
    city_name: str = "Alderbrook"
    city_timezone: str = Field(default="America/New_York", description="Deadlines are computed in this zone.")
    directory_file: Path = Field(default=DEFAULT_DIRECTORY_FILE,
                                 description="Departments and service categories (YAML).")
    # 0.25: at 0.35 a city question the knowledge base does not cover was dismissed more often than an
    # off-topic message was caught (measured with `citydesk bot eval`; README, conversation-level evaluation)
    out_of_scope_below: float = Field(default=0.25, ge=0.0, le=1.0,
                                      description="Below this knowledge base confidence, and with no service "
                                                  "category, a message is not the city's business.")
    rasa_venv: Path = Field(default=PROJECT_ROOT / ".venv-rasa",
                            description="Python 3.10 environment with Rasa and the action server.")
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Trained Rasa models.")
    startup_timeout_s: float = Field(default=240.0, description="How long `serve` waits for each process.")
    internal_token: SecretStr | None = Field(
        default=None, description="What our own processes send to the internal API (Authorization: Bearer); "
                                  "default: generated once into internal_token in the data folder.")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs the staff inbox's session cookies; "
                                  "default: generated once into secret_key in the data folder.")
    secure_cookies: bool = Field(default=False, description="Send the inbox's session cookie over HTTPS only "
                                                            "(set it when the desk is served behind TLS).")
    escalation_interval_s: float = Field(default=60.0, gt=0,
                                         description="How often the desk escalates overdue cases.")
    open311_api_keys: SecretStr = Field(
        default=SecretStr(""), description="Comma-separated keys that may file Open311 service requests "
                                           "(POST); none: filing is disabled.")

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'citydesk.db').resolve()}"

    @property
    def internal_token_file(self) -> Path:
        return self.data_dir / "internal_token"

    @cached_property
    def resolved_internal_token(self) -> str:
        """The internal API's token: the setting, else the data folder's (created on first use)."""
        if self.internal_token is not None and self.internal_token.get_secret_value():
            return self.internal_token.get_secret_value()
        return load_or_create_secret(self.internal_token_file)

    @cached_property
    def resolved_secret_key(self) -> str:
        """The session-signing key: the setting, else the data folder's secret_key (created on first use)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        return load_or_create_secret(self.data_dir / "secret_key")

    @property
    def open311_keys(self) -> frozenset[str]:
        """The Open311 API keys, from the comma-separated setting; empty: filing requests is disabled."""
        return frozenset(k.strip() for k in self.open311_api_keys.get_secret_value().split(",") if k.strip())

    @property
    def rasa_executable(self) -> Path:
        return self.rasa_venv / "bin" / "rasa"

    @property
    def desk_url(self) -> str:
        return f"http://{self.host}:{self.desk_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_server_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"
