#!/usr/bin/env bash
# Run pyrun's main job on the bundled example: find the project, pick a Python, create its .venv
# and run a command in it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$("$root/scripts/bootstrap.sh")
"$venv/bin/pyrun" run --project "$root/examples/hello" python "$root/examples/hello/main.py"
