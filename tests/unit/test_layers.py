"""Dependencies point one way (ARCHITECTURE.md, "Layers"): checked by walking imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "pyrun"
# The warm path: pyrun's L0/L1 modules and the cheapest stdlib corner only.
WARM = {
    "pyrun.cli",
    "pyrun.cliparse",
    "pyrun.cli_options",
    "pyrun.errors",
    "pyrun.fastpath",
    "pyrun.stamp",
    "pyrun.child",
    "pyrun.scriptblock",
    "pyrun.replay",
    "pyrun.relocate",
    "pyrun.console",
    "pyrun.options",
    "pyrun",
}
WARM_STDLIB = {
    "os",
    "sys",
    "signal",
    "__future__",
    "_sha2",
    "_sha256",
    "hashlib",
    "typing",
    "collections",
    "types",
    "ctypes",
    "subprocess",
    "threading",
    "resource",
    "marshal",
    "fcntl",
    "time",
}
HEAVY = {"trio", "httpx", "installer", "resolvelib", "zstandard", "pyproject_hooks", "rich"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Imports executed when the module loads (not those inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            found |= _imported(child)
    return found


def every_import(source: str) -> set[str]:
    """Every import a module can ever execute, function-level ones included (a lazy import
    still runs up the layers when its function runs); TYPE_CHECKING blocks never run."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(source)]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        found |= _imported(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _imported(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module}
    return set()


def trio_run_calls(source: str) -> list[int]:
    """Lines that start a trio event loop: `trio.run(...)`, or `run` imported from trio."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "trio.run":
            lines.append(node.lineno)
        imports_run = isinstance(node, ast.ImportFrom) and node.module == "trio"
        if imports_run and any(alias.name == "run" for alias in node.names):
            lines.append(node.lineno)
    return sorted(lines)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


@pytest.mark.parametrize("name", sorted(WARM & MODULES.keys()))
def test_warm_path_modules_import_only_cheap_things(name):
    for imported in top_level_imports(MODULES[name]):
        if imported.startswith("pyrun"):
            assert imported in WARM, f"{name} imports {imported} at load time"
        else:
            assert imported.split(".")[0] in WARM_STDLIB, f"{name} imports {imported}"


def imports_of(name: str) -> set[str]:
    return every_import(MODULES[name].read_text())


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pyrun.core")))
def test_pure_core_has_no_effects(name):
    for imported in imports_of(name):
        root = imported.split(".")[0]
        # L2 may use packaging and resolvelib, nothing with effects.
        assert root not in (HEAVY - {"resolvelib"}) | {"subprocess"}, f"{name} imports {imported}"
        assert not imported.startswith(
            ("pyrun.local", "pyrun.net", "pyrun.commands", "pyrun.app")
        ), f"{name} imports {imported}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pyrun.local")))
def test_local_effects_do_not_reach_the_network_layer(name):
    for imported in imports_of(name):
        assert imported.split(".")[0] not in {"trio", "httpx"}, f"{name} imports {imported}"
        assert not imported.startswith(("pyrun.net", "pyrun.commands", "pyrun.app"))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pyrun.net")))
def test_the_network_layer_does_not_reach_the_commands(name):
    for imported in imports_of(name):
        assert not imported.startswith(("pyrun.commands", "pyrun.app")), (
            f"{name} imports {imported}"
        )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_entry_point_routes_into_the_command_layer(name):
    """`pyrun.cli` hands the command line to `pyrun.commands`; nothing below calls up."""
    if name == "pyrun.cli" or name.startswith("pyrun.commands"):
        return
    for imported in imports_of(name):
        assert not imported.startswith("pyrun.commands"), f"{name} imports {imported}"


# One event loop per process: started by `pyrun.net.interrupt` (the run's) and by the
# wheel-fetching helper process (`pyrun.net.fetcher`), nowhere else.
TRIO_RUN_ALLOWED = {"pyrun.net.interrupt", "pyrun.net.fetcher"}


@pytest.mark.parametrize("name", sorted(set(MODULES) - TRIO_RUN_ALLOWED))
def test_trio_run_is_called_only_where_allowed(name):
    assert trio_run_calls(MODULES[name].read_text()) == [], f"{name} starts a trio loop"


def test_function_level_imports_count() -> None:
    source = (
        "import os\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from pyrun.net import client\n"
        "def find():\n"
        "    from pyrun.net.pythons import download_for_run\n"
        "    class Inner:\n"
        "        import trio\n"
    )
    assert every_import(source) == {"os", "pyrun.net.pythons", "trio"}


def test_trio_run_calls_are_found_in_any_spelling() -> None:
    source = "import trio\ndef go():\n    return trio.run(main)\nfrom trio import run\n"
    assert trio_run_calls(source) == [3, 4]
