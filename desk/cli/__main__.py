"""`python -m desk.cli ...` is `citydesk ...`: how `serve` starts a connector (`python -m desk.cli connector x`)."""

from desk.cli import app

if __name__ == "__main__":
    app(prog_name="citydesk")
