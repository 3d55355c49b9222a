#!/usr/bin/env bash
# The servers the scale-out tests run against (tests/scale, tests/postgresql): Debian's redis-server and postgresql,
# installed with apt-get when they are missing and we are root. Never fails the build: when they cannot be installed
# it says so, and those tests skip with the same reason. The tests start and stop their own throwaway servers.
set -uo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-services: ${missing[*]} missing and cannot be installed here (needs root and apt-get);" \
       "the tests that need them will be skipped." >&2
  exit 0
fi
echo "setup-services: installing ${missing[*]} with apt-get…"
export DEBIAN_FRONTEND=noninteractive
# the packages' own services are not started here (no init system); the tests start their own servers
if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "setup-services: ${missing[*]} installed."
  exit 0
fi
echo "setup-services: could not install ${missing[*]}; the tests that need them will be skipped." >&2
exit 0
