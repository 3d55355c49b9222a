"""The burst detector on counts per 5-minute bin: a topic far above its share signals, one at its usual share does
not, and each burst begins once, goes on while it lasts and ends an hour after its last signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from handoff.bursts import BurstRule, BurstState, TopicCounts, bins_needed, signals, step

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
RULE = BurstRule()


def counts(recent_topic: list[int], *, others_per_bin: int = 6, usual_share: float = 0.05) -> TopicCounts:
    size = bins_needed(RULE)
    topic = np.zeros(size, dtype=np.int64)
    topic[-len(recent_topic):] = recent_topic
    total = topic + others_per_bin
    days = 14
    usual_total = np.full(size, others_per_bin * days)
    return TopicCounts(bins={"service:flooding": topic}, total=total,
                       usual={"service:flooding": np.round(usual_total * usual_share).astype(np.int64)},
                       usual_total=usual_total)


def test_a_topic_far_above_its_usual_share_signals():
    # 72 other messages an hour, the topic usually 5 % of them (about 4 an hour): 24 in the last 40 minutes
    found = signals(counts([3] * 8))
    assert [s.topic for s in found] == ["service:flooding"]
    assert found[0].last_hour == 24 and found[0].starts
    assert 3 < found[0].expected_last_hour < 7


def test_a_topic_at_its_usual_share_does_not():
    rng = np.random.default_rng(5)
    assert signals(counts(list(rng.poisson(72 * 0.05 / 12, size=bins_needed(RULE))))) == []


def test_a_few_messages_do_not_begin_a_burst_however_rare_the_topic():
    assert all(not s.starts for s in signals(counts([0] * 11 + [4], usual_share=0.0)))
    assert signals(counts([0] * 11 + [4], usual_share=0.0)) == []


def test_each_burst_begins_once_and_a_later_one_alerts_again():
    found = signals(counts([3] * 8))
    first = step([], found, now=NOW)
    assert [b.topic for b in first.began] == ["service:flooding"]
    burst = first.began[0]
    later = step([burst], found, now=NOW + timedelta(minutes=5))
    assert later.began == [] and later.going_on == [burst]
    quiet = step([burst], [], now=NOW + timedelta(minutes=50))
    assert quiet.ended == [] and burst.state is BurstState.ACTIVE
    over = step([burst], [], now=NOW + timedelta(minutes=65))
    assert over.ended == [burst] and burst.state is BurstState.ENDED
    again = step([burst], found, now=NOW + timedelta(hours=3))
    assert [b.topic for b in again.began] == ["service:flooding"]


def cold(recent_topic: list[int], *, baseline_per_bin: int = 0) -> TopicCounts:
    """A new desk: the topic's messages and little else, and a baseline of `baseline_per_bin` messages a bin."""
    size = bins_needed(RULE)
    topic = np.zeros(size, dtype=np.int64)
    topic[-len(recent_topic):] = recent_topic
    usual_total = np.full(size, baseline_per_bin)
    return TopicCounts(bins={"service:flooding": topic}, total=topic, usual={}, usual_total=usual_total)


def test_a_new_desk_needs_a_burst_of_the_smallest_size_to_alert():
    # no baseline: 5 or 19 messages of one topic in an hour are far above any share, but not yet a burst
    assert not any(s.starts for s in signals(cold([1] * 5)))
    assert not any(s.starts for s in signals(cold([2] * 9 + [1])))
    found = signals(cold([2] * 10))
    assert [s.topic for s in found] == ["service:flooding"] and found[0].starts and found[0].last_hour == 20


def test_once_the_baseline_holds_enough_messages_the_usual_minimum_applies():
    # 2 messages a bin over the 14 baseline days' 5 hours (120 in all): a topic never seen, 6 in 20 minutes
    found = signals(cold([0] * 8 + [2, 2, 1, 1], baseline_per_bin=2))
    assert [s.topic for s in found] == ["service:flooding"] and found[0].starts
