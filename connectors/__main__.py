"""`python -m connectors telegram`: one connector process (what `citydesk connector telegram` runs)."""

import sys

from desk.cli import app

if __name__ == "__main__":
    app(args=["connector", *sys.argv[1:]], prog_name="citydesk")
