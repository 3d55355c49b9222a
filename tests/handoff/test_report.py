"""The report's figures against a week of traffic counted by hand (tests/handoff/report_traffic.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from handoff.report import OUTCOMES, build_report, cases_behind, period_for
from handoff.topics import TopicJob
from tests.handoff import report_traffic as traffic


@pytest.fixture
def report(sessions):
    traffic.seed(sessions)
    return build_report(sessions, period=period_for(now=traffic.NOW, period="week"), now=traffic.NOW)


def test_every_figure_is_the_hand_counted_one(report):
    for key, value in traffic.EXPECTED.items():
        assert report[key] == value, key
    assert report["period"] == {"from": traffic.WEEK_START.isoformat(), "to": traffic.NOW.isoformat()}


def test_the_seven_outcomes_and_the_channels_add_up_to_received(report):
    assert sum(report[key] for key in OUTCOMES.values()) == report["received"] == 12
    assert {channel: row["received"] for channel, row in report["by_channel"].items()} == traffic.EXPECTED_BY_CHANNEL
    assert sum(row["received"] for row in report["by_channel"].values()) == report["received"]


def test_each_department_has_its_own_figures(report):
    got = {code: {key: row[key] for key in traffic.EXPECTED_BY_DEPARTMENT["public-works"]}
           for code, row in report["by_department"].items()}
    assert got == traffic.EXPECTED_BY_DEPARTMENT


def test_each_figure_stands_beside_the_previous_weeks_with_the_change(report):
    previous = report["previous"]
    assert previous["period"] == {"from": (traffic.WEEK_START - timedelta(days=7)).isoformat(),
                                  "to": traffic.WEEK_START.isoformat()}
    for key, value in traffic.EXPECTED_PREVIOUS.items():
        assert previous[key] == value, key
    assert report["change"]["received"] == 9
    assert report["change"]["delay_rate"] == -0.5
    assert report["change"]["first_response_p50_hours"] == -2.0
    assert report["by_channel"]["telegram"]["previous_received"] == 2


def test_topics_are_read_from_what_the_topic_job_stored(sessions, embedder):
    traffic.seed(sessions)
    period = period_for(now=traffic.NOW, period="week")
    assert build_report(sessions, period=period, now=traffic.NOW)["top_topics"] == []  # the job has not run yet
    TopicJob(sessions, embed=embedder.embed, redact=str).run(now=traffic.NOW)
    report = build_report(sessions, period=period, now=traffic.NOW)
    # the out-of-scope message and the emergency without a category (both "…") are one cluster
    assert [(t["topic"], t["count"], t["previous"]) for t in report["top_topics"]] == [
        ("entry:bins", 3, 0), ("cluster:1", 2, 0), ("service:pothole", 2, 1), ("entry:parking", 1, 1),
        ("service:bins_missed", 1, 0)]
    # too few messages for anything to rise or fall significantly
    assert report["rising_topics"] == report["falling_topics"] == []


def test_one_department_keeps_its_messages_and_cases_only(sessions):
    traffic.seed(sessions)
    report = build_report(sessions, period=period_for(now=traffic.NOW), now=traffic.NOW, department="waste")
    assert (report["received"], report["handed_off"], report["cases_opened"]) == (1, 1, 1)
    assert (report["delay_rate"], report["overdue"], report["answered_in_time"]) == (1.0, 1, 0)
    assert list(report["by_department"]) == ["waste"]
    assert report["by_channel"] == {"x": {**dict.fromkeys(OUTCOMES.values(), 0), "received": 1, "handed_off": 1,
                                          "previous_received": 0}}


def test_an_empty_period_reports_zeros_not_errors(sessions):
    report = build_report(sessions, period=period_for(now=traffic.NOW, period="day"), now=traffic.NOW)
    assert report["received"] == 0 and report["delay_rate"] is None and report["first_response_p50_hours"] is None
    assert report["handled_without_staff_rate"] is None and report["by_channel"] == {}


def test_the_aggregations_use_the_reports_indexes(sessions):
    """Revision 0016r: the period's messages are read through an index on their time, not a scan of the table."""
    with sessions() as session:
        plan = " ".join(str(row[-1]) for row in session.execute(text(
            "EXPLAIN QUERY PLAN SELECT route, channel, count(*) FROM message_decisions "
            "WHERE at >= '2026-11-30' AND at < '2026-12-07' GROUP BY route, channel")))
    assert "ix_message_decisions_at_route" in plan


def test_the_cases_behind_each_figure(sessions):
    traffic.seed(sessions)
    period = period_for(now=traffic.NOW)

    def behind(figure, department=None):
        return [case.service_request_id for case in cases_behind(sessions, figure=figure, period=period,
                                                                 now=traffic.NOW, department=department)]

    assert behind("opened") == ["R1", "R2", "E1", "W1"]
    assert behind("answered_in_time") == ["R1", "E1"]
    assert behind("late") == ["R2"]
    assert behind("overdue") == ["W1"]
    assert behind("answered") == ["R1", "R2", "E1"]
    assert behind("closed") == ["R1"]
    assert behind("opened", "waste") == ["W1"]
    with pytest.raises(ValueError):
        behind("everything")
