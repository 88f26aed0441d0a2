"""`pyrun export` (SPEC §4.3) against golden outputs written by the real uv 0.13.9.

Each golden file in `data/export/NN.txt` is what `uv export --frozen <options>` printed for the
fixture in `data/locks/<name>` (laid out as a real project), with `uv` replaced by `pyrun` in the
header and in `created-by`; pyrun must print the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.export import main
from pyrun.console import Console
from pyrun.core.export import (
    ExportSelection,
    check_conflicts,
    choose_format,
    exportable,
    header,
    is_pylock_name,
    pylock_toml,
    requirements_txt,
)
from pyrun.core.lockfile import loads
from pyrun.errors import PyrunError
from pyrun.options import settle

DATA = Path(__file__).parent / "data"
LOCKS = DATA / "locks"
GOLDEN = DATA / "export"
# Where a fixture's extra `*.pyproject.toml` files go, relative to its root.
LAYOUT = {
    "fork": {"localpkg": "libs/localpkg"},
    "paths": {"localdir": "vendor/localdir"},
    "root-groups": {"core": "packages/core"},
    "workspace": {"alpha": "packages/alpha", "beta": "packages/beta"},
}
CASES = [
    (1, "plain-app", "--frozen"),
    (2, "plain-app", "--frozen --format pylock.toml"),
    (3, "plain-app", "--frozen --no-hashes --no-annotate"),
    (
        4,
        "plain-app",
        "--frozen -q -P six --upgrade-package=six --format requirements-txt --no-hashes",
    ),
    (5, "groups", "--frozen"),
    (6, "groups", "--frozen --format pylock.toml"),
    (7, "groups", "--frozen --no-editable --no-hashes"),
    (8, "groups", "--frozen --only-group lint --no-hashes"),
    (9, "groups", "--frozen --all-groups --no-hashes"),
    (10, "groups", "--frozen --no-emit-project --no-dev --no-hashes"),
    (11, "groups", "--frozen --only-dev --no-hashes"),
    (12, "groups", "--frozen --no-default-groups --no-hashes"),
    (13, "groups", "--frozen --no-group lint --no-hashes"),
    (14, "groups", "--frozen --no-editable --format pylock.toml --no-dev"),
    (15, "groups", "--frozen --prune pytest --no-hashes"),
    (16, "groups", "--frozen --no-emit-package ruff --no-header --no-hashes"),
    (17, "workspace", "--frozen --no-hashes"),
    (18, "workspace", "--frozen --package alpha --no-hashes"),
    (19, "workspace", "--frozen --package beta --group tools --no-hashes"),
    (20, "workspace", "--frozen --package beta --only-group tools --no-hashes"),
    (21, "workspace", "--frozen --package beta --all-groups --no-hashes"),
    (22, "workspace", "--frozen --all-packages --no-emit-project --no-hashes"),
    (23, "workspace", "--frozen --no-emit-workspace --no-hashes"),
    (24, "workspace", "--frozen --prune beta --no-hashes"),
    (25, "workspace", "--frozen --no-emit-package six --no-emit-package beta --no-hashes"),
    (26, "workspace", "--frozen --package alpha --no-emit-project --no-hashes"),
    (27, "workspace", "--frozen --extra x --no-hashes"),
    (28, "workspace", "--frozen --format pylock.toml --all-packages"),
    (29, "conflicts", "--frozen --extra old"),
    (30, "conflicts", "--frozen --group g1 --extra new"),
    (31, "conflicts", "--frozen --only-group g2"),
    (32, "conflicts", "--frozen --format pylock.toml"),
    (33, "extras", "--frozen"),
    (34, "extras", "--frozen --extra cli --no-hashes"),
    (35, "extras", "--frozen --all-extras --no-hashes"),
    (36, "extras", "--frozen --extra zzz --format pylock.toml"),
    (37, "extras", "--frozen --prune httpx --no-hashes"),
    (38, "paths", "--frozen"),
    (39, "paths", "--frozen --no-editable"),
    (40, "paths", "--frozen --format pylock.toml"),
    (41, "paths", "--frozen --format pylock.toml --no-editable"),
    (42, "manifest", "--frozen --no-hashes"),
    (43, "manifest", "--frozen --format pylock.toml"),
    (44, "options", "--frozen"),
    (45, "dynamic", "--frozen --format pylock.toml"),
    (46, "dynamic", "--frozen"),
    (47, "large", "--frozen --no-hashes"),
    (48, "fork", "--frozen --only-dev"),
    (49, "fork", "--frozen --no-hashes"),
    (50, "fork", "--frozen --format pylock.toml --no-editable"),
    (51, "script", "--frozen --script s.py --no-hashes"),
    (52, "script", "--frozen --script s.py --format pylock.toml"),
    # A member of a project root takes the root's groups named explicitly, except those it
    # declares itself (uv 0.13.9's `group_root`).
    (53, "root-groups", "--frozen --package core --group docs --group dev --no-hashes"),
    (54, "root-groups", "--frozen --package core --all-groups"),
    (55, "root-groups", "--frozen --package core --only-group docs --no-hashes"),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("PYRUN_", "UV_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PYRUN_NO_CONFIG", "1")


def materialise(name: str, directory: Path) -> Path:
    """Copy fixture `name` into `directory`, each member's pyproject at its place."""
    for path in (LOCKS / name).iterdir():
        member = path.name.removesuffix(".pyproject.toml")
        where = LAYOUT.get(name, {}).get(member)
        target = directory / where / "pyproject.toml" if where else directory / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return directory


