"""The burst detector: a topic whose volume in the last hour is far above its usual level (a flood, a water main, a
bus strike). Pure code over counts per 5-minute bin, so that the desk's scheduled job (handoff/burst_alerts.py,
counts from the database) and the replay (handoff/burst_replay.py, a generated stream on a simulated clock) run the
very same detection.

The statistic is a Poisson CUSUM per topic (Page's cumulative sum, the quickest detector of a rate change of a known
size): each bin adds x·ln((λ0+δ)/λ0) - δ, where x is the topic's count in the bin, λ0 its expected count and δ the
smallest burst worth an alert (20 messages an hour, the issue's). A burst is signalled when the sum reaches
`threshold` and the topic had at least `min_count` messages in the last hour.

The expected count λ0 follows the traffic of the moment: the topic's usual share of the messages at that hour of
the day (the same bins of the baseline days) times the other topics' messages of the last hour. The diurnal and
weekly pattern, holidays and a slow day cancel out, and so do topics with hours of their own (noise at night, buses
at rush hour); a topic rising against the rest does not. A topic's share also wanders from day to day more than a
Poisson count would, so λ0 is scaled by today's level of it, estimated from the hours before the last one (a
Poisson-gamma posterior: a topic with few messages today keeps its usual share), and raised by that estimate's
uncertainty: the busy topics, whose wander outgrows their Poisson noise, get a tight baseline from their own
messages; the quiet ones the prior's width.

A desk without a baseline (a new one) would find any handful of messages far above its usual share: until the
baseline holds `min_baseline` messages in the bins read, a burst needs the smallest size worth an alert itself.

The sum is recomputed over `lookback` bins at each check rather than carried from check to check: no state to lose
at a restart; it equals the running sum whenever the sum touched zero within the lookback (quiet topics do at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np

BIN = timedelta(minutes=5)
Counts = Sequence[int] | np.ndarray  # per bin
BINS_PER_HOUR = 12


@dataclass(frozen=True)
class BurstRule:
    """The detector's settings (README, *Burst alerts*, says how they were chosen)."""

    burst_per_hour: float = 20.0  # δ: the smallest burst worth an alert
    threshold: float = 10.0  # h: the CUSUM level that signals
    min_count: int = 5  # messages of the topic in the last hour, at least
    share_prior: float = 16.0  # a: a day's share of a topic wanders as Gamma(a, a) about its usual (CV 1/√a = 0.25)
    tolerance_z: float = 2.0  # λ0 raised by this many of today's level's standard errors (1 + z/√(a + seen))
    floor_per_hour: float = 0.1  # λ0 never below this (a topic new or silent in the baseline)
    lookback_bins: int = 48  # 4 hours of 5-minute bins
    level_bins: int = 48  # today's level of a topic's share: from this many bins before the last hour
    min_baseline: int = 100  # messages in the baseline's bins, at least; below (a new desk) a burst needs δ itself
    baseline: timedelta = timedelta(days=14)
    end_after: timedelta = timedelta(hours=1)  # a burst is over after this long without a signal


@dataclass(frozen=True)
class TopicCounts:
    """What the detector reads at one check, per 5-minute bin over the lookback plus the hour before it (oldest
    first, the last bin ends now): each topic's counts, and the messages of every kind (`total`); and the same
    bins of the day summed over the baseline days (`usual`, `usual_total`)."""

    bins: Mapping[str, Counts]
    total: Counts
    usual: Mapping[str, Counts]
    usual_total: Counts


@dataclass(frozen=True)
class Signal:
    """A topic above its usual level now: the CUSUM, its last hour's count and what was expected of it. `starts`:
    enough messages in the last hour to begin a burst (a burst going on continues without)."""

    topic: str
    score: float
    last_hour: int
    expected_last_hour: float
    starts: bool


def _trailing_hour(values: np.ndarray) -> np.ndarray:
    return np.convolve(values.astype(np.float64), np.ones(BINS_PER_HOUR), mode="full")[: len(values)]


def expected_per_bin(topic_bins: np.ndarray, total_bins: np.ndarray, usual_bins: np.ndarray,
                     usual_total: np.ndarray, *, rule: BurstRule, going_on: bool = False) -> np.ndarray:
    """λ0 per bin: the other topics' messages of the trailing hour times the topic's usual share of them at that
    hour of the day, times today's level of that share (from the hours before the last one), raised by its
    uncertainty."""
    others = _trailing_hour(np.maximum(total_bins - topic_bins, 0))
    share = (_trailing_hour(usual_bins) + 1) / (_trailing_hour(np.maximum(usual_total - usual_bins, 0)) + 1)
    usual = others * share
    level, tolerance = todays_level(topic_bins, usual, rule=rule)
    if going_on:  # the burst itself would raise today's level and end the burst it is part of
        level, tolerance = min(level, 1.0), 1.0 + rule.tolerance_z / np.sqrt(rule.share_prior)
    return np.maximum(usual * level * tolerance, rule.floor_per_hour) / BINS_PER_HOUR


