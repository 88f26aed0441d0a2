"""What a user sees while pyrun works (issue 16): live progress on a terminal, uv's download
lines in a log, nothing under `-q`, and uv's colours.

The index is slowed down (a delay per request, a capped transfer rate) and serves one wheel
larger than uv's 1 MiB threshold, so a cold run lasts long enough for the spinner, the
`Preparing packages... (k/N)` count and the download bar to be seen moving.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python, pyrun_executable
from tests.support.index_server import IndexServer
from tests.support.terminal import ANSI, SPINNER, frames, run_in_terminal
from tests.support.wheels import make_wheel

PY312 = find_python("3.12")
UV = Path(sys.executable).parent / "uv"
pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
# Bytes of incompressible data: two wheels above uv's 1 MiB threshold, one done well before
# the other.
BIG_SIZE = 2_500_000
MID_SIZE = 1_200_000
RATE = 1_000_000  # bytes per second and connection: the big wheel takes ~2.5 s
# Files in a wheel whose install takes long enough for the install bar to be drawn (a phase
# shorter than `pyrun.progress.DRAW_AFTER` is not).
MANY_FILES = 4000
PROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["big", "mid", "alpha", "many"]
"""
CHANGES = ["alpha==1.0.0", "beta==1.0.0", "big==1.0.0", "many==1.0.0", "mid==1.0.0"]


def blob_wheel(name: str, size: int) -> bytes:
    blob = random.Random(size).randbytes(size)
    return make_wheel(name, "1.0.0", files={f"{name}/__init__.py": "", f"{name}/blob.bin": blob})


@pytest.fixture(scope="module")
def large_wheels() -> dict[str, bytes]:
    files = {f"many/m{i}.py": f"X = {i}\n" for i in range(MANY_FILES)}
    return {
        "big": blob_wheel("big", BIG_SIZE),
        "mid": blob_wheel("mid", MID_SIZE),
        "many": make_wheel("many", "1.0.0", files={"many/__init__.py": "", **files}),
    }


@pytest.fixture
def index(large_wheels: dict[str, bytes]) -> Iterator[IndexServer]:
    with IndexServer() as server:
        for name, wheel in large_wheels.items():
            server.add(f"{name}-1.0.0-py3-none-any.whl", wheel)
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        yield server


@pytest.fixture
def slow(index: IndexServer) -> IndexServer:
    index.delay = 0.05
    index.rate = RATE
    return index


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT)
    (root / ".python-version").write_text("3.12\n")
    return root


def terminal_env(env: PyrunEnv, index: IndexServer, **extra: str) -> dict[str, str]:
    """The sandbox's environment as a terminal user has it: progress and colour not disabled."""
    environ = {**env.env, "PYRUN_INDEX_URL": index.index_url, "TERM": "xterm-256color"}
    for key in ("PYRUN_NO_PROGRESS", "NO_COLOR"):
        environ.pop(key, None)
    return {**environ, **extra}


def on_terminal(
    env: PyrunEnv,
    index: IndexServer,
    project: Path,
    *args: str,
    interrupt_on: str | None = None,
    **extra: str,
):
    return run_in_terminal(
        [pyrun_executable(), *args],
        cwd=project,
        env=terminal_env(env, index, **extra),
        interrupt_on=interrupt_on,
    )


def numbers(pattern: str, lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.search(pattern, line))]


# -- on a terminal ---------------------------------------------------------------------------


def test_a_cold_run_shows_the_spinner_and_bars_advancing(pyrun_env, slow, project):
    code, output = on_terminal(pyrun_env, slow, project, "run", "python", "-c", "pass")
    assert code == 0, output
    lines = frames(output)
    # The resolution: a spinner naming the package being read (`Resolving dependencies...`
    # shows only when no package was read before the first frame, 0.1 s in).
    spinning = [line for line in lines if line[:1] in SPINNER]
    assert any(re.search(r"^. (alpha|beta|big)==1\.0\.0$", line) for line in spinning), lines
    # The wheels fetched while resolving: `Preparing packages... (k/N)` while the run waits
    # for them (the small ones are ready by then), a bar for the big wheel whose byte count
    # moves.
    counts = numbers(r"Preparing packages\.\.\. \((\d+)/\d+\)", lines)
    assert counts and counts == sorted(counts, key=int), lines
    done = numbers(r"^big +-+ +([\d.]+ [KM]iB|\d+ B)/2\.39 MiB", lines)
    assert len(set(done)) >= 2, lines
    # The summary, last, once the region is gone (`run` lists the changes only under `-v`).
    # Five small wheels install in under the 0.1 s a phase must last to be drawn, so the
    # install bar is not asked for here (`tests/unit/test_progress.py` draws it).
    assert lines[-1].startswith("Installed 5 packages in "), lines
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # the cursor is back


