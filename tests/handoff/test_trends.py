"""Hot and cold topics and keywords of a period against the four periods before it, from what the topic job stored
(a real embedder for the clusters, a real SQLite file), and the keywords of a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.models import MessageDecision
from handoff.report import build_report, period_for
from handoff.topics import TopicJob, keywords

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def messages(sessions, weekly: dict[str, list[int]], texts: dict[str, str]) -> None:
    """For each entry, its answered messages per week (this week first, then the four before), spread over each
    week; the message's text is texts[entry]."""
    with sessions.begin() as session:
        for entry, counts in weekly.items():
            for week, count in enumerate(counts):
                for number in range(count):
                    at = NOW - timedelta(days=7 * week) - timedelta(hours=1 + number * 160 / max(count, 1))
                    session.add(MessageDecision(at=at, channel="web", conversation_id=f"{entry}-{week}-{number}",
                                                text=texts[entry], intent=None, route="answer", reason="test",
                                                entry_id=entry, confidence=0.9, case_id=None))


def test_a_topic_far_above_its_four_weeks_is_hot_one_far_below_cold_a_steady_one_neither(sessions, embedder):
    messages(sessions, {"sandbags": [24, 3, 4, 2, 3], "leaf-pickup": [2, 20, 22, 19, 21],
                        "parking": [11, 10, 9, 12, 10]},
             {"sandbags": "Where can I get sandbags before the flooding?", "leaf-pickup": "When is leaf pickup?",
              "parking": "Parking permit renewal"})
    TopicJob(sessions, embed=embedder.embed, redact=str).run(now=NOW)
    report = build_report(sessions, period=period_for(now=NOW, period="week"), now=NOW)
    [hot] = report["rising_topics"]
    assert (hot["topic"], hot["count"], hot["previous"], hot["baseline"]) == ("entry:sandbags", 24, 3, 3.0)
    assert hot["p_value"] < 1e-6
    [cold] = report["falling_topics"]
    assert (cold["topic"], cold["count"], cold["baseline"]) == ("entry:leaf-pickup", 2, 20.5)
    assert [t["topic"] for t in report["top_topics"]] == ["entry:sandbags", "entry:parking", "entry:leaf-pickup"]
    hot_words = [k["topic"] for k in report["hot_keywords"]]
    assert "sandbags" in hot_words and "flooding" in hot_words and "parking" not in hot_words
    assert {"leaf", "pickup"} <= {k["topic"] for k in report["cold_keywords"]}


def test_the_job_reads_each_message_once(sessions, embedder):
    messages(sessions, {"parking": [3, 0, 0, 0, 0]}, {"parking": "Parking permit renewal"})
    job = TopicJob(sessions, embed=embedder.embed, redact=str)
    assert job.run(now=NOW) == 3
    assert job.run(now=NOW) == 0
    report = build_report(sessions, period=period_for(now=NOW, period="week"), now=NOW)
    assert report["top_topics"] == [{"topic": "entry:parking", "label": "parking", "count": 3, "previous": 0}]


def test_keywords_leave_out_stop_words_numbers_and_redaction_marks():
    assert keywords("The water main on Elm St. burst!! Call me at [PHONE], it's flooding 2 houses") == [
        "water", "main", "elm", "burst", "flooding", "houses"]


def test_two_jobs_at_once_give_each_message_one_topic(sessions, embedder):
    """Two desk workers' jobs on one database: the one that loses the race rolls its batch back."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from handoff.trend_models import MessageTopic, TopicKind

    messages(sessions, {"parking": [40, 0, 0, 0, 0]}, {"parking": "Parking permit renewal"})
    jobs = [TopicJob(sessions, embed=embedder.embed, redact=str) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda job: job.run(now=NOW), jobs))
    assert sorted(done) == [0, 40]
    with sessions() as session:
        per_message = session.execute(select(MessageTopic.decision_id, func.count())
                                      .where(MessageTopic.kind == TopicKind.TOPIC.value)
                                      .group_by(MessageTopic.decision_id)).all()
    assert len(per_message) == 40 and {count for _, count in per_message} == {1}
