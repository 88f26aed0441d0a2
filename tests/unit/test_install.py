"""Installing unpacked wheels from the cache into a real venv, and uninstalling them."""

from __future__ import annotations

import base64
import csv
import errno
import hashlib
import io
import os
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.install import (
    InstallTarget,
    Linker,
    install_wheel,
    installed_distributions,
    uninstall,
)
from pyrun.local.journal import Journal
from pyrun.local.placement import manifest_path
from pyrun.local.unpack import unpack_wheel
from tests.unit.test_unpack import make_wheel

if TYPE_CHECKING:
    from pyrun.local.install import LinkMode

BASE_PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python3")
pytestmark = pytest.mark.skipif(not BASE_PYTHON.exists(), reason="needs CPython 3.12.1")

ENTRY_POINTS = "[console_scripts]\ndemo-tool = demo.cli:main\n"
FILES = {
    "demo/__init__.py": b"VALUE = 42\n",
    "demo/cli.py": b"import demo\n\ndef main():\n    print('tool says', demo.VALUE)\n",
}
DATA = {
    "data/share/demo/notes.txt": b"notes\n",
    "scripts/demo-raw": b"#!python\nprint('raw script')\n",
    "headers/demo.h": b"#define DEMO 1\n",
}


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    path = tmp_path / "venv"
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", path], check=True)
    return path


@pytest.fixture
def target(venv: Path) -> InstallTarget:
    return InstallTarget.for_venv(venv, (3, 12))


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    wheel = make_wheel(tmp_path, files=FILES, entry_points=ENTRY_POINTS, data=DATA)
    return unpack_wheel(wheel, Cache(tmp_path / "cache").init())


def _run(venv: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [Path(venv) / "bin" / "python", *args], check=True, capture_output=True, text=True, env=env
    )
    return result.stdout


def test_target_for_venv(venv: Path) -> None:
    target = InstallTarget.for_venv(venv, (3, 12, 1))
    # Strings: the sync path joins them without loading `pathlib`.
    assert target.site_packages == str(venv / "lib" / "python3.12" / "site-packages")
    assert target.scripts == str(venv / "bin")
    assert target.python_executable == str(venv / "bin" / "python")
    assert target.scheme_dict("demo")["headers"] == str(
        venv / "include" / "site" / "python3.12" / "demo"
    )


def test_install_hardlinks_files_from_the_cache(
    archive: Path, target: InstallTarget, venv: Path
) -> None:
    linker = Linker()
    installed = install_wheel(archive, target, linker=linker)
    site = Path(target.site_packages)
    assert installed.dist_info == str(site / "demo-1.0.dist-info")
    for relative in ("demo/__init__.py", "demo/cli.py", "demo-1.0.dist-info/METADATA"):
        assert os.stat(site / relative).st_ino == os.stat(archive / relative).st_ino
    assert linker.fallback_reason is None and linker.linked >= 4
    # Generated files are never links into the cache.
    for generated in ("demo-1.0.dist-info/RECORD", "demo-1.0.dist-info/INSTALLER"):
        assert os.stat(site / generated).st_nlink == 1
    assert os.stat(venv / "bin" / "demo-tool").st_nlink == 1
    assert (venv / "share" / "demo" / "notes.txt").read_bytes() == b"notes\n"
    assert (venv / "include" / "site" / "python3.12" / "demo" / "demo.h").is_file()


def test_scripts_use_the_venv_python(archive: Path, target: InstallTarget, venv: Path) -> None:
    install_wheel(archive, target)
    tool = venv / "bin" / "demo-tool"
    assert tool.read_text().startswith(f"#!{venv / 'bin' / 'python'}\n")
    assert os.access(tool, os.X_OK)
    output = subprocess.run([tool], check=True, capture_output=True, text=True).stdout
    assert output == "tool says 42\n"
    raw = venv / "bin" / "demo-raw"
    assert raw.read_text() == f"#!{venv / 'bin' / 'python'}\nprint('raw script')\n"
    assert os.stat(raw).st_ino != os.stat(archive / "demo-1.0.data/scripts/demo-raw").st_ino
    assert subprocess.run([raw], check=True, capture_output=True, text=True).stdout == (
        "raw script\n"
    )


