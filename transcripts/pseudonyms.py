"""Stable public pseudonyms for conversations: platform ids (a Telegram chat id, an X user id) identify people."""

from __future__ import annotations

import hashlib
import hmac
import re

PSEUDONYM_CHARS = 20
PSEUDONYM = re.compile(rf"^[0-9a-f]{{{PSEUDONYM_CHARS}}}$")


def pseudonym(key: str, conversation_id: str) -> str:
    """HMAC-SHA256 of the conversation id under the desk's key, shortened: the same id always gives the same one."""
    digest = hmac.new(key.encode("utf-8"), conversation_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_CHARS]
