"""The burst detector's replay: a generated stream of a city's messages (a diurnal and weekly pattern, a mix of
topics whose shares wander from day to day, topics with their own hours), with injected bursts and without, run
through handoff/bursts.py's `signals` and `step` on a simulated clock, one check every 5 minutes as the desk's job.

Measured: the delay from each injected burst's first message to its alert, the bursts missed (no alert while it
lasted or within the hour after), alerts repeated within one burst, and false alerts (an alert on a topic without an
injected burst at that time) per simulated week. `citydesk bench bursts` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from handoff.bursts import BIN, BINS_PER_HOUR, Burst, BurstRule, TopicCounts, bins_needed, signals, step

BINS_PER_DAY = 24 * BINS_PER_HOUR
# the share of the day's messages per hour of the day (city time): quiet nights, a morning peak, a lighter evening
DIURNAL = np.array([0.2, 0.15, 0.12, 0.12, 0.15, 0.25, 0.45, 0.8, 1.4, 1.7, 1.7, 1.6,
                    1.4, 1.4, 1.5, 1.5, 1.4, 1.3, 1.2, 1.15, 1.1, 0.9, 0.6, 0.35])
WEEKLY = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.65, 0.6])  # Monday first
NIGHT = np.array([2.5 if hour >= 21 or hour < 3 else 0.8 for hour in range(24)])  # noise, parties
COMMUTE = np.array([2.2 if hour in (7, 8, 16, 17) else 0.8 for hour in range(24)])  # buses, traffic lights
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class StreamSpec:
    """The generated stream: how many messages a day, how many topics, the bursts."""

    weeks: int = 4
    daily: float = 1000.0  # messages a day, on average (a quarter without a topic: small talk, status questions)
    topics: int = 50
    zipf: float = 0.8  # topic shares ∝ rank^-zipf: the largest about 9 %
    day_wander: float = 0.15  # coefficient of variation of a day's volume
    share_wander: float = 0.25  # ... and of a topic's share on a day
    bursts_per_week: float = 5.0
    burst_rate: tuple[float, float] = (20.0, 40.0)  # messages an hour
    burst_hours: tuple[float, float] = (0.75, 3.0)
    new_topic_share: float = 0.5  # bursts of a topic never seen before (a water main); the rest on a known topic
    warmup_days: int = 15  # before the measured weeks: the baseline


@dataclass(frozen=True)
class InjectedBurst:
    topic: str
    start: datetime
    end: datetime
    rate: float
    messages: int


@dataclass
class Stream:
    """Counts per topic per 5-minute bin from `start`, the messages of every kind per bin, the injected bursts."""

    start: datetime
    topics: dict[str, np.ndarray]
    total: np.ndarray
    bursts: list[InjectedBurst] = field(default_factory=list)

    @property
    def bins(self) -> int:
        return len(self.total)


def _gamma(rng: np.random.Generator, cv: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Multipliers of mean 1 and coefficient of variation `cv`."""
    shape = 1.0 / (cv * cv)
    return rng.gamma(shape, 1.0 / shape, size=size)


