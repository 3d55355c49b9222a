"""Each message's topic and keywords, computed by the desk's scheduled job and stored (message_topics), so that the
reports and the burst detector read them with SQL.

A message's topic, the first that applies: its case's service category (`service:<code>`); the knowledge base topic
of the entry that answered it (`topic:<topic>`, else `entry:<id>`); for a message the knowledge base could not
answer and no category caught (out of scope, a case or an emergency without a category), the cluster of messages
that mean the same thing (`cluster:<id>`: all-MiniLM-L6-v2 vectors, a new message joins the cluster whose mean
vector is closest when the cosine reaches knowledge_base/gaps.py's similarity, the rest are grouped among themselves
into new clusters). Small talk, status questions and clarifications have no topic.

Keywords: the words of the redacted text, without English stop words (scikit-learn's list), at most 8 a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.decide import Route
from handoff.models import Case, MessageDecision
from handoff.trend_models import MessageTopic, TopicCluster, TopicKind, TrendProgress
from knowledge_base.gaps import DEFAULT_SIMILARITY, group
from knowledge_base.store import EntryRow
from privacy import REMOVED_TEXT

Embed = Callable[[Sequence[str]], np.ndarray]  # normalised vectors, one row per text
Redact = Callable[[str], str]

PROGRESS = "topics"
BATCH = 2_000
MAX_KEYWORDS = 8
LABEL_CHARS = 80
UNANSWERED_ROUTES = (Route.OUT_OF_SCOPE.value, Route.CASE.value, Route.EMERGENCY.value)
WORD = re.compile(r"[^\W\d_]+")  # letters only: "it's" is "it" and "s", "e-bike" is "e" and "bike"
# what the redactor puts in place of personal data ([NAME], [PHONE], ...) is no keyword
REDACTION_MARK = re.compile(r"\[[A-Z_ ]+\]")


def keywords(text: str) -> list[str]:
    """The text's distinct words, lower case, stop words and redaction marks left out, in order, at most 8."""
    words = WORD.findall(REDACTION_MARK.sub(" ", text).lower())
    kept = [word for word in words if len(word) > 2 and word not in ENGLISH_STOP_WORDS]
    return list(dict.fromkeys(kept))[:MAX_KEYWORDS]


@dataclass(frozen=True)
class _Message:
    id: int
    at: datetime
    text: str
    route: str
    entry_id: str | None
    service_code: str | None


def _progress(session: Session) -> int:
    """The last message read, the row locked until the transaction ends (PostgreSQL: desk workers take turns)."""
    value = session.scalar(select(TrendProgress.value).where(TrendProgress.name == PROGRESS).with_for_update())
    if value is None:  # a database made without the migration's rows
        session.add(TrendProgress(name=PROGRESS, value=0))
        session.flush()
        return 0
    return value


class _Raced(Exception):
    """Another process read the same messages first (SQLite takes no row lock): this batch is rolled back."""


