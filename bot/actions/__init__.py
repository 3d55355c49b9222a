"""Custom actions: thin clients of the desk API. The logic lives in the desk, not here."""
