"""Workspace-scale scenarios: a generated workspace of 1,000 members (issue 15).

The workspace has a virtual root (`[tool.uv.workspace]` only) and members built by hatchling,
each depending on `packaging` and on up to three earlier siblings, so the graph is deep and wide
but acyclic. Generation is deterministic (no randomness, sorted output): both tools and every
run see the same bytes. The lock scenarios also check that pyrun's `uv.lock` is byte-identical to
uv's after the timed runs.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench import Scenario, Tool

MEMBERS = 1_000
SMALL = 10
# The member whose requirements the relock scenario edits, and what it gains.
EDITED = 500
GAINED = "iniconfig"


def member_name(index: int) -> str:
    return f"member{index:04d}"


def siblings(index: int) -> list[int]:
    """Zero to three earlier members, spread over the whole range (not only neighbours)."""
    picks = [index - 1, index // 2, index * 7 // 11][: index % 4]
    return sorted({p for p in picks if 0 <= p < index})


def member_pyproject(index: int, extra: tuple[str, ...] = ()) -> str:
    names = [member_name(s) for s in siblings(index)]
    dependencies = ", ".join(f'"{d}"' for d in ["packaging", *names, *extra])
    sources = "".join(f"{n} = {{ workspace = true }}\n" for n in names)
    text = (
        "[project]\n"
        f'name = "{member_name(index)}"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.12"\n'
        f"dependencies = [{dependencies}]\n"
        "\n[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n'
    )
    return text + (f"\n[tool.uv.sources]\n{sources}" if sources else "")


def generate(root: Path, members: int) -> Path:
    """The workspace under `root/ws<members>`; returns its root directory."""
    directory = root / f"ws{members}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for index in range(members):
        package = directory / "packages" / member_name(index)
        module = package / "src" / member_name(index)
        module.mkdir(parents=True, exist_ok=True)
        (package / "pyproject.toml").write_text(member_pyproject(index))
        (module / "__init__.py").write_text("")
    return directory


def edit_member(directory: Path, gained: tuple[str, ...]) -> None:
    path = directory / "packages" / member_name(EDITED) / "pyproject.toml"
    path.write_text(member_pyproject(EDITED, gained))


# -- scenario plumbing ----------------------------------------------------------------------


Setup = Callable[[Path, "Tool"], Path]


def primed(warm: Callable[..., Setup], members: int, *command: str) -> Setup:
    """`bench.warm` on the generated workspace (the tool runs `command` once, untimed); the
    lock that leaves is kept aside as `uv.lock.orig` for scenarios that restore it."""
    setup = warm(functools.partial(generate, members=members), *command)

    def keep_lock(root: Path, tool: Tool) -> Path:
        directory = setup(root, tool)
        if (directory / "uv.lock").exists():
            shutil.copyfile(directory / "uv.lock", directory / "uv.lock.orig")
        return directory

    return keep_lock


def shared(setup: Setup) -> Setup:
    """`setup` run once per tool, its directory reused by every scenario that shares it: syncing
    1,000 editable members takes minutes, and the warm runs from the root and from a member only
    read the result."""
    made: dict[str, Path] = {}

    def once(root: Path, tool: Tool) -> Path:
        if tool.name not in made:
            made[tool.name] = setup(root, tool)
        return made[tool.name]

    return once


def in_member(setup: Setup) -> Setup:
    def member_setup(root: Path, tool: Tool) -> Path:
        return setup(root, tool) / "packages" / member_name(EDITED)

    return member_setup


def without_lock(cwd: Path, tool: Tool) -> None:
    (cwd / "uv.lock").unlink(missing_ok=True)


def edited_with_old_lock(cwd: Path, tool: Tool) -> None:
    """The lock from before the edit, and one member that gained a dependency since."""
    shutil.copyfile(cwd / "uv.lock.orig", cwd / "uv.lock")
    edit_member(cwd, (GAINED,))


def same_lock(cwds: dict[str, Path]) -> str | None:
    """Why the two tools' locks differ, or None when they are byte-identical."""
    pyrun, uv = ((cwds[t] / "uv.lock").read_bytes() for t in ("pyrun", "uv"))
    if pyrun == uv:
        return None
    ours, theirs = pyrun.splitlines(), uv.splitlines()
    pairs = enumerate(zip(ours, theirs, strict=False))
    line = next((i for i, (a, b) in pairs if a != b), min(len(ours), len(theirs)))
    return f"uv.lock differs from uv's at line {line + 1}"


def scenarios(scenario: type[Scenario], warm: Callable[..., Setup]) -> list[Scenario]:
    """The scenarios, built with `bench.Scenario` and `bench.warm` (passed in: `bench` is the
    script that imports this module)."""
    run = ("run", "python", "-c", "pass")
    # No `:` in names: they name the scenario's directory, and uv refuses a `.venv` whose path
    # holds the PATH separator.
    big = f"workspace {MEMBERS}"
    synced = shared(primed(warm, MEMBERS, *run))
    return [
        scenario(
            f"{big} lock",
            f"`lock` of the {MEMBERS}-member workspace with no `uv.lock`, cache warm",
            primed(warm, MEMBERS, "lock"),
            ["lock"],
            before_each=without_lock,
            runs=5,
            verify=same_lock,
        ),
        scenario(
            f"{big} relock",
            f"`lock` after member {EDITED} gained a dependency on `{GAINED}`, the old lock present",
            primed(warm, MEMBERS, "lock"),
            ["lock"],
            before_each=edited_with_old_lock,
            runs=5,
            verify=same_lock,
        ),
        scenario(
            f"{big} lock --check",
            "`lock --check` with the lock fresh",
            primed(warm, MEMBERS, "lock"),
            ["lock", "--check"],
            runs=7,
        ),
        scenario(
            f"{big} warm run (root)",
            "`run python -c pass` at the virtual root, environment in sync",
            synced,
            list(run),
        ),
        scenario(
            f"{big} warm run (member)",
            f"`run python -c pass` in member {EDITED}, environment in sync",
            in_member(synced),
            list(run),
        ),
        scenario(
            f"workspace {SMALL} warm run (root)",
            f"the same at the root of a {SMALL}-member workspace, for comparison",
            primed(warm, SMALL, *run),
            list(run),
        ),
    ]