def test_sync_of_a_lock_counts_each_download_as_it_completes(pyrun_env, slow, project):
    assert (
        pyrun_env.run("lock", cwd=project, env={"PYRUN_INDEX_URL": slow.index_url}).returncode == 0
    )
    code, output = on_terminal(pyrun_env, slow, project, "sync")
    assert code == 0, output
    lines = frames(output)
    counts = numbers(r"Preparing packages\.\.\. \((\d+)/5\)", lines)
    # Each wheel counts once it is ready, while the big one is still coming: the count moves
    # (at least once more when `mid` is ready), not at once at the end.
    assert len(set(counts)) >= 2, lines
    assert counts == sorted(counts, key=int), counts
    assert numbers(r"^big +-+ +([\d.]+ [KM]iB)/2\.39 MiB", lines), lines
    assert numbers(r"^mid +-+ +([\d.]+ [KM]iB)/1\.15 MiB", lines), lines
    summary = lines[-6:]
    assert summary[0].startswith("Installed 5 packages in "), lines
    assert summary[1:] == [f" + {change}" for change in CHANGES]


def test_no_progress_on_a_terminal_prints_download_lines_as_uv(pyrun_env, slow, project):
    code, output = on_terminal(pyrun_env, slow, project, "sync", "--no-progress")
    assert code == 0, output
    lines = frames(output)
    assert not any(line[:1] in SPINNER or "Preparing packages" in line for line in lines), lines
    assert "Downloading big (2.4MiB)" in lines and " Downloaded big" in lines, lines
    assert "Downloading mid (1.1MiB)" in lines and " Downloaded mid" in lines, lines
    assert "Downloading alpha" not in output  # small files are not announced


def test_quiet_on_a_terminal_draws_nothing(pyrun_env, slow, project):
    code, output = on_terminal(pyrun_env, slow, project, "sync", "-q")
    assert code == 0, output
    assert output == ""


# -- piped -----------------------------------------------------------------------------------


