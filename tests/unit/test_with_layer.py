"""The `--with` layer's local pieces (SPEC §2.11): collecting, the skip check, the overlay."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.with_layer import satisfied
from pyrun.commands.with_overlay import OVERLAY_PTH, copy_console_scripts, overlay_pth_text
from pyrun.commands.with_request import WithRequest, collect_with
from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.local.target import Target
from pyrun.options import settle

PLAIN = Target(kind="python", name="python")
STDIN = Target(kind="stdin", name="-", stdin_text="print(1)", scriptlike=True)


def collect(argv: list[str], tmp_path: Path, target: Target = PLAIN) -> WithRequest | None:
    line = settle(parse_argv(["run", *argv, "python"]).command_line())
    return collect_with(line.run, target, Console(quiet=2), str(tmp_path))


# -- collecting ------------------------------------------------------------------------------


def test_with_values_split_on_commas_and_relative_paths_become_absolute(tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist/c.whl").write_bytes(b"")
    request = collect(["--with", "a>=1,b", "--with", "c @ ./dist/c.whl"], tmp_path)
    assert request is not None
    assert request.requirements == ("a>=1", "b", f"c @ {(tmp_path / 'dist/c.whl').as_uri()}")


def test_nothing_asked_is_none(tmp_path):
    assert collect([], tmp_path) is None
    (tmp_path / "empty.txt").write_text("\n")
    assert collect(["--with-requirements", "empty.txt"], tmp_path) is None


@pytest.mark.parametrize("name", ["pyproject.toml", "setup.py", "setup.cfg"])
def test_project_files_are_not_requirements(tmp_path, name):
    (tmp_path / name).write_text("")
    with pytest.raises(PyrunError) as caught:
        collect(["--with-requirements", name], tmp_path)
    assert caught.value.message == (
        "Adding requirements from a `pyproject.toml` is not supported in `pyrun run`"
    )
    assert caught.value.code == 2


def test_stdin_twice_is_an_error(tmp_path):
    with pytest.raises(PyrunError, match="Cannot read both requirements file and script"):
        collect(["--with-requirements", "-"], tmp_path, STDIN)


def test_requirements_txt_and_script_requirements(tmp_path):
    (tmp_path / "req.txt").write_text("alpha==1\n-c cons.txt\n")
    (tmp_path / "cons.txt").write_text("beta<2\n")
    (tmp_path / "s.py").write_text("# /// script\n# dependencies = ['gamma']\n# ///\n")
    request = collect(["--with-requirements", "req.txt,s.py"], tmp_path)
    assert request is not None
    assert request.requirements == ("alpha==1", "gamma")
    assert request.constraints == ("beta<2",)


def test_editable_needs_a_project(tmp_path):
    project = tmp_path / "pkg"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "Pkg"\nversion = "1"\n')
    request = collect(["--with-editable", "pkg"], tmp_path)
    assert request is not None and request.editables == (("pkg", str(project)),)
    (tmp_path / "empty").mkdir()
    for given, cause in [
        ("nowhere", f"Distribution not found at: {(tmp_path / 'nowhere').as_uri()}"),
        ("empty", f"`{tmp_path / 'empty'}` does not appear to be a Python project, as neither "),
    ]:
        with pytest.raises(PyrunError) as caught:
            collect(["--with-editable", given], tmp_path)
        assert caught.value.message == "Failed to resolve `--with` requirement"
        assert caught.value.causes[0].startswith(cause)
        assert caught.value.code == 1


def test_pylock_files_are_kept_for_later(tmp_path):
    (tmp_path / "pylock.toml").write_text('lock-version = "1.0"\n')
    request = collect(["--with-requirements", "pylock.toml"], tmp_path)
    assert request is not None
    assert request.pylocks == (("pylock.toml", 'lock-version = "1.0"\n'),)


# -- the skip check --------------------------------------------------------------------------


def dist(site: Path, name: str, version: str, *requires: str, direct: Any = None) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    if direct is not None:
        (info / "direct_url.json").write_text(json.dumps(direct))


@dataclass
class StubInterpreter:
    markers: dict[str, str]


LINUX: Any = StubInterpreter(
    {
        "sys_platform": "linux",
        "python_version": "3.12",
        "python_full_version": "3.12.1",
        "implementation_name": "cpython",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": "3.12.1",
    }
)


def test_satisfied_transitively(tmp_path):
    dist(tmp_path, "alpha", "1.0", "beta>=1", "winonly; sys_platform == 'win32'")
    dist(tmp_path, "beta", "1.5")
    sites = [str(tmp_path)]
    assert satisfied(WithRequest(requirements=("alpha",)), (), sites, LINUX)
    assert satisfied(WithRequest(requirements=("alpha>=1", "beta<2")), (), sites, LINUX)
    assert not satisfied(WithRequest(requirements=("beta>=2",)), (), sites, LINUX)
    assert not satisfied(WithRequest(requirements=("gamma",)), (), sites, LINUX)
    assert satisfied(
        WithRequest(requirements=("gamma; sys_platform == 'win32'",)), (), sites, LINUX
    )


def test_missing_dependency_or_extra_is_not_satisfied(tmp_path):
    dist(tmp_path, "alpha", "1.0", "beta", "delta; extra == 'more'")
    sites = [str(tmp_path)]
    assert not satisfied(WithRequest(requirements=("alpha",)), (), sites, LINUX)
    dist(tmp_path, "beta", "1.0")
    assert satisfied(WithRequest(requirements=("alpha",)), (), sites, LINUX)
    assert not satisfied(WithRequest(requirements=("alpha[more]",)), (), sites, LINUX)


def test_editable_must_be_installed_editable_from_that_path(tmp_path):
    site = tmp_path / "site"
    source = tmp_path / "src"
    editable = {"url": source.as_uri(), "dir_info": {"editable": True}}
    dist(site, "pkg", "1.0", direct=editable)
    request = WithRequest(editables=(("pkg", str(source)),))
    assert satisfied(request, (), [str(site)], LINUX)
    other = WithRequest(editables=(("pkg", str(tmp_path / "elsewhere")),))
    assert not satisfied(other, (), [str(site)], LINUX)
    plain = tmp_path / "plain"
    dist(plain, "pkg", "1.0", direct={"url": source.as_uri(), "dir_info": {}})
    assert not satisfied(request, (), [str(plain)], LINUX)


def test_direct_url_must_match(tmp_path):
    dist(tmp_path, "pkg", "1.0", direct={"url": "https://x.invalid/pkg-1.0.whl"})
    sites = [str(tmp_path)]
    assert satisfied(
        WithRequest(requirements=("pkg @ https://x.invalid/pkg-1.0.whl",)), (), sites, LINUX
    )
    assert not satisfied(
        WithRequest(requirements=("pkg @ https://x.invalid/other.whl",)), (), sites, LINUX
    )


# -- the overlay -----------------------------------------------------------------------------


def test_pth_is_one_line_and_survives_any_path(tmp_path):
    odd = str(tmp_path / 'quote"back\\slash é')
    text = overlay_pth_text(["/with/site", odd])
    assert text.count("\n") == 1 and text.startswith("import os, site; ")
    added: list[str] = []

    class FakeSite:
        @staticmethod
        def addsitedir(path: str) -> None:
            added.append(path)

    exec(text.replace("import os, site; ", ""), {"os": os, "site": FakeSite})
    assert added == ["/with/site", odd]
    assert OVERLAY_PTH == "_pyrun_ephemeral_overlay.pth"


def script_file(path: Path, shebang: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{shebang}\nprint('hi')\n")
    path.chmod(mode)


def test_console_scripts_are_copied_and_re_pointed(tmp_path):
    with_env, base, overlay = tmp_path / "with", tmp_path / "base", tmp_path / "overlay"
    (overlay / "bin").mkdir(parents=True)
    script_file(with_env / "bin" / "tool", f"{with_env}/bin/python")
    script_file(base / "bin" / "tool", f"{base}/bin/python")
    script_file(base / "bin" / "other", f"{base}/bin/python", 0o750)
    script_file(base / "bin" / "foreign", "/usr/bin/env python3")
    script_file(base / "bin" / "python3", f"{base}/bin/python")
    copy_console_scripts(str(overlay), [str(with_env), str(base)])
    names = sorted(os.listdir(overlay / "bin"))
    assert names == ["other", "tool"]
    assert (overlay / "bin" / "tool").read_text().startswith(f"#!{overlay}/bin/python\n")
    assert "print('hi')" in (overlay / "bin" / "tool").read_text()
    assert stat.S_IMODE((overlay / "bin" / "other").stat().st_mode) == 0o750
