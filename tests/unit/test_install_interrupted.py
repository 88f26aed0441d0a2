"""An install or uninstall stopped at any step never leaves a distribution that looks installed.

Each test stops the operation at its n-th file-system step (a link, a file created, a rename, a
directory made, a file removed), for every n until it completes, the way a signal or a full
disk would, then checks what the next sync sees and that its plan repairs the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrun.core.plan import RequiredDist, make_plan
from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.install import (
    InstallTarget,
    install_wheel,
    installed_distributions,
    uninstall,
)
from pyrun.local.unpack import unpack_wheel
from tests.unit.test_unpack import make_wheel

FILES = {
    "demo/__init__.py": b"from demo.core import VALUE\n",
    "demo/core.py": b"VALUE = 42\n",
    "demo/sub/__init__.py": b"",
}
ENTRY_POINTS = "[console_scripts]\ndemo-tool = demo.core:main\n"
DATA = {"scripts/demo-raw": b"#!python\nprint('raw')\n", "data/share/demo.txt": b"notes\n"}
STEPS = ("link", "open", "replace", "mkdir", "unlink", "rename")


class Interrupted(BaseException):
    """Stands for SIGINT/SIGKILL (or ENOSPC) at one precise step."""


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    wheel = make_wheel(tmp_path, files=FILES, entry_points=ENTRY_POINTS, data=DATA)
    return unpack_wheel(wheel, Cache(tmp_path / "cache").init())


def _target(root: Path) -> InstallTarget:
    target = InstallTarget.for_venv(root, (3, 12))
    os.makedirs(target.site_packages)
    return target


def _stop_at(monkeypatch: pytest.MonkeyPatch, step: int, fault: type[BaseException]) -> None:
    """Let `step` file-system operations through, then fail every later one."""
    count = iter(range(10**6))
    for name in STEPS:
        real = getattr(os, name)
        monkeypatch.setattr(os, name, _counting(real, count, step, fault))


def _counting(
    real: Callable[..., object], count: Iterator[int], step: int, fault: type[BaseException]
) -> Callable[..., object]:
    def wrapper(*args: object, **kwargs: object) -> object:
        if next(count) >= step:
            raise fault(28, "No space left on device") if fault is OSError else fault()
        return real(*args, **kwargs)

    return wrapper


def _files(root: str | Path) -> dict[str, bytes]:
    """Every file and its content; RECORD by its list of paths (it hashes the launchers,
    which name each environment's own interpreter)."""
    files = {}
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            body = path.read_bytes()
            if path.name == "RECORD":
                body = b"\n".join(line.split(b",")[0] for line in body.splitlines())
            files[str(path.relative_to(root))] = body
    return files


def _repair(target: InstallTarget, archive: Path) -> None:
    """What the next sync does: plan against what is installed, uninstall, install."""
    installed = installed_distributions(target.site_packages)
    plan = make_plan([RequiredDist(name="demo", version="1.0")], installed)
    for old in plan.to_uninstall:
        uninstall(target.site_packages, old.name, prefix=target.prefix)
    for _dist in plan.to_install:
        install_wheel(archive, target)


def _reference(tmp_path: Path, archive: Path) -> dict[str, bytes]:
    target = _target(tmp_path / "reference")
    install_wheel(archive, target)
    return _files(target.prefix)


@pytest.mark.parametrize("fault", [Interrupted, OSError])
def test_interrupted_install_is_never_trusted_and_is_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, archive: Path, fault: type[BaseException]
) -> None:
    expected = _reference(tmp_path, archive)
    steps = 0
    for step in range(500):
        target = _target(tmp_path / f"env{step}")
        with monkeypatch.context() as patch:
            _stop_at(patch, step, fault)
            try:
                install_wheel(archive, target)
            except (Interrupted, FailureError):
                pass
            else:
                break
        steps += 1
        found = installed_distributions(target.site_packages)
        assert "demo" not in found or not found["demo"].complete, f"trusted after step {step}"
        _repair(target, archive)
        assert not list(Path(target.site_packages).rglob("RECORD.tmp*"))
        assert installed_distributions(target.site_packages)["demo"].complete
        assert _files(target.prefix) == _rewrite(expected, tmp_path / "reference", target.prefix)
    assert steps >= 10  # every link, file and the RECORD rename was a stopping point


def test_interrupted_uninstall_is_never_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, archive: Path
) -> None:
    expected = _reference(tmp_path, archive)
    steps = 0
    for step in range(500):
        target = _target(tmp_path / f"env{step}")
        install_wheel(archive, target)
        with monkeypatch.context() as patch:
            _stop_at(patch, step, Interrupted)
            try:
                uninstall(target.site_packages, "demo", prefix=target.prefix)
            except Interrupted:
                pass
            else:
                break
        steps += 1
        found = installed_distributions(target.site_packages)
        if step > 0:
            assert "demo" not in found or not found["demo"].complete, f"trusted after {step}"
        _repair(target, archive)
        assert _files(target.prefix) == _rewrite(expected, tmp_path / "reference", target.prefix)
    assert steps >= 5


def _rewrite(files: dict[str, bytes], old: str | Path, new: str | Path) -> dict[str, bytes]:
    """Generated files name the environment's interpreter: expect this environment's."""
    old_python, new_python = (os.path.join(root, "bin", "python") for root in (old, new))
    return {
        name: body.replace(old_python.encode(), new_python.encode()) for name, body in files.items()
    }


def test_a_sync_that_starts_changing_the_env_voids_its_stamp(tmp_path: Path) -> None:
    """Whatever step a sync is stopped at, the stamp of the env it was changing no longer
    holds: `apply_plan` touches site-packages (which the stamp records) before anything else."""
    from pyrun.net.sync import _mark_changing
    from pyrun.stamp import first_change, read_stamp, write_stamp

    target = _target(tmp_path / "venv")
    (Path(target.prefix) / "pyvenv.cfg").write_text("home = /usr/bin\n")
    path = str(tmp_path / "stamp")
    write_stamp(
        path,
        key="k",
        env=str(target.prefix),
        python=str(target.python_executable),
        site_packages=str(target.site_packages),
        files=[],
        dirs=[],
    )
    record = read_stamp(path)
    assert record is not None and first_change(record) is None
    time.sleep(0.02)  # past the file system's timestamp granularity
    _mark_changing(target)
    assert first_change(record) is not None