def export(options: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    argv = ["export", *options.split()]
    args = parse_argv(argv)
    code = main(settle(args.command_line()), Console(quiet=args.quiet or 0, color="never"), argv)
    return code, capsys.readouterr().out


def _params() -> list[object]:
    params: list[object] = []
    for number, fixture, options in CASES:
        params.append(pytest.param(number, fixture, options, id=f"{fixture} {options}"))
    return params


@pytest.mark.parametrize(("number", "fixture", "options"), _params())
def test_export_matches_uv(
    number: int,
    fixture: str,
    options: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(materialise(fixture, tmp_path))
    code, out = export(options, capsys)
    assert code == 0
    assert out == (GOLDEN / f"{number:02d}.txt").read_text()


@pytest.mark.parametrize("fmt", ["requirements.txt", "pylock.toml"])
def test_git_sources_match_uv(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copyfile(GOLDEN / "git" / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    options = "--frozen" if fmt == "requirements.txt" else "--frozen --format pylock.toml"
    code, out = export(options, capsys)
    assert (code, out) == (0, (GOLDEN / "git" / fmt).read_text())


def test_output_file_and_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(materialise("groups", tmp_path))
    code, out = export("--frozen --no-hashes -o out.txt", capsys)
    written = (tmp_path / "out.txt").read_text()
    assert code == 0 and out == written
    assert written.splitlines()[1] == "#    pyrun export --frozen --no-hashes -o out.txt"
    code, out = export("--frozen -q -o pylock.toml", capsys)
    assert (code, out) == (0, "")
    assert 'created-by = "pyrun"' in (tmp_path / "pylock.toml").read_text()


def test_pylock_to_another_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(materialise("plain-app", tmp_path))
    with pytest.raises(PyrunError) as info:
        export("--frozen --format pylock.toml -o foo.toml", capsys)
    assert info.value.code == 2
    assert info.value.message == (
        "Expected the output filename to be `pylock.toml` or `pylock.<name>.toml`, where "
        "`<name>` is non-empty and contains no dots; found `foo.toml`"
    )
    assert not (tmp_path / "foo.toml").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            "--extra old --extra new",
            "Extras `new` and `old` are incompatible with the declared conflicts: "
            "{`conflicts-demo[new]`, `conflicts-demo[old]`}",
        ),
        (
            "--all-groups",
            "Groups `g1` and `g2` are incompatible with the conflicts: "
            "{`conflicts-demo:g1`, `conflicts-demo:g2`}",
        ),
        (
            "--extra nope",
            "Extra `nope` is not defined in the `optional-dependencies` table for `conflicts-demo`",
        ),
    ],
)
def test_selection_errors(
    options: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(materialise("conflicts", tmp_path))
    with pytest.raises(PyrunError) as info:
        export(f"--frozen {options}", capsys)
    assert (info.value.code, info.value.message) == (2, message)


def test_missing_lock_under_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    materialise("groups", tmp_path)
    (tmp_path / "uv.lock").unlink()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PyrunError) as info:
        export("--frozen", capsys)
    assert info.value.code == 1
    assert info.value.message.startswith("Unable to find lockfile at `uv.lock`, but `--frozen`")


# -- the pure parts ----------------------------------------------------------------------------


def test_header_drops_options_that_do_not_change_the_output() -> None:
    argv = ["export", "-q", "--frozen", "-U", "-P", "six", "-Psix", "--upgrade-package=x", "-v"]
    assert header(argv) == (
        "# This file was autogenerated by pyrun via the following command:\n"
        "#    pyrun export --frozen\n"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pylock.toml", True),
        ("pylock.dev.toml", True),
        ("pylock..toml", False),
        ("pylock.a.b.toml", False),
        ("foo.toml", False),
        ("Pylock.toml", False),
    ],
)
def test_pylock_names(name: str, expected: bool) -> None:
    assert is_pylock_name(name) is expected


