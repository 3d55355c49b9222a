"""Shared request dependencies."""

from fastapi import Request
from sqlalchemy.orm import sessionmaker

from handoff.intake import Intake
from handoff.service import CaseDesk
from knowledge_base.editor import EntryEditor
from knowledge_base.learning import PhrasingLearner
from knowledge_base.service import KnowledgeBase
from privacy import Redactor
from settings import Settings


def get_sessions(request: Request) -> sessionmaker:
    """Sessions on the desk's database (database.open at start-up)."""
    return request.app.state.sessions


def get_knowledge_base(request: Request) -> KnowledgeBase:
    return request.app.state.knowledge_base


def get_entry_editor(request: Request) -> EntryEditor:
    return request.app.state.entry_editor


def get_cases(request: Request) -> CaseDesk:
    return request.app.state.cases


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


def get_learner(request: Request) -> PhrasingLearner:
    """Learns candidate phrasings from every resolved question (knowledge_base/learning.py)."""
    return request.app.state.learner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_redactor(request: Request) -> Redactor:
    """The one redactor, built from settings at start-up: whatever the public reads passes through it."""
    return request.app.state.redactor
