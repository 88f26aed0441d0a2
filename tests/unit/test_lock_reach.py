"""Reachability of a resolution's nodes from the workspace (`pyrun.core.lock_reach`)."""

from __future__ import annotations

from pyrun.core import universal
from pyrun.core.lock_reach import reachability
from pyrun.core.resolution import Edge, Resolution, ResolvedPackage, Source

REGISTRY = Source(kind="registry", location="https://example.invalid/simple")
REQUIRES_PYTHON = ">=3.12"
PYSET = universal.pyset_from_specifiers(REQUIRES_PYTHON)
UNIVERSE = universal.root_environment(PYSET, None)


def _member(name: str, *edges: Edge) -> ResolvedPackage:
    return ResolvedPackage(
        name=name,
        version="0.1.0",
        source=Source(kind="editable", location=name),
        dependencies=edges,
    )


def _registry(name: str, *edges: Edge) -> ResolvedPackage:
    return ResolvedPackage(name=name, version="1.0", source=REGISTRY, dependencies=edges)


def _rendered(packages: list[ResolvedPackage], roots: list[str]) -> dict[str, str | None]:
    resolution = Resolution(packages=tuple(packages))
    found = reachability(resolution, REQUIRES_PYTHON, UNIVERSE, roots)
    out: dict[str, str | None] = {}
    for package in packages:
        node = found.of(package.name, package.version)
        out[package.name] = "unreachable" if node is None else universal.render(node, PYSET)
    return out


def test_a_node_reached_conditionally_then_everywhere_grows_to_everywhere() -> None:
    later = "python_full_version >= '3.13'"
    packages = [
        _member("app", Edge(name="lib", marker=later), Edge(name="tool")),
        _registry("tool", Edge(name="lib")),
        _registry("lib"),
        _registry("orphan"),
    ]
    assert _rendered(packages, ["app"]) == {
        "app": None,
        "tool": None,
        "lib": None,
        "orphan": "unreachable",
    }


def test_a_node_reached_everywhere_keeps_that_after_conditional_edges() -> None:
    """Once a node is reachable in the whole universe, later conditional edges to it change
    nothing (the walk stops extending it), and what it requires stays reachable everywhere."""
    packages = [
        *(_member(f"m{i}", Edge(name="base"), Edge(name=f"m{i - 1}")) for i in range(1, 20)),
        _member("m0", Edge(name="base", marker="sys_platform == 'win32'")),
        _registry("base", Edge(name="dep", marker="python_full_version >= '3.13'")),
        _registry("dep"),
    ]
    found = _rendered(packages, [f"m{i}" for i in range(20)])
    assert found["base"] is None
    assert found["dep"] == "python_full_version >= '3.13'"


def test_conditional_reach_combines_every_path() -> None:
    packages = [
        _member("app", Edge(name="a", marker="sys_platform == 'win32'"), Edge(name="b")),
        _registry("b", Edge(name="a", marker="sys_platform == 'linux'")),
        _registry("a"),
    ]
    found = _rendered(packages, ["app"])
    assert found["a"] == "sys_platform == 'linux' or sys_platform == 'win32'"
