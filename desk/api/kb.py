"""Knowledge base search: the answer-or-not decision the assistant acts on."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from desk.api.deps import get_knowledge_base
from desk.api.fields import CitizenText
from knowledge_base.search import Filters, SearchHit
from knowledge_base.service import Answer, KnowledgeBase

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


class SearchRequest(BaseModel):
    text: CitizenText
    top_k: int = Field(default=5, ge=1, le=50)
    department: str | None = None
    language: str | None = None


class Hit(BaseModel):
    id: str
    question: str
    answer: str
    department: str | None
    topic: str | None
    category: str | None
    url: str | None
    language: str
    confidence: float
    matched_phrasing: str
    version: int | None = Field(default=None, description="The entry's published version that answered.")


class SearchResponse(BaseModel):
    text: str
    threshold: float
    answer: Hit | None = Field(description="The entry to answer with automatically, or null: hand off.")
    results: list[Hit]


def hit_of(hit: SearchHit, kb: KnowledgeBase) -> Hit:
    return Hit(**hit.entry.model_dump(exclude={"alt_questions"}), confidence=round(hit.confidence, 4),
               matched_phrasing=hit.matched_phrasing, version=kb.published_version(hit.entry.id))


def _response(text: str, decision: Answer, kb: KnowledgeBase) -> SearchResponse:
    hits = [hit_of(h, kb) for h in decision.results]
    answered = hits[0] if decision.entry is not None else None
    return SearchResponse(text=text, threshold=decision.threshold, answer=answered, results=hits)


@router.post("/search", response_model=SearchResponse)
def search(request: SearchRequest, kb: KnowledgeBase = Depends(get_knowledge_base)) -> SearchResponse:
    """Rank entries for a message and say whether one is confident enough to answer it."""
    filters = Filters(department=request.department, language=request.language)
    return _response(request.text, kb.answer(request.text, top_k=request.top_k, filters=filters), kb)
