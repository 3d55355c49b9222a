"""An alert's words on each channel: Telegram (one message of at most 4,096 characters), X (a thread of posts of at
most 280), the web banner (one short line). Exercises say so first, everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from broadcasts.models import Alert, MsgType

TELEGRAM_MAX_CHARS = 4096
X_MAX_CHARS = 280
BANNER_MAX_CHARS = 200
EXERCISE = "EXERCISE"
EXERCISE_NOTE = "This is an exercise: no action is needed."


@dataclass(frozen=True)
class Preview:
    telegram: str
    x: list[str]
    web: str


def _label(alert: Alert, original: Alert | None) -> str:
    parts = [f"[{EXERCISE}]"] if alert.exercise else []
    if alert.msg_type == MsgType.UPDATE and original is not None:
        parts.append(f"UPDATE to the alert of {original.drafted_at:%d %b %H:%M} UTC:")
    elif alert.msg_type == MsgType.CANCEL and original is not None:
        parts.append(f"CANCELLED: the alert of {original.drafted_at:%d %b %H:%M} UTC ({original.headline}) "
                     "is withdrawn.")
    return " ".join(parts)


def _until(alert: Alert, timezone: str) -> str:
    return alert.expires_at.astimezone(ZoneInfo(timezone)).strftime("%d %b %H:%M")


def telegram_text(alert: Alert, original: Alert | None, *, link: str, timezone: str) -> str:
    head = " ".join(p for p in (_label(alert, original), alert.headline) if p)
    tail = [f"Until {_until(alert, timezone)}. {link}"]
    if alert.exercise:
        tail.insert(0, EXERCISE_NOTE)
    body = "\n\n".join(p for p in (alert.description.strip(), alert.instruction.strip()) if p)
    fixed = len(head) + len("\n\n".join(tail)) + 4
    if len(body) > TELEGRAM_MAX_CHARS - fixed:
        body = body[:TELEGRAM_MAX_CHARS - fixed - 1].rstrip() + "…"
    return "\n\n".join(p for p in (head, body, *tail) if p)


def x_thread(alert: Alert, original: Alert | None, *, link: str, timezone: str) -> list[str]:
    """The posts of a thread, numbered when there is more than one; the link and expiry in the last."""
    text = " ".join(p for p in (_label(alert, original), alert.headline + ".", alert.description.strip(),
                                alert.instruction.strip(), EXERCISE_NOTE if alert.exercise else "",
                                f"Until {_until(alert, timezone)}.") if p)
    room = X_MAX_CHARS - len(" (10/10)")
    words, posts, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) > room and current:
            posts.append(current)
            current = word[:room]
        else:
            current = candidate[:room]
    if current:
        posts.append(current)
    # a link counts as 23 characters on X whatever its length; it goes last, in a post of its own if needed
    if len(posts[-1]) + 1 + 23 <= room:
        posts[-1] = f"{posts[-1]} {link}"
    else:
        posts.append(link)
    if len(posts) > 1:
        posts = [f"{post} ({index}/{len(posts)})" for index, post in enumerate(posts, 1)]
    return posts


def banner_text(alert: Alert, original: Alert | None) -> str:
    text = " ".join(p for p in (_label(alert, original), alert.headline) if p)
    if alert.area and alert.area.lower() not in text.lower():
        text += f" ({alert.area})"
    return text if len(text) <= BANNER_MAX_CHARS else text[:BANNER_MAX_CHARS - 1] + "…"


def preview(alert: Alert, original: Alert | None, *, link: str, timezone: str) -> Preview:
    return Preview(telegram=telegram_text(alert, original, link=link, timezone=timezone),
                   x=x_thread(alert, original, link=link, timezone=timezone), web=banner_text(alert, original))

THREAD_SEPARATOR = "\n\u241e\n"  # between the posts of an X thread in one outbox row (the X sender splits on it)