@pytest.mark.parametrize(
    ("requested", "output", "expected"),
    [
        (None, None, "requirements.txt"),
        (None, "pylock.toml", "pylock.toml"),
        (None, "pylock.x.toml", "pylock.toml"),
        (None, "pylock.a.b.toml", "requirements.txt"),
        (None, "x.toml", "requirements.txt"),
        ("requirements-txt", "pylock.toml", "requirements.txt"),
        ("pylock.toml", None, "pylock.toml"),
    ],
)
def test_format_choice(requested: str | None, output: str | None, expected: str) -> None:
    assert choose_format(requested, output) == expected


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(PyrunError) as info:
        choose_format("cyclonedx1.5", None)
    assert info.value.code == 2
    assert info.value.message == "invalid value 'cyclonedx1.5' for '--format <FORMAT>'"


LOOP_LOCK = """\
version = 1
revision = 5
requires-python = ">=3.11"
conflicts = [[
    { package = "app", extra = "a" },
    { package = "app", extra = "b" },
]]

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "left", marker = "sys_platform == 'linux'" },
    { name = "right", marker = "sys_platform == 'darwin'" },
    { name = "tool", marker = "extra == 'extra-3-app-a'" },
]

[package.optional-dependencies]
a = [
    { name = "tool" },
]

[[package]]
name = "left"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "right" },
]

[[package]]
name = "right"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "left", marker = "python_full_version < '3.12'" },
]

[[package]]
name = "tool"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_markers_are_unions_over_paths_and_cycles_terminate() -> None:
    lock = loads(LOOP_LOCK)
    entries = exportable(lock, ExportSelection(roots=("app",)))
    assert requirements_txt(entries, hashes=False) == (
        "left==1.0 ; (python_full_version < '3.12' and sys_platform == 'darwin') "
        "or sys_platform == 'linux'\n"
        "    # via\n"
        "    #   app\n"
        "    #   right\n"
        "right==1.0 ; sys_platform == 'darwin' or sys_platform == 'linux'\n"
        "    # via\n"
        "    #   app\n"
        "    #   left\n"
    )


def test_conflict_markers_follow_the_activated_extras() -> None:
    lock = loads(LOOP_LOCK)
    chosen = exportable(lock, ExportSelection(roots=("app",), extras=frozenset({"a"})))
    assert [(e.package.name, e.marker) for e in chosen if e.package.name == "tool"] == [
        ("tool", None)
    ]
    check_conflicts(lock, ExportSelection(roots=("app",), extras=frozenset({"a"})))
    with pytest.raises(PyrunError):
        check_conflicts(lock, ExportSelection(roots=("app",), extras=frozenset({"a", "b"})))


# A lock an older uv wrote: `orm`'s marker is a plain DNF that uv 0.13.9 prints factored, and
# `md[linkify]` is only asked for behind `tui`'s marker while `md` itself is unconditional.
EXTRA_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "orm" },
    { name = "rich" },
    { name = "tui", marker = "sys_platform != 'win32'" },
]

[package.metadata]
requires-dist = [
    { name = "orm" },
    { name = "rich" },
    { name = "tui", marker = "sys_platform != 'win32'" },
]

[[package]]
name = "greenlet"
version = "3.1.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "linkify"
version = "2.0.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "md"
version = "3.0.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
linkify = [
    { name = "linkify" },
]

[[package]]
name = "orm"
version = "2.0.37"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "greenlet", marker = "GREENLET" },
]

[[package]]
name = "rich"
version = "13.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "md" },
]

[[package]]
name = "tui"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "md", extra = ["linkify"] },
]
""".replace(
    "GREENLET",
    "(python_full_version < '3.14' and platform_machine == 'AMD64') or "
    "(python_full_version < '3.14' and platform_machine == 'aarch64') or "
    "(python_full_version < '3.14' and platform_machine == 'x86_64')",
)


