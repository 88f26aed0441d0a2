"""Lock `tests/support/forkchains.py`'s platform-marker chains with pyrun and uv side by side.

    .dev/venv/bin/python perf/forkchains.py --chains 30 [--length 3] [--seed 1] [--pyrun BIN]
    .dev/venv/bin/python perf/forkchains.py --seed 1-20 --chains 4,8,16,24   # a sweep

Prints each tool's process CPU seconds (wall time means little on a loaded machine), uv's fork
count (`Solving split` in its `-v` log) and whether the two locks are byte-identical; a sweep
(several seeds or chain counts) ends with how many of its locks were. Scratch goes to a
temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import find_python
from tests.support.forkchains import serve_chains
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")  # as the tests find it


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def lock(tool: str, command: list[str], project: Path, env: dict[str, str]) -> str:
    """Run one lock; returns its stderr, after printing its CPU seconds."""
    before = children_cpu()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    print(f"{tool}: exit {done.returncode}, {children_cpu() - before:.1f} s CPU")
    if done.returncode:
        print(done.stderr[-2000:])
    return done.stderr


def numbers(text: str) -> list[int]:
    """`30`, `4,8,16` or `1-40` (inclusive)."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-", 1))
            return list(range(low, high + 1))
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N, N,M,... or N-M, not {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=numbers, default=[30])
    parser.add_argument("--length", type=int, default=3)
    parser.add_argument("--seed", type=numbers, default=[1])
    parser.add_argument("--pyrun", default=str(Path(sys.executable).parent / "pyrun"))
    args = parser.parse_args()
    if PYTHON is None:
        sys.exit("error: no CPython 3.12 found on this machine")
    runs = [(seed, chains) for seed in args.seed for chains in args.chains]
    identical = 0
    for seed, chains in runs:
        if len(runs) > 1:
            print(f"== seed {seed}, {chains} chains")
        identical += compare(seed, chains, args.length, args.pyrun, PYTHON)
    if len(runs) > 1:
        print(f"{identical} of {len(runs)} locks identical")


def compare(seed: int, chains: int, length: int, pyrun: str, python: str) -> bool:
    """Lock one generated project with both tools; whether the locks are byte-identical."""
    scratch = Path(tempfile.mkdtemp(prefix="forkchains-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    try:
        with IndexServer() as index:
            heads = serve_chains(index, seed, chains, length)
            dependencies = ", ".join(f'"{head}"' for head in heads)
            for tool in ("uv", "pyrun"):
                (scratch / tool).mkdir()
                (scratch / tool / "pyproject.toml").write_text(
                    '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
                    f"dependencies = [{dependencies}]\n"
                )
            uv_env = {**base, "UV_CACHE_DIR": str(scratch / "uv-cache"), "UV_NO_CONFIG": "1"}
            uv_env |= {"UV_PYTHON": python, "UV_PYTHON_DOWNLOADS": "never"}
            command = ["uv", "lock", "-v", "--default-index", index.index_url]
            log = lock("uv", command, scratch / "uv", uv_env)
            print(f"uv forks: {log.count('Solving split')}")
            pyrun_env = {**base, "PYRUN_DEFAULT_INDEX": index.index_url, "PYRUN_NO_CONFIG": "1"}
            pyrun_env |= {"PYRUN_PYTHON": python, "XDG_CACHE_HOME": str(scratch / "cache")}
            lock("pyrun", [pyrun, "lock"], scratch / "pyrun", pyrun_env)
            ours, theirs = (scratch / tool / "uv.lock" for tool in ("pyrun", "uv"))
            same = ours.exists() and theirs.exists() and ours.read_text() == theirs.read_text()
            print("locks: identical" if same else "locks: DIFFERENT")
            return same
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
