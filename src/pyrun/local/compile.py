"""`--compile-bytecode`: compile an environment's modules with its own interpreter.

Bytecode is version-specific, so the target interpreter compiles, in one subprocess for the whole
`site-packages` (parallel workers inside it), never one process per file. Modules that do not
compile (Python 2 leftovers some wheels ship) are skipped silently, as uv and pip do; only a
failure to run the interpreter is an error. The `.pyc` files are new files in the environment's
own `__pycache__` directories, so they never touch the hardlinked cache.
"""

from __future__ import annotations

import os
import subprocess

from pyrun.errors import FailureError, os_error_text

# Runs inside the target interpreter (any CPython >= 3.8): keep the syntax old. It prints the
# number of modules it attempted, for `Bytecode compiled N files in T`.
_SCRIPT = """
import compileall, os, sys
root = sys.argv[1]
count = 0
for directory, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    count += sum(1 for name in files if name.endswith(".py"))
compileall.compile_dir(root, quiet=2, workers=0 if count > 100 else 1)
sys.stdout.write(str(count))
"""


def compile_bytecode(python: str | os.PathLike[str], site_packages: str | os.PathLike[str]) -> int:
    """Compile every module under `site_packages` with `python`; the number of modules."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    try:
        result = subprocess.run(
            [os.fspath(python), "-I", "-c", _SCRIPT, os.fspath(site_packages)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    except OSError as exc:
        raise _compile_error(site_packages, os_error_text(exc)) from exc
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise _compile_error(site_packages, detail)
    return int(result.stdout)


def _compile_error(site_packages: str | os.PathLike[str], cause: str) -> FailureError:
    return FailureError(f"Failed to bytecode-compile `{site_packages}`", causes=(cause,))
