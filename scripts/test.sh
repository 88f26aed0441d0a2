#!/usr/bin/env bash
# Run pyrun's test suite in its own development environment (created on first use).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$("$root/scripts/bootstrap.sh")
cd "$root"
"$venv/bin/ruff" check src tests scripts perf noxfile.py
exec "$venv/bin/python" -m pytest -n 2 -q "$@"
