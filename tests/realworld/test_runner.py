"""The test bed's own logic (scripts/realworld.py), with no project, network or uv needed."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.realworld import _runner

realworld = _runner.load()


def write_projects(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "projects.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_the_committed_project_list_loads() -> None:
    projects = realworld.load_projects()
    assert len(projects) >= 12
    assert all(project.command for project in projects)


@pytest.mark.parametrize("shape", ["[tool.uv] conflicts", "git source", "sdist-only package"])
def test_the_bed_has_two_projects_of_each_issue_13_shape(shape: str) -> None:
    assert len([p for p in realworld.load_projects() if shape in p.shape]) >= 2


def test_a_project_lists_its_checks_in_order(tmp_path: Path) -> None:
    path = write_projects(
        tmp_path,
        """
        [[project]]
        name = "demo"
        repo = "acme/demo"
        command = ["python", "-c", "print(1)"]
        extras = ["fast"]
        groups = ["docs"]
        packages = ["demo-core"]
        members = ["core"]
        syncs = [["--no-group", "a", "--group", "b"]]
        """,
    )
    [project] = realworld.load_projects(path)
    assert project.checks() == [
        "lock --check", "lock --check --offline", "run --frozen", "installed", "run (warm)",
        "sync --locked",
        "extra fast", "group docs", "package demo-core", "member core",
        "sync --no-group a --group b",
        "export", "export --no-hashes", "relock (after an edit)", "lock (from scratch)",
    ]  # fmt: skip


def test_a_project_judged_by_its_locks_alone_runs_only_the_lock_checks(tmp_path: Path) -> None:
    body = '[[project]]\nname = "a"\nrepo = "o/a"\ncommand = ["x"]\nlocks_only = true\n'
    [project] = realworld.load_projects(write_projects(tmp_path, body))
    assert project.checks() == [
        "lock --check", "lock --check --offline", "relock (after an edit)", "lock (from scratch)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        (
            '[project]\nname = "x"\ndependencies = [\n  "a",\n]\n[tool.x]\ndependencies = [\n',
            '[project]\nname = "x"\ndependencies = [\n    "iniconfig>=1",\n  "a",\n]\n'
            "[tool.x]\ndependencies = [\n",
        ),
        ("[project]\ndependencies = []\n", '[project]\ndependencies = [\n    "iniconfig>=1",]\n'),
        # No list in the project table: one is made.
        (
            '[project]\nname = "x"\n[tool]\ndependencies = ["a"]\n',
            '[project]\ndependencies = ["iniconfig>=1"]\nname = "x"\n'
            '[tool]\ndependencies = ["a"]\n',
        ),
        # A virtual root, or dependencies the backend computes: nothing to edit.
        ('[tool.uv.workspace]\nmembers = ["a"]\n[tool.x]\ndependencies = []\n', None),
        ('[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n', None),
    ],
)
def test_the_relock_edit_adds_one_dependency_to_the_project_table(
    pyproject: str, expected: str | None
) -> None:
    assert realworld.add_dependency(pyproject, "iniconfig>=1") == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[project]]\nname = "a"\nrepo = "o/a"\ncommand = ["x"]\nnedds = []\n', "unknown keys"),
        ('[[project]]\nname = "a"\nrepo = "o/a"\n', "`command` is required"),
        ('[[project]]\nname = "a"\nrepo = "o/a"\ncommand = "python"\n', "list of strings"),
        ('[[project]]\nname = "a"\nrepo = "o/a"\ncommand = ["x"]\n' * 2, "duplicate"),
        ("[[project]\n", "cannot read"),
        ('[[project]]\nname = "a"\nrepo = "o/a"\ncommand = ["x"]\nsyncs = ["--group"]\n', "syncs"),
        ('[[project]]\nname = "a"\nrepo = "o/a"\ncommand = ["x"]\nlocks_only = 1\n', "locks_only"),
    ],
)
def test_a_bad_project_list_is_an_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(realworld.ConfigError, match=message):
        realworld.load_projects(write_projects(tmp_path, body))


def test_the_installed_set_comes_from_dist_info_metadata(tmp_path: Path) -> None:
    site = tmp_path / ".venv" / "lib" / "python3.12" / "site-packages"
    for folder, name, version in (("Foo_Bar-1.0", "Foo_Bar", "1.0"), ("baz-2", "baz", "2")):
        info = site / f"{folder}.dist-info"
        info.mkdir(parents=True)
        body = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nVersion: 9\n"
        (info / "METADATA").write_text(body, encoding="utf-8")
    assert realworld.installed_set(tmp_path / ".venv") == {"foo-bar": "1.0", "baz": "2"}


def test_set_difference_names_what_pyrun_lacks_and_adds() -> None:
    ours = {"a": "1", "b": "2", "c": "3"}
    theirs = {"a": "1", "b": "1", "d": "4"}
    assert realworld.set_difference(ours, theirs) == "-b==1 -d==4 +b==2 +c==3"
    assert realworld.set_difference(theirs, theirs) == ""


def seen(ok: bool, reason: str = "", payload: object = None) -> object:
    return realworld.Observation([], ok, reason, payload)


def test_exports_differing_only_in_the_tool_name_are_the_same() -> None:
    uv = "# This file was autogenerated by uv via the following command:\n#    uv export\nx==1\n"
    pyrun = uv.replace("by uv", "by pyrun").replace("#    uv ", "#    pyrun ")
    assert realworld.compare("export", seen(True, "", pyrun), seen(True, "", uv)) == (True, "")
    longer = seen(True, "", pyrun + "y==2\n")
    assert realworld.compare("export", longer, seen(True, "", uv)) == (False, "bytes differ: +y==2")


def test_run_outputs_are_compared_without_their_timings() -> None:
    assert realworld.compare(
        "run --frozen", seen(True, "", "3 passed in 0.23s"), seen(True, "", "3 passed in 1.2s")
    ) == (True, "")
    assert not realworld.compare(
        "run --frozen", seen(True, "", "3 passed in 0.2s"), seen(True, "", "2 passed in 0.2s")
    )[0]


def test_a_failure_under_one_tool_only_is_a_difference() -> None:
    failed = seen(False, "exit 1: error: stale")
    assert realworld.compare("lock --check", failed, seen(True, "exit 0")) == (
        False,
        "pyrun failed, uv passed: exit 1: error: stale",
    )
    assert realworld.compare("lock --check", failed, seen(False, "exit 2")) == (True, "")


def test_the_relock_reason_is_read_from_either_tools_verbose_output() -> None:
    def outcome(stderr: str) -> object:
        return realworld.Outcome(["t"], ".", 1, "", stderr, 0.1, "log")

    pyrun = outcome("DEBUG Resolving despite existing lockfile due to change in `x`\nerror: no")
    uv = outcome("DEBUG Ignoring existing lockfile due to fork markers being disjoint\nerror: no")
    assert pyrun.relock_reason() == "change in `x`"
    assert uv.why() == "exit 1: error: no (re-lock: fork markers being disjoint)"


def test_the_governing_lock_is_the_nearest_one_up_to_the_copy(tmp_path: Path) -> None:
    member = tmp_path / "packages" / "core"
    member.mkdir(parents=True)
    (tmp_path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    assert realworld.find_lock(member, tmp_path) == tmp_path / "uv.lock"
    assert realworld.find_lock(member, member) is None


def test_a_command_that_outlives_its_timeout_is_recorded_as_one(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(30)"]
    assert realworld._run_killable(argv, tmp_path, {}, timeout=1) == (None, "", "")


def test_the_table_escapes_what_markdown_would_read_as_columns() -> None:
    project = realworld.Project(name="demo", repo="acme/demo", command=("x",))
    result = realworld.CheckResult(
        "demo", "export", False, "exit 2: a | b", True, "exit 0", False, "", [], [], []
    )
    result.difference = "pyrun failed, uv passed: exit 2: a | b"
    meta = {"date": "today", "pyrun_commit": "abc", "uv_version": "uv 0.13.9"}
    table = realworld.render_markdown([result], meta, [project])
    assert "| demo | export | ✗ exit 2: a \\| b | ✓ | ≠ pyrun failed, uv passed |" in table
    assert "**1 differences**" in table


LOCK = """version = 1
requires-python = ">=3.10"

