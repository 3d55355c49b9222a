#!/usr/bin/env bash
# Create or update one of the two virtual environments from its lock file.
#   scripts/setup-venv.sh desk   -> .venv       (Python 3.11: desk, CLI, tests; torch CPU build first)
#   scripts/setup-venv.sh rasa   -> .venv-rasa  (Python 3.10: Rasa 3.6 server and action server)
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
quiet=(--quiet --quiet)  # pip's warnings about optional indexes are noise here

case "${1:-}" in
  desk)
    python=$(scripts/find-python.sh 3.11)
    venv=.venv
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    # torch first and pinned: 2.13.0 is the CPU build; an unpinned torch would pull CUDA packages.
    "$venv/bin/pip" install "${quiet[@]}" torch==2.13.0
    "$venv/bin/pip" install "${quiet[@]}" -r requirements/desk.lock
    "$venv/bin/pip" install "${quiet[@]}" --no-deps --no-build-isolation -e .
    ;;
  rasa)
    python=$(scripts/find-python.sh 3.10)
    venv=.venv-rasa
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/pip" install "${quiet[@]}" -r requirements/rasa.lock
    ;;
  *)
    echo "usage: $0 desk|rasa" >&2; exit 2 ;;
esac
touch "$venv/.installed"
echo "$venv is ready."
