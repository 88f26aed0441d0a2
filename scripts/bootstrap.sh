#!/usr/bin/env bash
# Create (or refresh) pyrun's development environment in .dev/venv and print its path.
# pyrun needs Python >= 3.11: use $PYRUN_DEV_PYTHON, else the first suitable python3.1x found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.dev/venv"
pick_python() {
  for candidate in "${PYRUN_DEV_PYTHON:-}" python3.12 python3.13 python3.11 python3 /usr/bin/python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: no Python >= 3.11 found (set PYRUN_DEV_PYTHON)" >&2; return 1
}
stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ]; then
  "$(pick_python)" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ] || [ "$root/bin/pyrun" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  "$venv/bin/python" -m pip install --quiet -e "$root[dev]" >&2
  touch "$stamp"
fi
echo "$venv"
