"""Hot and cold topics and keywords of a period: counted with SQL from the stored topics (handoff/topics.py), each
against a baseline of the `BASELINE_PERIODS` periods before it (as long as it).

Hot: at least `MIN_COUNT` messages, at least `RATIO` times the baseline's mean, and a Poisson test against that
mean significant at `ALPHA` (the chance of a count this high, or higher, if nothing had changed). Cold: a baseline
mean of at least `MIN_COUNT`, at most 1/`RATIO` of it now, and the lower tail significant at `ALPHA`. A mean below
0.5 counts as 0.5 (a topic new this period is not infinitely surprising).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from scipy.stats import poisson
from sqlalchemy import case, func, select
from sqlalchemy.orm import sessionmaker

from handoff.models import Case, MessageDecision
from handoff.topics import labels
from handoff.trend_models import MessageTopic, TopicKind

BASELINE_PERIODS = 4
MIN_COUNT = 5
RATIO = 1.5
ALPHA = 0.01
TOP = 10


@dataclass(frozen=True)
class Trend:
    topic: str
    count: int
    previous: int  # the period just before
    baseline: float  # mean of the BASELINE_PERIODS before
    p_value: float

    def as_dict(self, label: str) -> dict[str, Any]:
        return {"topic": self.topic, "label": label, "count": self.count, "previous": self.previous,
                "change": self.count - self.previous, "baseline": round(self.baseline, 2),
                "p_value": float(f"{self.p_value:.3g}")}


def counts_by_period(sessions: sessionmaker, *, start: datetime, end: datetime, kind: TopicKind,
                     department: str | None = None, periods: int = BASELINE_PERIODS) -> dict[str, list[int]]:
    """Per topic: its count in [start, end), then in each of the `periods` as long before it (nearest first)."""
    length = end - start
    earliest = start - length * periods
    bucket = case(*((MessageTopic.at >= start - length * n, n) for n in range(periods + 1)), else_=-1)
    inner = (select(MessageTopic.topic.label("topic"), bucket.label("bucket"))
             .where(MessageTopic.kind == kind.value, MessageTopic.at >= earliest, MessageTopic.at < end))
    if department:
        inner = (inner.join(MessageDecision, MessageDecision.id == MessageTopic.decision_id)
                 .join(Case, Case.id == MessageDecision.case_id).where(Case.agency_responsible == department))
    rows = inner.subquery()  # grouped outside: PostgreSQL would not match the CASE's parameters in GROUP BY
    found: dict[str, list[int]] = {}
    with sessions() as session:
        for topic, index, count in session.execute(select(rows.c.topic, rows.c.bucket, func.count())
                                                   .group_by(rows.c.topic, rows.c.bucket)):
            if 0 <= index <= periods:
                found.setdefault(topic, [0] * (periods + 1))[index] += count
    return found


def _trend(topic: str, counts: Sequence[int]) -> Trend:
    baseline = sum(counts[1:]) / max(len(counts) - 1, 1)
    return Trend(topic=topic, count=counts[0], previous=counts[1] if len(counts) > 1 else 0, baseline=baseline,
                 p_value=1.0)


def _significance(trend: Trend) -> tuple[float, float, str]:
    return trend.p_value, -abs(trend.count - trend.baseline), trend.topic


def hot_and_cold(counts: dict[str, list[int]]) -> tuple[list[Trend], list[Trend]]:
    """The topics rising and falling significantly, most significant first."""
    hot, cold = [], []
    for topic, series in counts.items():
        trend = _trend(topic, series)
        mean = max(trend.baseline, 0.5)
        if trend.count >= MIN_COUNT and trend.count >= RATIO * mean:
            p_value = float(poisson.sf(trend.count - 1, mean))
            if p_value < ALPHA:
                hot.append(replace(trend, p_value=p_value))
        elif trend.baseline >= MIN_COUNT and trend.count * RATIO <= trend.baseline:
            p_value = float(poisson.cdf(trend.count, trend.baseline))
            if p_value < ALPHA:
                cold.append(replace(trend, p_value=p_value))
    return sorted(hot, key=_significance), sorted(cold, key=_significance)


def trends(sessions: sessionmaker, *, start: datetime, end: datetime, department: str | None = None) -> dict[str, Any]:
    """The report's topic and keyword keys: top, hot (rising) and cold (falling) of the period."""
    result: dict[str, Any] = {}
    for kind, top_key, hot_key, cold_key in ((TopicKind.TOPIC, "top_topics", "rising_topics", "falling_topics"),
                                             (TopicKind.KEYWORD, "top_keywords", "hot_keywords", "cold_keywords")):
        counts = counts_by_period(sessions, start=start, end=end, kind=kind, department=department)
        hot, cold = hot_and_cold(counts)
        top = sorted(((topic, series[0]) for topic, series in counts.items() if series[0]),
                     key=lambda item: (-item[1], item[0]))[:TOP]
        named = (labels(sessions, [t for t, _ in top] + [t.topic for t in hot[:TOP] + cold[:TOP]])
                 if kind is TopicKind.TOPIC else {})
        result[top_key] = [{"topic": topic, "label": named.get(topic, topic), "count": count,
                            "previous": counts[topic][1]} for topic, count in top]
        result[hot_key] = [trend.as_dict(named.get(trend.topic, trend.topic)) for trend in hot[:TOP]]
        result[cold_key] = [trend.as_dict(named.get(trend.topic, trend.topic)) for trend in cold[:TOP]]
    return result