def test_markers_print_factored_and_extras_keep_their_own_reachability() -> None:
    entries = exportable(loads(EXTRA_LOCK), ExportSelection(roots=("app",)))
    # `uv export --frozen --no-hashes` (uv 0.13.9) on this lock, without its header.
    assert requirements_txt(entries, hashes=False) == (
        "-e .\n"
        "greenlet==3.1.1 ; python_full_version < '3.14' and (platform_machine == 'AMD64' "
        "or platform_machine == 'aarch64' or platform_machine == 'x86_64')\n"
        "    # via orm\n"
        "linkify==2.0.3 ; sys_platform != 'win32'\n"
        "    # via md\n"
        "md==3.0.0\n"
        "    # via\n"
        "    #   rich\n"
        "    #   tui\n"
        "orm==2.0.37\n"
        "    # via app\n"
        "rich==13.0.0\n"
        "    # via app\n"
        "tui==1.0.0 ; sys_platform != 'win32'\n"
        "    # via app\n"
    )


FORKS = """\
{kind} = [
    "sys_platform == 'linux'",
    "sys_platform == 'darwin'",
]
"""


def _with_forks(kind: str) -> str:
    head, sep, rest = EXTRA_LOCK.partition('requires-python = ">=3.10"\n')
    return head + sep + FORKS.format(kind=kind) + rest


def test_supported_markers_put_no_marker_on_the_project() -> None:
    # `tool.uv.environments` alone: uv prints the markers as without it, `-e .` bare.
    entries = exportable(loads(_with_forks("supported-markers")), ExportSelection(roots=("app",)))
    lines = requirements_txt(entries, hashes=False, annotate=False).splitlines()
    assert lines[0] == "-e ."
    assert "md==3.0.0" in lines
    assert "linkify==2.0.3 ; sys_platform != 'win32'" in lines


def test_forks_limit_every_dependency_but_not_the_project() -> None:
    entries = exportable(loads(_with_forks("resolution-markers")), ExportSelection(roots=("app",)))
    lines = requirements_txt(entries, hashes=False, annotate=False).splitlines()
    # `uv export --frozen --no-hashes --no-annotate` (uv 0.13.9) on this lock.
    assert lines == [
        "-e .",
        "greenlet==3.1.1 ; python_full_version < '3.14' and ("
        "(platform_machine == 'AMD64' and sys_platform == 'darwin') or "
        "(platform_machine == 'aarch64' and sys_platform == 'darwin') or "
        "(platform_machine == 'x86_64' and sys_platform == 'darwin') or "
        "(platform_machine == 'AMD64' and sys_platform == 'linux') or "
        "(platform_machine == 'aarch64' and sys_platform == 'linux') or "
        "(platform_machine == 'x86_64' and sys_platform == 'linux'))",
        "linkify==2.0.3 ; sys_platform == 'darwin' or sys_platform == 'linux'",
        "md==3.0.0 ; sys_platform == 'darwin' or sys_platform == 'linux'",
        "orm==2.0.37 ; sys_platform == 'darwin' or sys_platform == 'linux'",
        "rich==13.0.0 ; sys_platform == 'darwin' or sys_platform == 'linux'",
        "tui==1.0.0 ; sys_platform == 'darwin' or sys_platform == 'linux'",
    ]


WHEEL_NAMES_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "backports-tarfile" },
    { name = "cython" },
    { name = "six" },
]

[[package]]
name = "backports-tarfile"
version = "1.2.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "URL/backports.tarfile-1.2.0-py3-none-any.whl", hash = "sha256:@", size = 30181 },
]

[[package]]
name = "cython"
version = "0.29.37"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "URL/Cython-0.29.37-py2.py3-none-any.whl", hash = "sha256:@", size = 989503 },
]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "URL/six-1.17.0-py2.py3-none-any.whl", hash = "sha256:@", size = 11050 },
]
""".replace("URL/", "https://files.example/").replace("@", "a" * 64)


def test_pylock_names_wheels_whose_url_is_not_their_normalised_filename() -> None:
    lock = loads(WHEEL_NAMES_LOCK)
    text = pylock_toml(lock, exportable(lock, ExportSelection(roots=("app",))), created_by="uv")
    files = "https://files.example"
    digest = 'hashes = { sha256 = "' + "a" * 64 + '" }'
    # The `wheels` lines of `uv export --frozen --format pylock.toml` (uv 0.13.9) on this lock.
    assert [line for line in text.splitlines() if line.startswith("wheels = ")] == [
        'wheels = [{ name = "backports_tarfile-1.2.0-py3-none-any.whl", '
        f'url = "{files}/backports.tarfile-1.2.0-py3-none-any.whl", size = 30181, {digest} }}]',
        'wheels = [{ name = "cython-0.29.37-py2.py3-none-any.whl", '
        f'url = "{files}/Cython-0.29.37-py2.py3-none-any.whl", size = 989503, {digest} }}]',
        f'wheels = [{{ url = "{files}/six-1.17.0-py2.py3-none-any.whl", size = 11050, {digest} }}]',
    ]
