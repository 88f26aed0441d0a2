"""Work that needs no interpreter runs while a managed Python downloads (`alongside_downloads`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.net import interrupt, pythons


def _download(steps: list[str], *, fails: bool = False) -> Any:
    async def ensure_python(*_args: object, **_kwargs: object) -> Path:
        steps.append("download started")
        await trio.sleep(0.05)
        if fails:
            raise PyrunError("No download found for request: cpython-3.99")
        steps.append("download done")
        return Path("/pythons/cpython/bin/python3")

    return ensure_python


def _run_alongside(job: Any) -> Path:
    jobs = pythons._ALONGSIDE.get()
    assert jobs == (job,)
    return interrupt.run(pythons._ensure_alongside, None, None, Console(quiet=1), jobs)


def test_the_job_runs_during_the_download_which_returns_when_both_are_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(pythons, "ensure_python", _download(steps))

    async def read_pages() -> None:
        steps.append("pages started")
        await trio.sleep(0.1)
        steps.append("pages done")

    with pythons.alongside_downloads(read_pages):
        path = _run_alongside(read_pages)
    assert path == Path("/pythons/cpython/bin/python3")
    assert steps == ["download started", "pages started", "download done", "pages done"]
    assert pythons._ALONGSIDE.get() == ()  # only for the block
    interrupt.stop()


def test_a_failed_download_cancels_the_job_and_fails_as_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(pythons, "ensure_python", _download(steps, fails=True))

    async def read_pages() -> None:
        try:
            await trio.sleep_forever()
        finally:
            steps.append("pages cancelled")

    with pythons.alongside_downloads(read_pages), pytest.raises(PyrunError) as info:
        _run_alongside(read_pages)
    assert not isinstance(info.value, BaseExceptionGroup)  # `pyfind` catches it by type
    assert steps == ["download started", "pages cancelled"]
    interrupt.stop()


def _warm_up_for(tmp_path: Path, pyproject: str, *argv: str) -> Any:
    from pyrun.cliparse import parse_argv
    from pyrun.commands.lock_project import index_warm_up
    from pyrun.local.cache import Cache
    from pyrun.local.discover import discover_workspace
    from pyrun.options import settle
    from pyrun.settings import Settings

    (tmp_path / "pyproject.toml").write_text(pyproject)
    workspace = discover_workspace(str(tmp_path), Console(quiet=1), settings_discovery=False)
    assert workspace is not None
    cache = Cache.open({}, cache_dir=str(tmp_path / "cache"), no_cache=False)
    settled = settle(parse_argv(["sync", *argv]).command_line(), Settings([]))
    return index_warm_up(workspace, settled, cache)


PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
dependencies = ["alpha>=1", "Beta_Pkg", "local", "direct @ https://example.invalid/d.whl"]
[dependency-groups]
dev = ["gamma", {include-group = "other"}]
[tool.uv.sources]
local = { path = "../local" }
alpha = { index = "mine" }
"""


def test_the_warm_up_reads_the_registry_requirements_of_a_project_without_a_lock(
    tmp_path: Path,
) -> None:
    job = _warm_up_for(tmp_path, PYPROJECT)
    assert job is not None
    options, plan, names = job.args
    assert names == ["alpha", "beta-pkg", "gamma"]  # not path/URL requirements
    assert plan.pinned == {"alpha": "mine"}
    assert options.cache_dir == tmp_path / "cache"


@pytest.mark.parametrize("argv", [(), ("--offline",), ("--refresh",)])
def test_no_warm_up_with_a_lock_offline_or_refreshing(tmp_path: Path, argv: tuple[str]) -> None:
    if not argv:
        (tmp_path / "uv.lock").write_text("version = 1\n")  # it may well hold: read nothing
    assert _warm_up_for(tmp_path, PYPROJECT, *argv) is None


def test_the_warm_up_leaves_out_members_however_their_requirements_are_spelt(
    tmp_path: Path,
) -> None:
    for name, requires in (("m-one", ["M_Two>=0", "alpha"]), ("m-two", ["m.one ; os_name != 'x'"])):
        member = tmp_path / "packages" / name
        member.mkdir(parents=True)
        (member / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1"\ndependencies = {requires!r}\n'
        )
    root = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    job = _warm_up_for(
        tmp_path,
        root + '[project]\nname = "r"\nversion = "1"\n'
        'dependencies = ["m-one", "alpha", "beta @ https://x.invalid/b.whl"]\n',
    )
    assert job is not None
    assert job.args[2] == ["alpha"]