class TopicJob:
    """Assigns the topics and keywords of the messages recorded since its last run."""

    def __init__(self, sessions: sessionmaker, *, embed: Embed, redact: Redact,
                 similarity: float = DEFAULT_SIMILARITY) -> None:
        self._sessions = sessions
        self._embed = embed
        self._redact = redact
        self._similarity = similarity

    def run(self, *, now: datetime) -> int:
        """Assign every message not assigned yet, in batches; the number of messages read."""
        done = 0
        while True:
            try:
                read = self._batch(now)
            except _Raced:
                return done
            done += read
            if read < BATCH:
                return done

    def _batch(self, now: datetime) -> int:
        with self._sessions.begin() as session:
            after = _progress(session)
            rows = session.execute(
                select(MessageDecision.id, MessageDecision.at, MessageDecision.text, MessageDecision.route,
                       MessageDecision.entry_id, Case.service_code)
                .outerjoin(Case, Case.id == MessageDecision.case_id)
                .where(MessageDecision.id > after).order_by(MessageDecision.id).limit(BATCH)).all()
            if not rows:
                return 0
            messages = [_Message(*row) for row in rows]
            entries = [m.entry_id for m in messages if m.entry_id]
            topic_of = dict(session.execute(select(EntryRow.id, EntryRow.topic).where(EntryRow.id.in_(entries))).all())
            topics: dict[int, str] = {}
            unanswered = []
            for message in messages:
                if message.service_code:
                    topics[message.id] = f"service:{message.service_code}"
                elif message.entry_id:
                    topic = topic_of.get(message.entry_id)
                    topics[message.id] = f"topic:{topic}" if topic else f"entry:{message.entry_id}"
                elif message.route in UNANSWERED_ROUTES and message.text != REMOVED_TEXT:
                    unanswered.append(message)
            topics.update(self._cluster(session, unanswered, now))
            redacted = {m.id: self._redact(m.text) for m in messages if m.text != REMOVED_TEXT}
            rows_out = [{"decision_id": m.id, "at": m.at, "kind": TopicKind.TOPIC.value, "topic": topics[m.id]}
                        for m in messages if m.id in topics]
            rows_out += [{"decision_id": m.id, "at": m.at, "kind": TopicKind.KEYWORD.value, "topic": word}
                         for m in messages if m.id in redacted for word in keywords(redacted[m.id])]
            if rows_out:
                session.execute(insert(MessageTopic), rows_out)
            moved = session.execute(update(TrendProgress).where(TrendProgress.name == PROGRESS,
                                                                TrendProgress.value == after)
                                    .values(value=messages[-1].id))
            if moved.rowcount != 1:
                raise _Raced
            return len(messages)

    def _cluster(self, session: Session, messages: Sequence[_Message], now: datetime) -> dict[int, str]:
        """The cluster of each message: the nearest existing one, or a new one among the rest."""
        if not messages:
            return {}
        vectors = self._embed([m.text for m in messages]).astype(np.float64)
        clusters = list(session.scalars(select(TopicCluster).order_by(TopicCluster.id)))
        found: dict[int, TopicCluster] = {}
        rest = list(range(len(messages)))
        if clusters:
            centroids = np.array([c.centroid for c in clusters], dtype=np.float64)
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            similarity = vectors @ centroids.T
            best = similarity.argmax(axis=1)
            rest = []
            for index, message in enumerate(messages):
                if similarity[index, best[index]] >= self._similarity:
                    found[message.id] = clusters[best[index]]
                    self._absorb(clusters[best[index]], vectors[index])
                else:
                    rest.append(index)
        groups: dict[int, list[int]] = {}
        for index, label in zip(rest, group(vectors[rest], self._similarity) if rest else [], strict=True):
            groups.setdefault(label, []).append(index)
        for members in groups.values():
            centroid = vectors[members].mean(axis=0)
            central = members[int((vectors[members] @ centroid).argmax())]
            cluster = TopicCluster(label=self._redact(messages[central].text)[:LABEL_CHARS],
                                   centroid=centroid.tolist(), size=len(members), created_at=now)
            session.add(cluster)
            session.flush()
            for index in members:
                found[messages[index].id] = cluster
        return {message_id: f"cluster:{cluster.id}" for message_id, cluster in found.items()}

    @staticmethod
    def _absorb(cluster: TopicCluster, vector: np.ndarray) -> None:
        """The running mean of the cluster's vectors."""
        centroid = np.asarray(cluster.centroid, dtype=np.float64)
        cluster.centroid = ((centroid * cluster.size + vector) / (cluster.size + 1)).tolist()
        cluster.size += 1


def labels(sessions: sessionmaker, topics: Sequence[str]) -> dict[str, str]:
    """A reader's name for each topic: a cluster's redacted example, else the topic itself without its prefix."""
    ids = [int(topic.split(":", 1)[1]) for topic in topics if topic.startswith("cluster:")]
    with sessions() as session:
        found = dict(session.execute(select(TopicCluster.id, TopicCluster.label).where(TopicCluster.id.in_(ids))).all())
    named = {}
    for topic in topics:
        kind, _, name = topic.partition(":")
        named[topic] = f"“{found[int(name)]}”" if kind == "cluster" and int(name) in found else (name or topic)
    return named

