"""Structure metrics of `src/pyrun` that issue 12 tracks, printed as one table.

Run: `python scripts/structure_metrics.py [SRC]`. It reads the code as syntax trees; it runs
nothing of it. "Outside the command layer" means any module not under `commands/` and not the
command-line edge (`cli.py`, `cliparse.py`, `cli_options.py`); "in the command layer" counts the
functions under `commands/` that still take the parsed `args` rather than settled options.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

EDGE = {"cli.py", "cliparse.py", "cli_options.py"}


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = fn.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    return [n for n in names if n not in ("self", "cls")]


def _is_trio_run(node: ast.Call) -> bool:
    f = node.func
    return isinstance(f, ast.Attribute) and f.attr == "run" and getattr(f.value, "id", "") == "trio"


def measure(src: Path) -> dict[str, object]:
    files = sorted(p for p in src.rglob("*.py"))
    lines = {p: len(p.read_text().splitlines()) for p in files}
    trio_sites, args_fns, command_args_fns, wide_fns, fns = [], [], [], [], 0
    for path in files:
        rel = path.relative_to(src).as_posix()
        tree = ast.parse(path.read_text(), rel)
        command_layer = rel.startswith("commands/") or rel in EDGE
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_trio_run(node):
                trio_sites.append(f"{rel}:{node.lineno}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fns += 1
                params = _params(node)
                if "args" in params and not command_layer:
                    args_fns.append(f"{rel}:{node.name}")
                if "args" in params and rel.startswith("commands/"):
                    command_args_fns.append(f"{rel}:{node.name}")
                if len(params) >= 6:
                    wide_fns.append(f"{rel}:{node.name}")
    largest = max(files, key=lambda p: lines[p])
    return {
        "modules": len(files),
        "lines in src": sum(lines.values()),
        "largest module": f"{largest.relative_to(src).as_posix()} ({lines[largest]} lines)",
        "functions": fns,
        "trio.run call sites": trio_sites,
        "functions taking `args` outside the command layer": args_fns,
        "functions taking `args` in the command layer": command_args_fns,
        "functions with >= 6 parameters": wide_fns,
    }


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "src/pyrun")
    for key, value in measure(src).items():
        if isinstance(value, list):
            print(f"{key}: {len(value)}")
            for item in value:
                print(f"    {item}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
