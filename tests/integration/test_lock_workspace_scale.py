"""A generated workspace of 50 members, locked and relocked by pyrun and by uv, byte for byte.

Members are pinned before the search (`pyrun.core.local_pins`), in resolvelib's order and with
its fork inheritance; the shapes here make that order and inheritance visible in the lock: one
member splits the resolution on a marker, one requires a sibling's extra, one pins a sibling
with `==`, one has a dependency group, and the others depend on up to three earlier siblings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

MEMBERS = 50


def name(index: int) -> str:
    return f"member{index:02d}"


def siblings(index: int) -> list[int]:
    picks = [index - 1, index // 2, index * 7 // 11][: index % 4]
    return sorted({p for p in picks if 0 <= p < index})


def member(index: int, gained: tuple[str, ...] = ()) -> str:
    """Member `index`'s pyproject.toml; `gained` adds requirements (on siblings too)."""
    requirements = ["base", *(name(s) for s in siblings(index)), *gained]
    if index % 10 == 4:
        # A sibling's extra: `member(n-1)` (n-1 ending in 3) declares `fast`.
        requirements.append(f"{name(index - 1)}[fast]")
    if index == 20:
        requirements.append(f"{name(10)}==0.1.0")
    if index == 7:
        requirements += ["split>=2 ; python_version >= '3.13'", "split<2 ; python_version < '3.13'"]
    text = (
        f'[project]\nname = "{name(index)}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{', '.join(repr(r) for r in requirements)}]\n"
    )
    if index % 10 == 3:
        text += '\n[project.optional-dependencies]\nfast = ["tool"]\n'
    if index == 9:
        text += '\n[dependency-groups]\ndev = ["tool<2"]\n'
    text += '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    local = dict.fromkeys(r[: len(name(0))] for r in requirements if r.startswith("member"))
    sources = "".join(f"{n} = {{ workspace = true }}\n" for n in local)
    return text + (f"\n[tool.uv.sources]\n{sources}" if sources else "")


def make_workspace(root: Path) -> Path:
    write(root, '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for index in range(MEMBERS):
        write(root / "packages" / name(index), member(index))
    return root


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        for version in ("1.0.0", "2.0.0"):
            server.add_wheel("base", version)
            server.add_wheel("split", version)
        server.add_wheel("tool", "1.0.0")
        server.add_wheel("tool", "2.0.0", requires_dist=["base>=1"])
        server.add_wheel("gained", "1.0.0", requires_dist=["base>=1"])
        yield server


def lock_both(ours: Path, theirs: Path, env: PyrunEnv, index: IndexServer) -> None:
    result = pyrun(env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


@pytest.mark.uv
def test_a_generated_workspace_locks_and_relocks_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours = make_workspace(tmp_path / "ours")
    theirs = make_workspace(tmp_path / "theirs")
    lock_both(ours, theirs, pyrun_env, index)
    text = (ours / "uv.lock").read_text()
    assert "resolution-markers" in text and 'name = "split"' in text  # the fork happened
    # A newer `base` appears and one member gains a dependency: the relock keeps `base` at its
    # locked version and adds only what changed, as uv does.
    index.add_wheel("base", "3.0.0")
    for root in (ours, theirs):
        write(root / "packages" / name(25), member(25, gained=("gained",)))
    lock_both(ours, theirs, pyrun_env, index)
    relocked = (ours / "uv.lock").read_text()
    assert 'version = "3.0.0"' not in relocked and relocked != text


@pytest.mark.uv
def test_a_member_requirement_nothing_satisfies_fails_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Pinning the members first finds no version of `base` for member 30: the full search
    then runs and explains the failure, as uv does."""
    ours = make_workspace(tmp_path / "ours")
    write(ours / "packages" / name(30), member(30, gained=("base>=9",)))
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    theirs = uv(ours, "lock", index=index.index_url)
    assert result.returncode == theirs.returncode == 1, (result, theirs.stderr)
    # uv wraps its message to the terminal's width: compare the words.
    ours_text, uv_text = (" ".join(text.split()) for text in (result.stderr, theirs.stderr))
    for sentence in (
        "No solution found when resolving dependencies for split (markers: "
        "python_full_version >= '3.13')",
        # Member 30's requirement alone, as uv names it (pyrun words the versions available as
        # a range, `base>=1.0.0,<=2.0.0`, where uv says `base<=2.0.0`).
        "and member30 depends on base>=9, we can conclude that member30's requirements are "
        "unsatisfiable.",
        "And because your workspace requires member30, we can conclude that your workspace's "
        "requirements are unsatisfiable.",
    ):
        assert sentence in ours_text and sentence in uv_text, sentence
    assert not (ours / "uv.lock").exists()