def generate(spec: StreamSpec, *, seed: int, with_bursts: bool) -> Stream:
    """The stream: the same background for a seed, with or without the bursts."""
    rng = np.random.default_rng(seed)
    days = spec.warmup_days + 7 * spec.weeks
    bins = days * BINS_PER_DAY
    shares = 1.0 / np.arange(1, spec.topics + 1) ** spec.zipf
    shares = 0.75 * shares / shares.sum()
    own_hours = rng.choice(3, size=spec.topics, p=[0.8, 0.1, 0.1])  # 0: the city's hours, 1: nights, 2: commutes
    hour_of_bin = (np.arange(BINS_PER_DAY) // BINS_PER_HOUR)
    diurnal = DIURNAL[hour_of_bin] / DIURNAL.mean()
    day_volume = spec.daily * WEEKLY[np.arange(days) % 7] / WEEKLY.mean() * _gamma(rng, spec.day_wander, days)
    share_of_day = shares[:, None] * _gamma(rng, spec.share_wander, (spec.topics, days))
    counts = np.zeros((spec.topics, bins), dtype=np.int64)
    for index in range(spec.topics):
        profile = diurnal * (np.ones(24), NIGHT, COMMUTE)[own_hours[index]][hour_of_bin]
        profile = profile / profile.mean()
        rate = (day_volume * share_of_day[index])[:, None] * profile[None, :] / BINS_PER_DAY
        counts[index] = rng.poisson(rate.reshape(-1))
    untopical = rng.poisson(np.repeat(day_volume * 0.25, BINS_PER_DAY) * np.tile(diurnal, days) / BINS_PER_DAY)
    topics = {f"topic-{index + 1}": counts[index] for index in range(spec.topics)}
    stream = Stream(start=START, topics=topics, total=counts.sum(axis=0) + untopical)
    if with_bursts:
        _inject(stream, spec, rng)
    return stream


def _inject(stream: Stream, spec: StreamSpec, rng: np.random.Generator) -> None:
    measured_from = spec.warmup_days * 24.0
    hours = 7 * 24.0 * spec.weeks
    count = rng.poisson(spec.bursts_per_week * spec.weeks)
    for number in range(count):
        start_h = measured_from + rng.uniform(0, hours - spec.burst_hours[1] - 1)
        if rng.random() < spec.new_topic_share:
            topic = f"new-{number + 1}"
        else:
            topic = f"topic-{rng.integers(1, spec.topics + 1)}"
        # two bursts of one topic at once would be one burst: keep them apart
        if any(b.topic == topic and abs((b.start - stream.start).total_seconds() / 3600 - start_h) < 8
               for b in stream.bursts):
            continue
        rate = rng.uniform(*spec.burst_rate)
        length = rng.uniform(*spec.burst_hours)
        arrivals = start_h + np.sort(rng.uniform(0, length, size=rng.poisson(rate * length)))
        series = stream.topics.setdefault(topic, np.zeros(stream.bins, dtype=np.int64))
        positions = (arrivals * BINS_PER_HOUR).astype(np.int64)
        np.add.at(series, positions, 1)
        np.add.at(stream.total, positions, 1)
        begin = stream.start + timedelta(hours=float(arrivals[0]) if len(arrivals) else start_h)
        stream.bursts.append(InjectedBurst(topic=topic, start=begin, end=stream.start + timedelta(
            hours=start_h + length), rate=round(rate, 1), messages=len(arrivals)))


@dataclass
class Alert:
    topic: str
    at: datetime


def replay(stream: Stream, spec: StreamSpec, rule: BurstRule = BurstRule()) -> list[Alert]:
    """Every alert the detector sends over the measured weeks, one check at the end of each 5-minute bin."""
    window = bins_needed(rule)
    days = rule.baseline.days
    active: list[Burst] = []
    alerts = []
    for end in range(spec.warmup_days * BINS_PER_DAY, stream.bins + 1):
        now = stream.start + BIN * end
        first = end - window
        going_on = {burst.topic for burst in active}
        recent = {topic: series[first:end] for topic, series in stream.topics.items()
                  if topic in going_on or series[end - BINS_PER_HOUR:end].sum() >= rule.min_count}
        spans = [slice(first - day * BINS_PER_DAY, end - day * BINS_PER_DAY) for day in range(1, days + 1)]
        counts = TopicCounts(
            bins=recent, total=stream.total[first:end],
            usual={topic: np.sum([stream.topics[topic][span] for span in spans], axis=0) for topic in recent},
            usual_total=np.sum([stream.total[span] for span in spans], axis=0))
        result = step(active, signals(counts, rule, going_on=going_on), now=now, rule=rule)
        active = [burst for burst in [*active, *result.began] if burst.ended_at is None]
        alerts += [Alert(topic=burst.topic, at=now) for burst in result.began]
    return alerts


@dataclass(frozen=True)
class Outcome:
    """The figures of one replay."""

    weeks: int
    bursts: int
    detected_within_30_min: int
    missed: int
    delays_min: list[float]
    repeats: int
    false_alerts: int

    def as_dict(self) -> dict[str, Any]:
        delays = sorted(self.delays_min)
        return {"weeks": self.weeks, "bursts": self.bursts, "detected_within_30_min": self.detected_within_30_min,
                "missed": self.missed, "repeat_alerts": self.repeats, "false_alerts": self.false_alerts,
                "false_alerts_per_week": round(self.false_alerts / self.weeks, 2),
                "delay_min_median": round(float(np.median(delays)), 1) if delays else None,
                "delay_min_max": round(delays[-1], 1) if delays else None,
                "delays_min": [round(d, 1) for d in self.delays_min]}


def score(stream: Stream, alerts: Sequence[Alert], spec: StreamSpec, rule: BurstRule = BurstRule()) -> Outcome:
    """Match alerts to injected bursts: an alert on the burst's topic from its first message to `end_after` past
    its end is the burst's (the first one its detection, any other a repeat); every other alert is false."""
    claimed: set[int] = set()
    delays: list[float] = []
    repeats = missed = 0
    for burst in stream.bursts:
        mine = [index for index, alert in enumerate(alerts) if alert.topic == burst.topic
                and burst.start <= alert.at <= burst.end + rule.end_after]
        claimed.update(mine)
        if not mine:
            missed += 1
            continue
        delays.append((alerts[mine[0]].at - burst.start).total_seconds() / 60)
        repeats += len(mine) - 1
    return Outcome(weeks=spec.weeks, bursts=len(stream.bursts),
                   detected_within_30_min=sum(1 for d in delays if d <= 30), missed=missed, delays_min=delays,
                   repeats=repeats, false_alerts=len(alerts) - len(claimed))


def run(spec: StreamSpec, *, seed: int, rule: BurstRule = BurstRule()) -> dict[str, Any]:
    """Replay one seed's stream with the bursts and without: the figures of each."""
    with_bursts = generate(spec, seed=seed, with_bursts=True)
    without = generate(spec, seed=seed, with_bursts=False)
    return {"seed": seed,
            "with_bursts": score(with_bursts, replay(with_bursts, spec, rule), spec, rule).as_dict(),
            "without_bursts": score(without, replay(without, spec, rule), spec, rule).as_dict(),
            "messages_per_week": round(float(without.total.sum()) / (spec.weeks + spec.warmup_days / 7), 0)}


def summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The runs of several seeds together: bursts, detected within 30 minutes, missed, delays, false alerts."""
    delays = sorted(d for one in runs for d in one["with_bursts"]["delays_min"])
    weeks = sum(one["with_bursts"]["weeks"] + one["without_bursts"]["weeks"] for one in runs)
    false = sum(one["with_bursts"]["false_alerts"] + one["without_bursts"]["false_alerts"] for one in runs)
    return {"seeds": [one["seed"] for one in runs],
            **{key: sum(one["with_bursts"][key] for one in runs)
               for key in ("bursts", "detected_within_30_min", "missed", "repeat_alerts")},
            "delay_min_median": round(float(np.median(delays)), 1) if delays else None,
            "delay_min_p90": round(float(np.percentile(delays, 90)), 1) if delays else None,
            "delay_min_max": round(delays[-1], 1) if delays else None,
            "false_alerts_per_week": round(false / weeks, 2) if weeks else None,
            "worst_false_alerts_per_week": max(
                (max(one["with_bursts"]["false_alerts_per_week"], one["without_bursts"]["false_alerts_per_week"])
                 for one in runs), default=None)}
