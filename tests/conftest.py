"""Shared fixtures: an isolated home for every pyrun process a test starts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Tests send Ctrl-C to pyrun and to themselves. A shell that starts the suite as a
    background job (`… &`, no job control) hands every process an ignored SIGINT, which pyrun
    keeps ignored by design: give the suite, and the processes it starts, the default."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


PYENV = Path("/root/.pyenv/versions")


OPT_IN = {
    "network": ("PYRUN_TEST_NETWORK", "uses the real package index; set PYRUN_TEST_NETWORK=1"),
    "slow": ("PYRUN_TEST_SLOW", "many trials of a long test; set PYRUN_TEST_SLOW=1"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for marker, (variable, reason) in OPT_IN.items():
        if os.environ.get(variable) == "1":
            continue
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def pyrun_executable() -> str:
    beside = Path(sys.executable).parent / "pyrun"
    if beside.exists():
        return str(beside)
    found = shutil.which("pyrun")
    if not found:
        raise RuntimeError("the `pyrun` console script is not installed")
    return found


def find_python(minor: str) -> str | None:
    """A real interpreter of this machine, e.g. find_python("3.12")."""
    for candidate in sorted(PYENV.glob(f"{minor}.*/bin/python{minor}")):
        return str(candidate)
    return None


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:
        return f"<rc={self.returncode}\n--stdout--\n{self.stdout}\n--stderr--\n{self.stderr}>"


class PyrunEnv:
    """A sandbox: its own cache, config, data and home directories, and a clean environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.cache = root / "cache"
        self.pythons = root / "pythons"
        for path in (self.home, self.cache, self.pythons):
            path.mkdir(parents=True, exist_ok=True)
        self.bin = root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        # pyenv's versions are not on PATH (only its shims, most of which refuse to run): give
        # each sandbox `python3.X` links to the real interpreters, as a typical machine has.
        for minor in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13"):
            python = find_python(minor)
            if python and not (self.bin / f"python{minor}").exists():
                (self.bin / f"python{minor}").symlink_to(python)
        self.env = self._base_environment()

    def _base_environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYRUN_", "UV_"))}
        for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP"):
            env.pop(key, None)
        env.update(
            HOME=str(self.home),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CONFIG_DIRS=str(self.root / "etc"),
            PYRUN_CACHE_DIR=str(self.cache),
            PYRUN_PYTHON_INSTALL_DIR=str(self.pythons),
            PYRUN_PYTHON_DOWNLOADS="never",
            PYRUN_NO_PROGRESS="1",
            NO_COLOR="1",
            PATH=os.pathsep.join([str(self.bin), env.get("PATH", "/usr/bin:/bin")]),
        )
        return env

    def run(
        self,
        *args: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> Result:
        merged = {**self.env, **(env or {})}
        completed = subprocess.run(
            [pyrun_executable(), *args],
            cwd=cwd or self.root,
            env=merged,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def popen(
        self,
        *args: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        **kwargs: object,
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [pyrun_executable(), *args],
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            text=True,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def pyrun_env(tmp_path: Path) -> PyrunEnv:
    return PyrunEnv(tmp_path / "sandbox")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project: `make_project("app", pyproject="...", files={...})`."""

    def make(
        name: str = "app",
        *,
        pyproject: str | None = None,
        files: dict[str, str] | None = None,
        requires_python: str = ">=3.8",
        dependencies: str = "[]",
    ) -> Path:
        directory = tmp_path / name
        directory.mkdir(parents=True, exist_ok=True)
        text = pyproject
        if text is None:
            text = f"""
                [project]
                name = "{Path(name).name}"
                version = "0.1.0"
                requires-python = "{requires_python}"
                dependencies = {dependencies}
            """
        (directory / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
        for relative, content in (files or {}).items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content).lstrip())
        return directory

    return make


@pytest.fixture(scope="session")
def setuptools_wheel(request: pytest.FixtureRequest) -> Path:
    """A setuptools wheel from the public index, downloaded once and kept in the pytest cache."""
    directory = Path(request.config.cache.mkdir("pyrun-setuptools-wheel"))
    found = sorted(directory.glob("setuptools-*.whl"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "setuptools", "--no-deps"]
        command += ["--only-binary=:all:", "-d", str(directory), "-q"]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        found = sorted(directory.glob("setuptools-*.whl"))
        if not found:
            pytest.skip(f"could not download setuptools: {completed.stderr[-500:]}")
    return found[-1]


@pytest.fixture(scope="session")
def backend_wheels(request: pytest.FixtureRequest) -> Callable[[str], list[Path]]:
    """`backend_wheels("hatchling")`: the wheels of a build backend and of its requirements
    for CPython 3.12, downloaded from the public index once and kept in the pytest cache (the
    tests serve them from their local index); skips when neither has them."""

    def wheels(requirement: str) -> list[Path]:
        directory = Path(request.config.cache.mkdir(f"pyrun-backend-{requirement}"))
        done = directory / "complete"
        if not done.is_file():
            command = [sys.executable, "-m", "pip", "download", requirement, "-q"]
            command += ["--only-binary=:all:", "--python-version", "3.12", "-d", str(directory)]
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                pytest.skip(f"could not download {requirement}: {completed.stderr[-500:]}")
            done.write_text("")
        return sorted(directory.glob("*.whl"))

    return wheels