def test_record_installer_and_direct_url(archive: Path, target: InstallTarget) -> None:
    direct_url = {"url": "file:///src/demo", "dir_info": {"editable": True}}
    install_wheel(
        archive,
        target,
        direct_url=direct_url,
        requested=True,
        extra_metadata={"pyrun_cache.json": b'{"key": "abc"}'},
    )
    dist_info = Path(target.site_packages) / "demo-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_bytes() == b"pyrun"
    assert (dist_info / "direct_url.json").read_text() == (
        '{"url":"file:///src/demo","dir_info":{"editable":true}}'
    )
    assert (dist_info / "REQUESTED").read_bytes() == b""
    with open(dist_info / "RECORD", newline="") as file:
        rows = {row[0]: row for row in csv.reader(file)}
    assert rows["demo-1.0.dist-info/RECORD"] == ["demo-1.0.dist-info/RECORD", "", ""]
    assert rows["../../../bin/demo-tool"][1].startswith("sha256=")
    assert "../../../share/demo/notes.txt" in rows
    # Every hash in the installed RECORD is the hash of the installed file.
    check = (
        "import sys, importlib.metadata as m\n"
        "d = m.distribution('demo')\n"
        "import base64, hashlib\n"
        "def h(f):\n"
        "    digest = hashlib.new(f.hash.mode, f.read_binary()).digest()\n"
        "    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode()\n"
        "bad = [str(f) for f in d.files if f.hash and h(f) != f.hash.value]\n"
        "print(d.version, d.read_text('INSTALLER'), bad, sorted(e.name for e in d.entry_points))\n"
    )
    output = _run(target.prefix, "-c", check)
    assert output == "1.0 pyrun [] ['demo-tool']\n"


def test_installed_distributions_reads_dist_info(archive: Path, target: InstallTarget) -> None:
    install_wheel(archive, target, direct_url={"url": "https://x/demo.whl", "archive_info": {}})
    found = installed_distributions(target.site_packages)
    assert list(found) == ["demo"]
    dist = found["demo"]
    assert (dist.name, dist.version, dist.installer) == ("demo", "1.0", "pyrun")
    assert dist.direct_url == {"url": "https://x/demo.whl", "archive_info": {}}
    assert dist.dist_info_path == str(Path(target.site_packages) / "demo-1.0.dist-info")
    assert installed_distributions(str(Path(target.site_packages) / "missing")) == {}


def test_uninstall_removes_everything(archive: Path, target: InstallTarget, venv: Path) -> None:
    before = _files(venv)
    install_wheel(archive, target)
    _run(venv, "-c", "import demo.cli")  # leaves __pycache__ entries behind
    assert (Path(target.site_packages) / "demo" / "__pycache__").is_dir()
    result = uninstall(target.site_packages, "Demo")
    assert result is not None and (result.name, result.version) == ("demo", "1.0")
    assert result.removed_files >= 6
    assert _files(venv) == before
    assert not (Path(target.site_packages) / "demo").exists()
    assert not (venv / "share" / "demo").exists()
    assert not (venv / "include" / "site").exists()
    assert (venv / "bin").is_dir() and (venv / "include").is_dir()
    assert uninstall(target.site_packages, "demo") is None


def test_uninstall_tolerates_missing_files_and_stays_in_prefix(
    archive: Path, target: InstallTarget, tmp_path: Path
) -> None:
    install_wheel(archive, target)
    (Path(target.site_packages) / "demo" / "cli.py").unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    record = Path(target.site_packages) / "demo-1.0.dist-info" / "RECORD"
    relative = os.path.relpath(outside, target.site_packages)
    record.write_text(record.read_text() + f"{relative},,\n")
    assert uninstall(target.site_packages, "demo") is not None
    assert outside.read_text() == "keep me"
    assert not (Path(target.site_packages) / "demo").exists()


