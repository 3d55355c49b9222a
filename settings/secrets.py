"""Secrets kept in the data folder: read one, or create it once (mode 600) when it does not exist yet."""

from __future__ import annotations

import contextlib
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