[[package]]
name = "anyio"
version = "4.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "coverage"
version = "7.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
toml = [
    { name = "tomli" },
]

[[package]]
name = "coverage"
version = "7.1"
source = { registry = "https://pypi.org/simple" }
"""


def test_locks_from_scratch_name_the_first_package_that_differs() -> None:
    same = realworld.compare("lock (from scratch)", seen(True, "", LOCK), seen(True, "", LOCK))
    assert same == (True, "")
    edited = LOCK.replace('    { name = "tomli" },', '    { name = "tomli", marker = "x" },')
    ours, theirs = seen(True, "", edited), seen(True, "", LOCK)
    assert realworld.compare("lock (from scratch)", ours, theirs) == (
        False,
        'locks differ: package coverage 7.0: -    { name = "tomli" }, '
        '| +    { name = "tomli", marker = "x" },',
    )


@pytest.mark.parametrize(
    ("ours", "expected"),
    [
        (
            LOCK.replace(">=3.10", ">=3.11"),
            'header: -requires-python = ">=3.10" | +requires-python = ">=3.11"',
        ),
        (
            LOCK.replace('version = "7.1"', 'version = "7.2"'),
            "package coverage 7.1: missing from pyrun's lock",
        ),
        (
            LOCK + '\n[[package]]\nname = "zipp"\nversion = "1"\n',
            "package zipp 1: only in pyrun's lock",
        ),
    ],
)
def test_a_lock_difference_says_where(ours: str, expected: str) -> None:
    assert realworld.lock_difference(ours, LOCK) == expected


def test_a_lock_from_scratch_is_judged_by_the_lock_it_wrote(tmp_path: Path) -> None:
    project = tmp_path / "copy"
    project.mkdir()
    (project / "uv.lock").write_text("old\n", encoding="utf-8")
    fake = tmp_path / "fake-tool"
    fake.write_text("#!/bin/sh\nprintf 'new\\n' > uv.lock\n", encoding="utf-8")
    fake.chmod(0o755)
    tool = realworld.Tool("fake", str(fake), "FAKE_CACHE", "FAKE_PYTHON", "FAKE_DOWNLOADS")
    box = realworld.Sandbox(
        tool, realworld.Project(name="demo", repo="acme/demo", command=("x",)), project,
        tmp_path / "out", {"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    observed = realworld.observe(box, ["lock (from scratch)"])["lock (from scratch)"]
    assert (observed.ok, observed.payload) == (True, "new\n")
    assert (project / "uv.lock").read_text(encoding="utf-8") == "old\n"