def todays_level(topic_bins: np.ndarray, usual: np.ndarray, *, rule: BurstRule) -> tuple[float, float]:
    """Today's share against the usual one, and the factor that covers its uncertainty: the Poisson-gamma posterior
    mean over the bins before the last hour (seen against expected) under the prior Gamma(a, a), a = `share_prior`
    (the day-to-day wander), so that a topic with few messages earlier today keeps its usual share and the prior's
    width."""
    last_hour = len(topic_bins) - BINS_PER_HOUR
    earlier = slice(max(last_hour - rule.level_bins, 0), max(last_hour, 0))
    seen = float(topic_bins[earlier].sum())
    expected = float(usual[earlier].sum()) / BINS_PER_HOUR
    alpha = rule.share_prior
    return (alpha + seen) / (alpha + expected), 1.0 + rule.tolerance_z / float(np.sqrt(alpha + seen))


def cusum(counts: np.ndarray, expected: np.ndarray, *, rule: BurstRule) -> float:
    """Page's Poisson CUSUM over the bins, against a rise of `burst_per_hour`."""
    delta = rule.burst_per_hour / BINS_PER_HOUR
    weights = np.log((expected + delta) / expected)
    score = 0.0
    for count, weight in zip(counts.tolist(), weights.tolist(), strict=True):
        score = max(0.0, score + count * weight - delta)
    return score


def signals(counts: TopicCounts, rule: BurstRule = BurstRule(), *, going_on: Iterable[str] = ()) -> list[Signal]:
    """The topics above their usual level at the check, highest score first; those of `going_on` (the active
    bursts) are scored whatever their last hour's count."""
    going_on = set(going_on)
    total = np.asarray(counts.total, dtype=np.int64)
    usual_total = np.asarray(counts.usual_total, dtype=np.int64)
    to_start = starting_count(usual_total, rule)
    found = []
    for topic, raw in counts.bins.items():
        bins = np.asarray(raw, dtype=np.int64)
        last_hour = int(bins[-BINS_PER_HOUR:].sum())
        if last_hour < rule.min_count and topic not in going_on:
            continue
        usual = np.asarray(counts.usual.get(topic, np.zeros(len(bins))), dtype=np.int64)
        expected = expected_per_bin(bins, total, usual, usual_total, rule=rule, going_on=topic in going_on)
        window = slice(max(len(bins) - rule.lookback_bins, 0), None)
        score = cusum(bins[window], expected[window], rule=rule)
        if score >= rule.threshold:
            found.append(Signal(topic=topic, score=round(score, 2), last_hour=last_hour,
                                expected_last_hour=round(float(expected[-BINS_PER_HOUR:].sum()), 2),
                                starts=last_hour >= to_start))
    found.sort(key=lambda s: (-s.score, s.topic))
    return found


def starting_count(usual_total: np.ndarray, rule: BurstRule) -> int:
    """The last hour's messages a burst needs to begin: `min_count`, or, on a baseline too thin to say what is
    usual (a new desk: a handful of messages is then far above any share), the smallest burst itself."""
    if int(usual_total.sum()) < rule.min_baseline:
        return max(rule.min_count, int(np.ceil(rule.burst_per_hour)))
    return rule.min_count


class BurstState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass
class Burst:
    """One burst of a topic: from its first signal to `end_after` past its last one."""

    topic: str
    started_at: datetime
    last_signal_at: datetime
    peak_last_hour: int
    expected_last_hour: float
    state: BurstState = BurstState.ACTIVE
    ended_at: datetime | None = None
    id: int | None = None


@dataclass
class Step:
    """What one check changed: bursts that began (each to be alerted, once), went on, or ended."""

    began: list[Burst] = field(default_factory=list)
    going_on: list[Burst] = field(default_factory=list)
    ended: list[Burst] = field(default_factory=list)


def step(active: Iterable[Burst], found: Sequence[Signal], *, now: datetime, rule: BurstRule = BurstRule()) -> Step:
    """Bursts after one check: a signal on a topic without an active burst begins one (the only moment to alert),
    when it has the messages to; on one with it, the burst goes on; an active burst `end_after` past its last
    signal is over."""
    result = Step()
    by_topic: dict[str, Burst] = {}
    for burst in active:
        if burst.state is not BurstState.ACTIVE:
            continue
        if now - burst.last_signal_at >= rule.end_after:  # over, whatever this check finds
            burst.state, burst.ended_at = BurstState.ENDED, now
            result.ended.append(burst)
        else:
            by_topic[burst.topic] = burst
    for signal in found:
        going = by_topic.pop(signal.topic, None)
        if going is None:
            if not signal.starts:
                continue
            result.began.append(Burst(topic=signal.topic, started_at=now, last_signal_at=now,
                                      peak_last_hour=signal.last_hour,
                                      expected_last_hour=signal.expected_last_hour))
            continue
        going.last_signal_at = now
        going.peak_last_hour = max(going.peak_last_hour, signal.last_hour)
        result.going_on.append(going)
    return result


def lookback_start(now: datetime, rule: BurstRule = BurstRule()) -> datetime:
    """Where a check's bins begin: the lookback and the hour before it (for the trailing rate), ending at `now`."""
    return now - BIN * bins_needed(rule)


def bins_needed(rule: BurstRule = BurstRule()) -> int:
    return max(rule.lookback_bins, rule.level_bins) + BINS_PER_HOUR
