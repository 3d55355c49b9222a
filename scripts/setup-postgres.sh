#!/usr/bin/env bash
# A PostgreSQL server for the PostgreSQL tests (tests/postgresql): Debian's postgresql, installed with apt-get
# when it is missing and we are root. Never fails the build: when it cannot be installed it says so, and the
# PostgreSQL tests skip with the same reason. The tests start and stop their own throwaway server.
set -uo pipefail

have_server() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

have_server && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-postgres: the PostgreSQL server is missing and cannot be installed here" \
       "(needs root and apt-get); the PostgreSQL tests will be skipped." >&2
  exit 0
fi
echo "setup-postgres: installing postgresql with apt-get…"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; then
  have_server && { echo "setup-postgres: $(ls -d /usr/lib/postgresql/*/ | tail -1) is ready."; exit 0; }
fi
echo "setup-postgres: could not install postgresql; the PostgreSQL tests will be skipped." >&2
exit 0
