"""The report of one account: the messages of its conversations and the cases written to it; the channel's default
account also has what came before accounts (no account recorded, conversation ids without "@")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts import Account
from handoff.account_scope import AccountScope
from handoff.models import Case, CaseState, CaseStatus, MessageDecision
from handoff.report import build_report, period_for

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ACCOUNTS = [Account(name="telegram", channel="telegram", display_name="City"),
            Account(name="transport", channel="telegram", display_name="Transport", department="transit"),
            Account(name="x", channel="x", display_name="City on X")]
# (conversation, account recorded on the case, department, route); None: a message without a case
TRAFFIC = (("tg-1", None, "public-works", "case"),  # from before accounts: the default account's
           ("tg-2@transport", "transport", "transit", "case"),
           ("tg-2@transport", None, None, "answer"),
           ("tg-3", "telegram", "parks", "case"),
           ("x-9", None, None, "answer"))


def seed(sessions) -> None:
    with sessions.begin() as session:
        for number, (conversation, account, department, route) in enumerate(TRAFFIC):
            when = NOW - timedelta(days=1, hours=number)
            case = None
            if department is not None:
                case = Case(service_request_id=f"C{number}", description="…", agency_responsible=department,
                            sla="simple", requested_datetime=when, updated_datetime=when,
                            expected_datetime=when + timedelta(hours=3), is_emergency=False, channel="telegram",
                            conversation_id=conversation, account=account, status=CaseStatus.OPEN,
                            state=CaseState.NEW)
                session.add(case)
                session.flush()
            session.add(MessageDecision(at=when, channel=conversation.partition("-")[0].replace("tg", "telegram"),
                                        conversation_id=conversation, text="…", intent=None, route=route,
                                        reason="test", entry_id=None, confidence=None,
                                        case_id=case.id if case else None))


def report_of(sessions, name: str) -> dict:
    return build_report(sessions, period=period_for(now=NOW), now=NOW, account=AccountScope.of(ACCOUNTS, name))


def test_an_accounts_report_keeps_its_own_messages_and_cases(sessions):
    seed(sessions)
    transport = report_of(sessions, "transport")
    assert (transport["account"], transport["received"], transport["handed_off"], transport["auto_answered"],
            transport["cases_opened"], transport["overdue"]) == ("transport", 2, 1, 1, 1, 1)
    assert list(transport["by_department"]) == ["transit"]
    city = report_of(sessions, "telegram")
    assert (city["received"], city["handed_off"], city["cases_opened"]) == (2, 2, 2)
    assert list(city["by_department"]) == ["parks", "public-works"]
    x = report_of(sessions, "x")
    assert (x["received"], x["auto_answered"], x["cases_opened"]) == (1, 1, 0)
    everything = build_report(sessions, period=period_for(now=NOW), now=NOW)
    assert (everything["received"], everything["account"]) == (5, None)
