#!/usr/bin/env bash
# Print the path of a Python interpreter of version $1 (e.g. 3.10), or say in one line what to install.
# Looks at $PYTHON<major><minor> (e.g. PYTHON310), then pyenv's versions, then the PATH.
set -euo pipefail
version="$1"
var="PYTHON${version//./}"
if [ -n "${!var:-}" ] && [ -x "${!var}" ]; then echo "${!var}"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  candidate=$(ls -d "$(pyenv root)"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
fi
if command -v "python$version" >/dev/null 2>&1 && "python$version" -c 'import sys' >/dev/null 2>&1; then
  command -v "python$version"; exit 0
fi
echo "CityDesk needs Python $version and found none: install it (e.g. 'pyenv install $version') or set $var to its path." >&2
exit 1
