"""Transcripts: every message in and out, append-only and hash-chained; redaction and disclosure."""
