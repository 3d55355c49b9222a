"""The hash that chains transcript records, and the check that the chain is whole."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from transcripts.models import GENESIS_HASH, TranscriptHead, TranscriptOriginal, TranscriptRecord

VERIFY_BATCH = 2_000


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the record's fields (without `hash`) as canonical JSON; `prev_hash` is one of the fields."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hashed_fields(record: TranscriptRecord) -> dict[str, Any]:
    """Every stored field that the hash covers: all of them but `hash` itself."""
    return {"id": record.id, "at": record.at.isoformat(), "channel": record.channel,
            "conversation_id": record.conversation_id, "author_role": record.author_role, "author": record.author,
            "public_text": record.public_text, "original_sha256": record.original_sha256,
            "entry_id": record.entry_id, "entry_version": record.entry_version, "case_id": record.case_id,
            "platform_message_id": record.platform_message_id, "meta": record.meta or {},
            "prev_hash": record.prev_hash,
            # only when set: records written before accounts keep their hashes
            **({"account": record.account} if record.account is not None else {})}


@dataclass(frozen=True)
class Verification:
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify(sessions: sessionmaker) -> Verification:
    """Walk the chain from the first record; name the first record whose hash, link or original does not match."""
    previous_hash, previous_id, checked = GENESIS_HASH, 0, 0
    with sessions() as session:
        while True:
            batch = session.scalars(select(TranscriptRecord).where(TranscriptRecord.id > previous_id)
                                    .order_by(TranscriptRecord.id).limit(VERIFY_BATCH)).all()
            if not batch:
                break
            originals = {o.record_id: o for o in session.scalars(select(TranscriptOriginal).where(
                TranscriptOriginal.record_id.in_([r.id for r in batch])))}
            for record in batch:
                broken = _check(record, previous_hash, originals.get(record.id))
                if broken:
                    return Verification(checked=checked, first_broken_id=record.id, reason=broken)
                previous_hash, previous_id, checked = record.hash, record.id, checked + 1
            session.expunge_all()
        head = session.get(TranscriptHead, 1)
        if head is not None and (head.last_id, head.last_hash) != (previous_id, previous_hash):
            return Verification(checked=checked, first_broken_id=head.last_id,
                                reason=f"the chain ends at record {previous_id}, but record {head.last_id} was "
                                       "written last: records at the end were removed")
    return Verification(checked=checked)


def _check(record: TranscriptRecord, previous_hash: str, original: TranscriptOriginal | None) -> str | None:
    if record.prev_hash != previous_hash:
        return "its link to the previous record does not match: a record before it was removed or changed"
    if record_hash(hashed_fields(record)) != record.hash:
        return "its content does not match its hash: the record was changed after it was written"
    if original is not None and original.text is not None and sha256_text(original.text) != record.original_sha256:
        return "its kept original does not match the digest in the record: the original was changed"
    return None
