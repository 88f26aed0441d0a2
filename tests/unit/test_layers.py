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
    "pyrun.console",
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
            if isinstance(child, ast.Import):
                found |= {alias.name for alias in child.names}
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.add(child.module)
    return found


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


@pytest.mark.parametrize("name", sorted(WARM & MODULES.keys()))
def test_warm_path_modules_import_only_cheap_things(name):
    for imported in top_level_imports(MODULES[name]):
        if imported.startswith("pyrun"):
            assert imported in WARM, f"{name} imports {imported} at load time"
        else:
            assert imported.split(".")[0] in WARM_STDLIB, f"{name} imports {imported}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pyrun.core")))
def test_pure_core_has_no_effects(name):
    for imported in top_level_imports(MODULES[name]):
        root = imported.split(".")[0]
        # L2 may use packaging and resolvelib, nothing with effects.
        assert root not in (HEAVY - {"resolvelib"}) | {"subprocess"}, f"{name} imports {imported}"
        assert not imported.startswith(
            ("pyrun.local", "pyrun.net", "pyrun.commands", "pyrun.app")
        ), f"{name} imports {imported}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pyrun.local")))
def test_local_effects_do_not_reach_the_network_layer(name):
    for imported in top_level_imports(MODULES[name]):
        assert imported.split(".")[0] not in {"trio", "httpx"}, f"{name} imports {imported}"
        assert not imported.startswith(("pyrun.net", "pyrun.commands", "pyrun.app"))
