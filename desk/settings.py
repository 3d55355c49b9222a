"""The desk's one settings object: environment variables (prefix CITYDESK_) or a git-ignored .env file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    answer_threshold: float = Field(default=0.6, ge=0.0, le=1.0,
                                    description="Confidence at or above which the knowledge base answers.")
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
    out_of_scope_below: float = Field(default=0.35, ge=0.0, le=1.0,
                                      description="Below this knowledge base confidence, and with no service "
                                                  "category, a message is not the city's business.")
    rasa_venv: Path = Field(default=PROJECT_ROOT / ".venv-rasa",
                            description="Python 3.10 environment with Rasa and the action server.")
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Trained Rasa models.")
    startup_timeout_s: float = Field(default=240.0, description="How long `serve` waits for each process.")

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'citydesk.db').resolve()}"

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
