"""The desk service (FastAPI, :8000), the `citydesk` CLI and the launcher of the whole stack."""
