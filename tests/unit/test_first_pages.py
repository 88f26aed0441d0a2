"""`pages_read_meanwhile`: a lock from scratch starts its first page reads on a thread while
the interpreter is found, and only then; what the start raises reaches the caller."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from pyrun.commands import lock_project
from pyrun.commands.lock_project import pages_read_meanwhile
from pyrun.commands.session import Session
from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.local.discover import Workspace, discover_workspace

if TYPE_CHECKING:
    from pyrun.commands.lock_project import Mode

SESSION = cast(Session, object())


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["iniconfig"]\n'
    )
    found = discover_workspace(str(tmp_path), Console())
    assert found is not None
    return found


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads `_start_reading_pages` ran on."""
    threads: list[str] = []

    def record(workspace: Workspace, session: Session) -> None:
        assert session is SESSION
        threads.append(threading.current_thread().name)

    monkeypatch.setattr(lock_project, "_start_reading_pages", record)
    return threads


@pytest.mark.parametrize(
    ("mode", "lock", "threads"),
    [
        ("write", None, ["pyrun-first-pages"]),  # a lock from scratch, on a thread, done by
        ("dry-run", None, ["pyrun-first-pages"]),  # the block's end
        ("write", "version = 1\n", []),  # a lock exists: it may well hold
        ("locked", None, []),  # modes that never lock from scratch
        ("frozen", None, []),
    ],
)
def test_only_a_lock_from_scratch_starts_reading_on_a_thread(
    workspace: Workspace, starts: list[str], mode: Mode, lock: str | None, threads: list[str]
) -> None:
    if lock is not None:
        (Path(workspace.root) / "uv.lock").write_text(lock)
    with pages_read_meanwhile(workspace, SESSION, mode) as started:
        pass
    assert started is bool(threads)
    assert starts == threads


def test_what_the_start_raises_reaches_the_caller(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: Any) -> None:
        raise PyrunError("the trio run did not start")

    monkeypatch.setattr(lock_project, "_start_reading_pages", fail)
    with (
        pytest.raises(PyrunError, match="the trio run did not start"),
        pages_read_meanwhile(workspace, SESSION, "write"),
    ):
        pass


def test_an_error_of_the_block_wins_once_the_start_has_ended(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    ended: list[bool] = []

    def slow_failure(*_args: Any) -> None:
        release.wait(timeout=5)
        ended.append(True)
        raise PyrunError("not this one")

    monkeypatch.setattr(lock_project, "_start_reading_pages", slow_failure)
    with (
        pytest.raises(PyrunError, match="no interpreter"),
        pages_read_meanwhile(workspace, SESSION, "write"),
    ):
        release.set()
        raise PyrunError("no interpreter")
    assert ended == [True]
