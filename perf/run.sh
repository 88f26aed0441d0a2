#!/usr/bin/env bash
# Benchmark pyrun against uv: builds perf/.work/tools (Python 3.12, pyrun, uv 0.13.9) once,
# then runs perf/bench.py. Arguments go to bench.py (e.g. --only "warm run" --runs 30).
# PYRUN_PERF_TOOLS and --work let two benchmarks run side by side without sharing state.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="${PYRUN_PERF_TOOLS:-$root/perf/.work/tools}"
python="${PYRUN_PERF_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.12 /root/.pyenv/versions/3.12.*/bin/python3.12 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "error: no Python 3.12 found (set PYRUN_PERF_PYTHON)" >&2; exit 2; }
if [ ! -x "$tools/bin/pyrun" ] || [ "$root/pyproject.toml" -nt "$tools/bin/pyrun" ]; then
  "$python" -m venv --clear "$tools"
  "$tools/bin/python" -m pip install --quiet "$root" "uv==0.13.9"
fi
# Reinstall pyrun itself each time so the benchmark measures the working tree.
"$tools/bin/python" -m pip install --quiet --no-deps --force-reinstall "$root" >/dev/null
unset PYTHONDONTWRITEBYTECODE
exec "$tools/bin/python" "$root/perf/bench.py" --pyrun "$tools/bin/pyrun" --uv "$tools/bin/uv" "$@"