def test_copy_fallback_when_hardlinks_fail(
    archive: Path, target: InstallTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(_src: str, _dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    linker = Linker()
    install_wheel(archive, target, linker=linker)
    init = Path(target.site_packages) / "demo" / "__init__.py"
    assert init.read_bytes() == b"VALUE = 42\n"
    assert os.stat(init).st_ino != os.stat(archive / "demo" / "__init__.py").st_ino
    assert linker.mode == "copy"
    assert linker.fallback_reason == "Invalid cross-device link (os error 18)"
    assert linker.copied >= 4 and linker.linked == 0


@pytest.mark.parametrize("mode", ["copy", "clone", "symlink"])
def test_link_modes(archive: Path, target: InstallTarget, venv: Path, mode: LinkMode) -> None:
    install_wheel(archive, target, link_mode=mode)
    init = Path(target.site_packages) / "demo" / "__init__.py"
    cached = archive / "demo" / "__init__.py"
    assert init.is_symlink() == (mode == "symlink")
    if mode != "symlink":
        assert os.stat(init).st_ino != os.stat(cached).st_ino
    assert _run(venv, "-c", "import demo; print(demo.VALUE)") == "42\n"


def test_reinstall_over_existing_files(archive: Path, target: InstallTarget) -> None:
    install_wheel(archive, target)
    install_wheel(archive, target)
    assert list(installed_distributions(target.site_packages)) == ["demo"]


def test_path_traversal_in_entry_point_is_refused(tmp_path: Path, target: InstallTarget) -> None:
    wheel = make_wheel(tmp_path, entry_points="[console_scripts]\n../../evil = demo:main\n")
    archive = unpack_wheel(wheel, Cache(tmp_path / "cache").init())
    with pytest.raises(FailureError, match=r"Failed to install `demo==1\.0`"):
        install_wheel(archive, target)
    assert not (Path(target.prefix).parent / "evil").exists()


def test_invalid_archive_without_dist_info(tmp_path: Path, target: InstallTarget) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FailureError, match="is invalid"):
        install_wheel(tmp_path / "empty", target)


def test_thirty_wheels_install_fast(tmp_path: Path, target: InstallTarget) -> None:
    cache = Cache(tmp_path / "cache").init()
    archives = []
    for index in range(30):
        files = {f"pkg{index}/m{i}.py": b"x = 1\n" for i in range(40)}
        wheel = make_wheel(tmp_path, f"pkg{index}", files=files)
        archives.append(unpack_wheel(wheel, cache))
    linker = Linker()
    start = time.perf_counter()
    for archive in archives:
        install_wheel(archive, target, linker=linker)
    elapsed = time.perf_counter() - start
    assert len(installed_distributions(target.site_packages)) == 30
    # About 1300 files; generous bound for a shared, slow CI machine.
    assert elapsed < 2.0, elapsed
    print(f"installed 30 wheels in {elapsed * 1000:.0f}ms", file=sys.stderr)


def test_compile_bytecode(archive: Path, target: InstallTarget) -> None:
    from pyrun.local.compile import compile_bytecode

    install_wheel(archive, target)
    (Path(target.site_packages) / "broken.py").write_text("print 'python 2'\n")
    assert compile_bytecode(target.python_executable, target.site_packages) == 3
    pycache = sorted(os.listdir(Path(target.site_packages) / "demo" / "__pycache__"))
    assert pycache == ["__init__.cpython-312.pyc", "cli.cpython-312.pyc"]
    cached = archive / "demo" / "__pycache__"
    assert not cached.exists()  # the cache itself stays untouched


def test_compile_bytecode_reports_a_missing_interpreter(tmp_path: Path) -> None:
    from pyrun.local.compile import compile_bytecode

    with pytest.raises(FailureError, match="Failed to bytecode-compile") as info:
        compile_bytecode(tmp_path / "nope" / "python", tmp_path)
    assert info.value.causes == ("No such file or directory (os error 2)",)


# The linker against installer: the same environment, file by file -----------------------------

RICH_ENTRY_POINTS = (
    "[console_scripts]\n"
    "rich-tool = demo.cli:main\n"
    "rich-extra=demo.cli:main [extra]\n"
    "[gui_scripts]\n"
    "rich-gui = demo.cli:main\n"
    "[other.plugins]\n"
    "ignored = demo:main\n"
)


def _rich_wheel(
    directory: Path, *, purelib: bool, odd_name: bool = True, size: Callable[[int], str] = str
) -> Path:
    """A wheel using every part of the format: both roots, all `.data` schemes, entry points,
    `#!python` scripts and others, executable files, nested and `__pycache__` directories
    (`odd_name`: a path RECORD quotes; `size` writes RECORD's sizes)."""
    stem = "rich_demo-2.0"
    dist_info = f"{stem}.dist-info"
    members = {
        "rich_demo/__init__.py": b"VALUE = 1\n",
        "rich_demo/sub/deep/mod.py": b"x = 2\n",
        "rich_demo/run.sh": b"#!/bin/sh\necho hi\n",
        "rich_demo/__pycache__/mod.cpython-312.pyc": b"stale",
        "top_level.py": b"y = 3\n",
        "rich_demo/odd,name.py": b"q = 6\n",  # RECORD quotes this path
        f"{stem}.data/scripts/raw-python": b"#!python\nprint('raw')\n",
        f"{stem}.data/scripts/pythonw-tool": b"#!pythonw -u\nprint('w')",
        f"{stem}.data/scripts/shell-tool": b"#!/bin/sh\necho shell\n",
        f"{stem}.data/data/share/rich/notes.txt": b"notes\n",
        f"{stem}.data/headers/rich.h": b"#define RICH 1\n",
        f"{stem}.data/purelib/extra_pure.py": b"z = 4\n",
        f"{stem}.data/platlib/extra_plat.py": b"w = 5\n",
        f"{dist_info}/METADATA": b"Metadata-Version: 2.1\nName: rich-demo\nVersion: 2.0\n",
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {str(purelib).lower()}\n"
            "Tag: py3-none-any\n"
        ).encode(),
        f"{dist_info}/entry_points.txt": RICH_ENTRY_POINTS.encode(),
        f"{dist_info}/licenses/LICENSE": b"MIT\n",
    }
    if not odd_name:
        del members["rich_demo/odd,name.py"]
    executable = {"rich_demo/run.sh", *(m for m in members if "/scripts/" in m)}
    record = io.StringIO()
    rows = csv.writer(record, lineterminator="\n")
    for name, body in members.items():
        if name != "top_level.py":  # a file RECORD does not list: hashed at install
            rows.writerow((name, _sha256_record(body), size(len(body))))
    members[f"{dist_info}/RECORD"] = (record.getvalue() + f"{dist_info}/RECORD,,\n").encode()
    path = directory / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, body in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            wheel.writestr(info, body)
    return path