def test_piped_output_has_no_progress_only_the_large_download(pyrun_env, index, project):
    environ = terminal_env(pyrun_env, index)
    result = subprocess.run(
        [pyrun_executable(), "sync"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    assert not any(char in result.stderr for char in SPINNER)
    lines = result.stderr.splitlines()
    assert lines.count("Downloading big (2.4MiB)") == 1, lines
    assert lines.count(" Downloaded big") == 1, lines
    assert lines.index("Downloading big (2.4MiB)") < lines.index(" Downloaded big")


def in_order(lines: list[str]) -> list[str]:
    """`lines` with each run of download lines sorted: concurrent transfers end in any order."""
    ordered: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if "Download" in line:
            run.append(line)
            continue
        ordered += [*sorted(run), line]
        run = []
    return ordered[:-1]


@pytest.mark.uv
def test_piped_sync_logs_downloads_after_resolving_as_uv(pyrun_env, index, project, tmp_path):
    """pyrun fetches wheels while it resolves, uv only after: the log reads as uv's all the
    same, `Resolved`, the downloads, `Prepared` (what was fetched ahead counts), `Installed`."""
    ours = pyrun_env.run("sync", cwd=project, env={"PYRUN_INDEX_URL": index.index_url})
    assert ours.returncode == 0, ours
    theirs = project.parent / "theirs"
    theirs.mkdir()
    (theirs / "pyproject.toml").write_text(PROJECT)
    (theirs / ".python-version").write_text("3.12\n")
    done = uv(theirs, tmp_path, "sync", "--index-url", index.index_url)
    assert done.returncode == 0, done.stderr

    def shape(stderr: str) -> list[str]:
        lines = timeless(stderr).splitlines()
        return in_order([line for line in lines if not line.startswith("Using ")])

    assert shape(ours.stderr) == shape(done.stderr)
    assert shape(ours.stderr)[1:8] == [
        "Resolved 6 packages in T",
        " Downloaded big",
        " Downloaded mid",
        "Downloading big (2.4MiB)",
        "Downloading mid (1.1MiB)",
        "Prepared 5 packages in T",
        "Installed 5 packages in T",
    ]


# -- colour ----------------------------------------------------------------------------------


def uv(project: Path, tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.pop("NO_COLOR", None)
    environ.pop("FORCE_COLOR", None)
    environ.update(
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        **extra,
    )
    return subprocess.run(
        [str(UV), *args, "--python", str(PY312)],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def timeless(text: str) -> str:
    return re.sub(r"in [\d.]+m?s|in \dm \d\ds", "in T", text)


@pytest.mark.uv
def test_color_always_writes_uv_escapes_byte_for_byte(pyrun_env, index, project, tmp_path):
    theirs = project.parent / "theirs"
    theirs.mkdir()
    (theirs / "pyproject.toml").write_text(PROJECT)
    (theirs / ".python-version").write_text("3.12\n")
    done = uv(theirs, tmp_path, "sync", "--color", "always", "--index-url", index.index_url)
    assert done.returncode == 0, done.stderr
    environ = {"PYRUN_INDEX_URL": index.index_url, "PYRUN_PYTHON": str(PY312)}
    ours = pyrun_env.run("sync", "--color", "always", cwd=project, env=environ)
    assert ours.returncode == 0, ours

    def comparable(stderr: str) -> list[str]:
        # Paths differ (the interpreter uv was given, the sandbox's), and so may the order of
        # concurrent download lines; the escapes around them must not.
        lines = in_order(timeless(stderr).splitlines())
        return [re.sub(r"(interpreter at: \x1b\[36m)[^\x1b]*", r"\1PATH", x) for x in lines]

    assert comparable(ours.stderr) == comparable(done.stderr)
    assert "\x1b[32m+\x1b[39m \x1b[1mbig\x1b[0m\x1b[2m==1.0.0\x1b[0m" in ours.stderr


@pytest.mark.uv
def test_error_labels_are_uv_escapes(pyrun_env, index, project, tmp_path):
    (project / "pyproject.toml").write_text(PROJECT.replace('"alpha"', '"missing-pkg"'))
    environ = {"PYRUN_INDEX_URL": index.index_url}
    ours = pyrun_env.run("lock", "--color", "always", cwd=project, env=environ)
    done = uv(project, tmp_path, "lock", "--color", "always", "--index-url", index.index_url)
    assert ours.returncode == done.returncode == 1, (ours, done.stderr)
    error = "\x1b[1m\x1b[31merror\x1b[39m\x1b[0m\x1b[1m:\x1b[0m "
    cause = "  \x1b[1m\x1b[31mcause\x1b[39m\x1b[0m\x1b[1m:\x1b[0m "
    for stderr in (ours.stderr, done.stderr):
        assert error in stderr and cause in stderr, stderr


@pytest.mark.parametrize(
    ("args", "extra", "coloured"),
    [
        ((), {}, True),
        (("--color", "never"), {}, False),
        ((), {"NO_COLOR": "1"}, False),
        ((), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (("--color", "always"), {"NO_COLOR": "1"}, True),
        ((), {"TERM": "dumb"}, False),
    ],
)
def test_colour_on_a_terminal_follows_the_settings(
    pyrun_env, index, project, args, extra, coloured
):
    code, output = on_terminal(pyrun_env, index, project, "sync", "--no-progress", *args, **extra)
    assert code == 0, output
    assert ("\x1b[36m.venv\x1b[39m" in output) is coloured, output
    assert ("\x1b[" in ANSI.sub("", output)) is False


@pytest.mark.parametrize(
    ("args", "extra", "coloured"),
    [
        ((), {}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "0"}, True),
        ((), {"CLICOLOR_FORCE": "1"}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--color", "always"), {}, True),
    ],
)
def test_colour_when_piped_follows_the_settings(pyrun_env, index, project, args, extra, coloured):
    environ = {"PYRUN_INDEX_URL": index.index_url, **extra}
    pyrun_env.env.pop("NO_COLOR", None)
    result = pyrun_env.run("sync", *args, cwd=project, env=environ)
    assert result.returncode == 0, result
    assert ("\x1b[" in result.stderr) is coloured, result


@pytest.mark.uv
def test_lock_changes_in_colour_match_uv(pyrun_env, index, tmp_path):
    projects = []
    for name in ("ours", "theirs"):
        root = tmp_path / name
        root.mkdir()
        (root / "pyproject.toml").write_text(PROJECT.replace('"big", "mid", ', ""))
        (root / ".python-version").write_text("3.12\n")
        assert uv(root, tmp_path, "lock", "--index-url", index.index_url).returncode == 0
        (root / "pyproject.toml").write_text(
            PROJECT.replace('"big", "mid", "alpha"', '"mid", "beta"')
        )
        projects.append(root)
    ours, theirs = projects
    mine = pyrun_env.run(
        "lock", "--color", "always", cwd=ours, env={"PYRUN_INDEX_URL": index.index_url}
    )
    done = uv(theirs, tmp_path, "lock", "--color", "always", "--index-url", index.index_url)
    assert mine.returncode == done.returncode == 0, (mine, done.stderr)
    expected = [
        "\x1b[1m\x1b[31mRemoved\x1b[39m\x1b[0m alpha v1.0.0",
        "\x1b[1m\x1b[32mAdded\x1b[39m\x1b[0m mid v1.0.0",
    ]
    assert mine.stderr.splitlines()[-2:] == done.stderr.splitlines()[-2:] == expected


def test_ctrl_c_while_drawing_clears_the_region_and_restores_the_cursor(pyrun_env, slow, project):
    code, output = on_terminal(
        pyrun_env, slow, project, "sync", interrupt_on="Preparing packages..."
    )
    assert code == 130, output
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # the cursor is back
    assert "Traceback" not in output
