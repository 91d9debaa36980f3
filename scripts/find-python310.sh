#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or nothing.
# Order: $PYTHON310, python3.10 on PATH (a pyenv shim only counts if it really runs), pyenv's 3.10.x.
set -u
works() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
candidates=("${PYTHON310:-}" "$(command -v python3.10 2>/dev/null || true)")
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3 -n -r); do
    candidates+=("$root/versions/$v/bin/python3.10")
  done
fi
for c in /usr/bin/python3.10 /usr/local/bin/python3.10; do candidates+=("$c"); done
for c in "${candidates[@]}"; do
  if works "$c"; then echo "$c"; exit 0; fi
done
exit 1
