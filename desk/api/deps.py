"""Shared request dependencies."""

from fastapi import Request

from desk.settings import Settings
from knowledge_base.service import KnowledgeBase


def get_knowledge_base(request: Request) -> KnowledgeBase:
    return request.app.state.knowledge_base


def get_settings(request: Request) -> Settings:
    return request.app.state.settings
