"""Installing unpacked wheels from the cache into a real venv, and uninstalling them."""

from __future__ import annotations

import csv
import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.install import (
    InstallTarget,
    Linker,
    LinkMode,
    install_wheel,
    installed_distributions,
    uninstall,
)
from pyrun.local.unpack import unpack_wheel
from tests.unit.test_unpack import make_wheel

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
        [venv / "bin" / "python", *args], check=True, capture_output=True, text=True, env=env
    )
    return result.stdout


def test_target_for_venv(venv: Path) -> None:
    target = InstallTarget.for_venv(venv, (3, 12, 1))
    assert target.site_packages == venv / "lib" / "python3.12" / "site-packages"
    assert target.scripts == venv / "bin"
    assert target.python_executable == venv / "bin" / "python"
    assert target.scheme_dict("demo")["headers"] == str(
        venv / "include" / "site" / "python3.12" / "demo"
    )


def test_install_hardlinks_files_from_the_cache(
    archive: Path, target: InstallTarget, venv: Path
) -> None:
    linker = Linker()
    installed = install_wheel(archive, target, linker=linker)
    site = target.site_packages
    assert installed.dist_info == site / "demo-1.0.dist-info"
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
    dist_info = target.site_packages / "demo-1.0.dist-info"
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
    assert dist.dist_info_path == target.site_packages / "demo-1.0.dist-info"
    assert installed_distributions(target.site_packages / "missing") == {}


def test_uninstall_removes_everything(archive: Path, target: InstallTarget, venv: Path) -> None:
    before = _files(venv)
    install_wheel(archive, target)
    _run(venv, "-c", "import demo.cli")  # leaves __pycache__ entries behind
    assert (target.site_packages / "demo" / "__pycache__").is_dir()
    result = uninstall(target.site_packages, "Demo")
    assert result is not None and (result.name, result.version) == ("demo", "1.0")
    assert result.removed_files >= 6
    assert _files(venv) == before
    assert not (target.site_packages / "demo").exists()
    assert not (venv / "share" / "demo").exists()
    assert not (venv / "include" / "site").exists()
    assert (venv / "bin").is_dir() and (venv / "include").is_dir()
    assert uninstall(target.site_packages, "demo") is None


def test_uninstall_tolerates_missing_files_and_stays_in_prefix(
    archive: Path, target: InstallTarget, tmp_path: Path
) -> None:
    install_wheel(archive, target)
    (target.site_packages / "demo" / "cli.py").unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    record = target.site_packages / "demo-1.0.dist-info" / "RECORD"
    relative = os.path.relpath(outside, target.site_packages)
    record.write_text(record.read_text() + f"{relative},,\n")
    assert uninstall(target.site_packages, "demo") is not None
    assert outside.read_text() == "keep me"
    assert not (target.site_packages / "demo").exists()


def test_copy_fallback_when_hardlinks_fail(
    archive: Path, target: InstallTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(_src: str, _dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    linker = Linker()
    install_wheel(archive, target, linker=linker)
    init = target.site_packages / "demo" / "__init__.py"
    assert init.read_bytes() == b"VALUE = 42\n"
    assert os.stat(init).st_ino != os.stat(archive / "demo" / "__init__.py").st_ino
    assert linker.mode == "copy"
    assert linker.fallback_reason == "Invalid cross-device link (os error 18)"
    assert linker.copied >= 4 and linker.linked == 0


@pytest.mark.parametrize("mode", ["copy", "clone", "symlink"])
def test_link_modes(archive: Path, target: InstallTarget, venv: Path, mode: LinkMode) -> None:
    install_wheel(archive, target, link_mode=mode)
    init = target.site_packages / "demo" / "__init__.py"
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
    assert not (target.prefix.parent / "evil").exists()


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
    (target.site_packages / "broken.py").write_text("print 'python 2'\n")
    assert compile_bytecode(target.python_executable, target.site_packages) == 3
    pycache = sorted(os.listdir(target.site_packages / "demo" / "__pycache__"))
    assert pycache == ["__init__.cpython-312.pyc", "cli.cpython-312.pyc"]
    cached = archive / "demo" / "__pycache__"
    assert not cached.exists()  # the cache itself stays untouched


def test_compile_bytecode_reports_a_missing_interpreter(tmp_path: Path) -> None:
    from pyrun.local.compile import compile_bytecode

    with pytest.raises(FailureError, match="Failed to bytecode-compile") as info:
        compile_bytecode(tmp_path / "nope" / "python", tmp_path)
    assert info.value.causes == ("No such file or directory (os error 2)",)
