"""The reports page's charts, drawn by matplotlib as SVG on the server.

matplotlib's SVG carries style attributes, which the desk's Content-Security-Policy forbids in a page: each chart is
its own image/svg+xml response that the page shows with <img src> (img-src 'self').
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "citydesk", "font.size": 9})

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

SIZE = (7.0, 2.8)


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def volume_chart(days: Sequence[dict[str, Any]]) -> bytes:
    """Messages received per day, and those the assistant handled without staff."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    labels = [day["day"][5:] for day in days]
    axes.bar(labels, [day["received"] for day in days], color="#9db4d0", label="received")
    axes.bar(labels, [day["without_staff"] for day in days], color="#2b5c8a", label="handled without staff")
    axes.set_title("Messages per day")
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=45 if len(days) > 10 else 0)
    return _svg(figure)


def response_chart(rows: Sequence[dict[str, Any]]) -> bytes:
    """Median and 90th-percentile first response per deadline class, against the time the deadline allowed."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    labels = [row["sla"] for row in rows]
    positions = range(len(rows))
    width = 0.27
    for shift, key, label, color in ((-width, "first_response_p50_hours", "median first response", "#2b5c8a"),
                                     (0.0, "first_response_p90_hours", "90th percentile", "#9db4d0"),
                                     (width, "deadline_hours", "deadline", "#c0392b")):
        axes.bar([p + shift for p in positions], [row[key] or 0 for row in rows], width, label=label, color=color)
    axes.set_xticks(list(positions), labels)
    axes.set_ylabel("hours")
    axes.set_title("Response time against the deadline")
    axes.legend(loc="upper left")
    return _svg(figure)


def delay_chart(departments: dict[str, dict[str, Any]]) -> bytes:
    """The delay rate of each department, in per cent."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    codes = list(departments)
    rates = [100 * (departments[code]["delay_rate"] or 0) for code in codes]
    axes.barh(codes, rates, color="#c0392b")
    axes.set_xlabel("% of counted cases late")
    axes.set_xlim(0, 100)
    axes.set_title("Delay rate per department")
    return _svg(figure)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topics_chart(topics: Sequence[dict[str, Any]]) -> bytes:
    """The most frequent topics: service categories, knowledge base topics, clusters of unanswered messages."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    names = [_short(topic.get("label") or topic["topic"]) for topic in reversed(topics)]
    axes.barh(names, [topic["count"] for topic in reversed(topics)], color="#2b5c8a")
    axes.set_title("Top topics")
    return _svg(figure)