def _sha256_record(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mode & 0o7777)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _install_with_installer(wheel: Path, target: InstallTarget, metadata: dict[str, bytes]) -> None:
    import installer
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    with WheelFile.open(wheel) as source:
        destination = SchemeDictionaryDestination(
            scheme_dict=target.scheme_dict(source.distribution),
            interpreter=str(target.python_executable),
            script_kind="posix",
            overwrite_existing=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the __pycache__ file is skipped
            installer.install(source, destination, metadata)


@pytest.mark.parametrize("purelib", [True, False])
@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_same_environment_as_installer(tmp_path: Path, purelib: bool, mode: LinkMode) -> None:
    wheel = _rich_wheel(tmp_path, purelib=purelib)
    actual = _same_as_installer(tmp_path, wheel, mode)
    record = "lib/python3.12/site-packages/rich_demo-2.0.dist-info/RECORD"
    assert b"../../../bin/rich-gui,sha256=" in actual[record][0]
    assert b'\n"rich_demo/odd,name.py",sha256=' in actual[record][0]
    assert "lib/python3.12/site-packages/rich_demo/__pycache__/mod.cpython-312.pyc" not in actual


@pytest.mark.parametrize(
    "size",
    [
        str,
        lambda n: f"00{n}",
        lambda n: f" {n} ",
        lambda n: "".join(chr(0x660 + int(d)) for d in str(n)),
    ],
    ids=["plain", "leading-zeros", "blanks", "arabic-indic-digits"],
)
def test_record_without_quoting_and_odd_sizes_as_installer(
    tmp_path: Path, size: Callable[[int], str]
) -> None:
    """RECORD written without the csv module when no path needs quotes, and sizes written back
    as installer writes them (`str(int(size))`) however the wheel spelled them."""
    wheel = _rich_wheel(tmp_path, purelib=True, odd_name=False, size=size)
    actual = _same_as_installer(tmp_path, wheel, "hardlink")
    record = actual["lib/python3.12/site-packages/rich_demo-2.0.dist-info/RECORD"][0]
    assert b"\nrich_demo/sub/deep/mod.py,sha256=" in record and b'"' not in record


def test_a_scheme_directory_that_needs_quotes_as_installer(tmp_path: Path) -> None:
    """RECORD quotes the rows of a scheme whose directory, relative to the root scheme's, needs
    it, though no path inside the wheel does."""
    wheel = _rich_wheel(tmp_path, purelib=True, odd_name=False)
    actual = _same_as_installer(tmp_path, wheel, "hardlink", scripts="odd,bin")
    record = actual["lib/python3.12/site-packages/rich_demo-2.0.dist-info/RECORD"][0]
    assert b'\n"../../../odd,bin/rich-gui",sha256=' in record
    assert b"\nrich_demo/sub/deep/mod.py,sha256=" in record


def _same_as_installer(
    tmp_path: Path, wheel: Path, mode: LinkMode, *, scripts: str = "bin"
) -> dict[str, tuple[bytes, int]]:
    """Install `wheel` with installer, then with pyrun: the same files, bytes and modes
    (`scripts`: the scripts directory's name in the env)."""
    archive = unpack_wheel(wheel, Cache(tmp_path / "cache").init())
    env = tmp_path / "env"
    target = InstallTarget.for_venv(env, (3, 12))._replace(scripts=str(env / scripts))
    direct_url = {"url": "file:///src/rich.whl", "archive_info": {}}
    extra = {"pyrun_cache.json": b'{"key": 1}'}
    _install_with_installer(
        wheel,
        target,
        {
            "INSTALLER": b"pyrun",
            "direct_url.json": b'{"url":"file:///src/rich.whl","archive_info":{}}',
            "REQUESTED": b"",
            **extra,
        },
    )
    expected = _snapshot(env)
    env.rename(tmp_path / "reference")
    install_wheel(
        archive, target, link_mode=mode, direct_url=direct_url, requested=True, extra_metadata=extra
    )
    actual = _snapshot(env)
    assert sorted(actual) == sorted(expected)
    for path, (content, file_mode) in expected.items():
        assert actual[path] == (content, file_mode), path
    return actual


@pytest.mark.parametrize(
    "interpreter",
    ["/venv/bin/python", "/with space/bin/python", "/" + "long/" * 30 + "python"],
)
def test_launchers_match_installer(interpreter: str) -> None:
    from installer.scripts import Script

    from pyrun.local.install import script_launcher

    for attr in ("main", "cli.main"):
        _name, expected = Script("tool", "pkg.mod", attr, "console").generate(interpreter, "posix")
        assert script_launcher("pkg.mod", attr, interpreter) == expected


def test_invalid_wheels_are_refused(tmp_path: Path, target: InstallTarget) -> None:
    cache = Cache(tmp_path / "cache").init()
    archive = unpack_wheel(make_wheel(tmp_path, "bad", data={"nowhere/x.txt": b"x"}), cache)
    with pytest.raises(FailureError, match=r"Failed to install `bad==1\.0`") as info:
        install_wheel(archive, target)
    assert info.value.causes == (
        "bad-1.0.data/nowhere is not contained in a valid .data subdirectory.",
    )
    # Unpacking kept no plan for it: every install walks it, and says why it cannot.
    assert not os.path.exists(manifest_path(str(archive)))
    (tmp_path / "x").mkdir()
    other = unpack_wheel(make_wheel(tmp_path / "x", "other"), cache)
    # As a wheel declaring that version unpacks: without a plan.
    (other / "other-1.0.dist-info" / "WHEEL").write_text("Wheel-Version: 2.0\n")
    os.unlink(manifest_path(str(other)))
    with pytest.raises(FailureError, match=r"Failed to install `other==1\.0`") as info:
        install_wheel(other, target)
    assert info.value.causes == (
        "Incompatible Wheel-Version 2.0, only support version 1.x wheels.",
    )


def test_install_metadata_in_the_wheel_is_replaced(tmp_path: Path, target: InstallTarget) -> None:
    files = {"demo/__init__.py": b"", "demo-1.0.dist-info/INSTALLER": b"someone-else"}
    archive = unpack_wheel(make_wheel(tmp_path, files=files), Cache(tmp_path / "cache").init())
    install_wheel(archive, target)
    dist_info = Path(target.site_packages) / "demo-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_bytes() == b"pyrun"
    rows = (dist_info / "RECORD").read_text().splitlines()
    assert [row for row in rows if "INSTALLER" in row] == [
        "demo-1.0.dist-info/INSTALLER,sha256=82nPRuNYaSj3vbEwIYz_GtFqUeW-tI7T3BH5_odM0kw,5"
    ]


def test_missing_parent_directories_are_made_once_parents_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real_mkdir = os.mkdir

    def mkdir(path: str, *args: Any) -> None:
        made.append(os.path.relpath(path, tmp_path))
        real_mkdir(path, *args)  # a missing parent would raise FileNotFoundError here

    monkeypatch.setattr(os, "mkdir", mkdir)
    linker = Linker(journal=Journal(str(tmp_path)))
    # A package whose subpackage comes before its own files (scandir order).
    linker.ensure_dir(str(tmp_path / "pkg" / "sub" / "deep"))
    for path in ("pkg", "pkg/sub", "pkg/sub/deep", "pkg/sub"):
        linker.ensure_dir(str(tmp_path / path))
    # Each directory is tried once, parents first (the existing ancestors fail harmlessly).
    assert len(made) == len(set(made))
    assert [path for path in made if not path.startswith(".")] == ["pkg", "pkg/sub", "pkg/sub/deep"]
    # Only what was created is journaled, in creation order.
    assert linker.journal is not None
    assert list(linker.journal.entries) == [
        "pkg",
        "pkg/sub",
        "pkg/sub/deep",
    ]
    assert (tmp_path / "pkg" / "sub" / "deep").is_dir()


def test_record_rows_read_the_same_with_and_without_quotes() -> None:
    from pyrun.local.install import _parse_record

    plain = "pkg/a.py,sha256=abc,3\npkg/b.py,,\n"
    assert _parse_record(plain) == {"pkg/a.py": ("sha256=abc", "3"), "pkg/b.py": ("", "")}
    quoted = plain + '"pkg/odd,name.py",sha256=def,4\n'
    assert _parse_record(quoted)["pkg/odd,name.py"] == ("sha256=def", "4")
    for broken in ("pkg/a.py,sha256=abc,3\n\n", "pkg/a.py,sha256=abc\n"):
        with pytest.raises(ValueError, match="expected 3 elements"):
            _parse_record(broken)


BINARY_TOOL = b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4  # no `#!python` line to rewrite


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
def test_a_script_without_a_python_line_is_linked_with_the_wheels_record_row(
    tmp_path: Path, target: InstallTarget, venv: Path
) -> None:
    wheel = make_wheel(
        tmp_path,
        data={"scripts/tool": BINARY_TOOL, "scripts/plain": b"#!/bin/sh\necho plain\n"},
        executable=frozenset({"demo-1.0.data/scripts/tool"}),
    )
    archive = unpack_wheel(wheel, Cache(tmp_path / "cache").init())
    cached = archive / "demo-1.0.data" / "scripts"
    assert (cached / "tool").stat().st_mode & 0o777 == 0o755
    journal = Journal(str(venv))
    install_wheel(archive, target, linker=Linker(journal=journal))
    tool, plain = venv / "bin" / "tool", venv / "bin" / "plain"
    # As uv: the cache file itself (its mode is a script's already), never read or hashed.
    assert os.stat(tool).st_ino == os.stat(cached / "tool").st_ino
    assert journal.entries["bin/tool"] == ("l", "bin/tool", str(cached / "tool"))
    # Not executable in the wheel: a copy made executable, the cache file left as it was.
    assert plain.read_bytes() == b"#!/bin/sh\necho plain\n"
    assert os.stat(plain).st_nlink == 1 and plain.stat().st_mode & 0o777 == 0o755
    assert (cached / "plain").stat().st_mode & 0o777 == 0o644
    record = (Path(target.site_packages) / "demo-1.0.dist-info" / "RECORD").read_text()
    assert f"../../../bin/tool,{_sha256_record(BINARY_TOOL)},{len(BINARY_TOOL)}\n" in record


@pytest.mark.usefixtures("umask_022")
def test_a_linked_script_is_copied_under_the_copy_mode(
    tmp_path: Path, target: InstallTarget, venv: Path
) -> None:
    wheel = make_wheel(
        tmp_path,
        data={"scripts/tool": BINARY_TOOL},
        executable=frozenset({"demo-1.0.data/scripts/tool"}),
    )
    archive = unpack_wheel(wheel, Cache(tmp_path / "cache").init())
    install_wheel(archive, target, linker=Linker(mode="copy"))
    tool = venv / "bin" / "tool"
    assert tool.read_bytes() == BINARY_TOOL and os.stat(tool).st_nlink == 1
    assert tool.stat().st_mode & 0o777 == 0o755


def test_installs_sharing_a_linker_keep_their_own_headers_and_targets(tmp_path: Path) -> None:
    """The scheme directories a linker works out once a sync: the headers directory is each
    distribution's own, and another target (another env) is another set of directories."""
    cache = Cache(tmp_path / "cache").init()
    archives = []
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        wheel = make_wheel(tmp_path / name, name, data={f"headers/{name}.h": b"int x;\n"})
        archives.append(unpack_wheel(wheel, cache))
    linker = Linker()
    for env in ("one", "two"):
        target = InstallTarget.for_venv(tmp_path / env, (3, 12))
        for archive in archives:
            install_wheel(archive, target, linker=linker)
        headers = tmp_path / env / "include" / "site" / "python3.12"
        assert sorted(str(p.relative_to(headers)) for p in headers.rglob("*.h")) == [
            "alpha/alpha.h",
            "beta/beta.h",
        ]
        record = (Path(target.site_packages) / "beta-1.0.dist-info" / "RECORD").read_text()
        assert "../../../include/site/python3.12/beta/beta.h," in record


@pytest.mark.parametrize(("cores", "threads"), [(1, 2), (2, 2), (3, 3), (16, 6)])
def test_installs_run_on_a_thread_a_usable_core_and_at_least_two(
    monkeypatch: pytest.MonkeyPatch, cores: int, threads: int
) -> None:
    # A thread more than the cores only hands the GIL around between `link` calls.
    import threading

    from pyrun import replay
    from pyrun.local import install

    monkeypatch.setattr(replay, "usable_cores", lambda: cores)
    # Rounds of `threads` installs that each wait until the round's others run: fewer threads
    # never fill a round (the barrier times out), more take part in several rounds.
    barrier = threading.Barrier(threads, timeout=10)

    def install_one() -> int:
        barrier.wait()
        return threading.get_ident()

    seen = set(install.run_installs([install_one] * 6))
    assert len(seen) == threads
