#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser tests (tests/browser): Debian's chromium and
# chromium-driver, installed with apt-get when they are missing and we are root. Never fails the build:
# when they cannot be installed it says so, and the browser tests skip with the same reason.
set -uo pipefail

have_browser() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

have_browser && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: chromium and chromedriver are missing and cannot be installed here" \
       "(needs root and apt-get); the browser tests will be skipped." >&2
  exit 0
fi
echo "setup-browser: installing chromium and chromium-driver with apt-get…"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; then
  have_browser && { echo "setup-browser: $(chromium --version 2>/dev/null) is ready."; exit 0; }
fi
echo "setup-browser: could not install chromium and chromium-driver; the browser tests will be skipped." >&2
exit 0
