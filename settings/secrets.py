"""Secrets kept in the data folder: read one, or create it once (mode 600) when it does not exist yet."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def read_secret(path: Path) -> str | None:
    """The secret stored at `path`, or None when there is none yet."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def load_or_create_secret(path: Path, nbytes: int = SECRET_BYTES) -> str:
    """The secret stored at `path`; a new random one, readable only by its owner, if there is none.

    Safe when several processes start at once: the secret is written to a private file first and then
    linked into place, which fails if another process got there first; then the other's secret is used.
    """
    existing = read_secret(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(nbytes) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: its secret wins
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    value = read_secret(path)
    if value is None:
        raise RuntimeError(f"{path} is empty: delete it and a new secret is created")
    return value


CONVERSATION_TOKEN_PREFIX = "c1"
_CONVERSATION_TOKEN_LABEL = b"citydesk conversation token\0"


def conversation_token(key: str, conversation_id: str) -> str:
    """A desk token that speaks for one conversation only: ``c1.<conversation id, base64url>.<HMAC-SHA256>``.

    The desk gives it to Rasa with each message (the pipeline's metadata); the actions send it back, and the desk
    lets it act on that conversation and no other (desk/api/internal_auth.py). `key` is the internal token: whoever
    holds that may mint these, nobody else can.
    """
    encoded = base64.urlsafe_b64encode(conversation_id.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{CONVERSATION_TOKEN_PREFIX}.{encoded}.{_mac(key, conversation_id)}"


def conversation_of_token(key: str, token: str) -> str | None:
    """The conversation a token of `conversation_token` speaks for; None when it is not one, or forged."""
    prefix, _, rest = token.partition(".")
    encoded, _, mac = rest.partition(".")
    if prefix != CONVERSATION_TOKEN_PREFIX or not encoded or not mac:
        return None
    try:
        conversation_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    return conversation_id if hmac.compare_digest(mac, _mac(key, conversation_id)) else None


def _mac(key: str, conversation_id: str) -> str:
    digest = hmac.new(key.encode("utf-8"), _CONVERSATION_TOKEN_LABEL + conversation_id.encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
