"""Safe extraction of Python build archives, and the install step built on it (SPEC §6.3, §6.4)."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from pyrun.core.pydownloads import Download, parse_download_list
from pyrun.errors import PyrunError
from pyrun.local.archives import ArchiveError, extract_archive
from pyrun.local.pythons import (
    EXTERNALLY_MANAGED,
    PythonsLock,
    find_installs,
    install_archive,
    link_into_bin,
    locked,
    prepare_pythons_dir,
    rewrite_install_prefix,
    uninstall,
)

# A member: (name, kind, payload) with kind "file", "exe", "dir", "symlink", "hardlink", "fifo".
Member = tuple[str, str, str]


def tar_bytes(members: list[Member], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:  # type: ignore[call-overload]
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            data = payload.encode()
            if kind in ("file", "exe"):
                info.size = len(data)
                info.mode = 0o700 if kind == "exe" else 0o600
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[kind]
            info.linkname = payload
            info.mode = 0o755
            tar.addfile(info)
    return buffer.getvalue()


def zip_bytes(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, kind, payload in members:
            info = zipfile.ZipInfo(name)
            mode = {"file": 0o100600, "exe": 0o100700, "symlink": 0o120777}[kind]
            info.external_attr = mode << 16
            archive.writestr(info, payload)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


LAYOUT: list[Member] = [
    ("python", "dir", ""),
    ("python/bin", "dir", ""),
    ("python/bin/python3.12", "exe", "#!/bin/sh\n"),
    ("python/bin/python3", "symlink", "python3.12"),
    ("python/lib/python3.12/os.py", "file", "# os\n"),
    ("python/lib/libpython3.12.so.1.0", "file", "ELF"),
    ("python/lib/libpython3.12.so", "hardlink", "python/lib/libpython3.12.so.1.0"),
]


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar", ".tar.zst", ".zip"])
def test_every_format_extracts_with_normalised_modes(tmp_path: Path, suffix: str) -> None:
    members = [m for m in LAYOUT if suffix != ".zip" or m[1] in ("file", "exe", "symlink")]
    if suffix == ".zip":
        data = zip_bytes(members)
    elif suffix == ".tar":
        data = tar_bytes(members, "w")
    elif suffix == ".tar.zst":
        data = zstandard.ZstdCompressor().compress(tar_bytes(members, "w"))
    else:
        data = tar_bytes(members)
    archive = write(tmp_path, f"build{suffix}", data)

    extract_archive(archive, tmp_path / "out")

    exe = tmp_path / "out" / "python" / "bin" / "python3.12"
    assert stat.S_IMODE(exe.stat().st_mode) == 0o755  # owner-only x becomes a+x
    assert stat.S_IMODE((tmp_path / "out/python/lib/python3.12/os.py").stat().st_mode) == 0o644
    assert os.readlink(tmp_path / "out" / "python" / "bin" / "python3") == "python3.12"


def test_name_argument_gives_the_format_of_a_temp_file(tmp_path: Path) -> None:
    archive = write(tmp_path, "download-1234", tar_bytes(LAYOUT))
    extract_archive(archive, tmp_path / "out", name="cpython-3.12.1.tar.gz")
    assert (tmp_path / "out" / "python" / "lib" / "libpython3.12.so").read_text() == "ELF"


def test_unknown_format(tmp_path: Path) -> None:
    archive = write(tmp_path, "build.tar.bz2", b"")
    with pytest.raises(ArchiveError, match=r"Unsupported archive format: `build.tar.bz2`"):
        extract_archive(archive, tmp_path / "out")


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.zst"])
def test_truncated_archive(tmp_path: Path, suffix: str) -> None:
    big = [("python/bin/python3", "exe", os.urandom(200_000).hex())]
    data = tar_bytes(big, "w") if suffix == ".tar.zst" else tar_bytes(big)
    if suffix == ".tar.zst":
        data = zstandard.ZstdCompressor().compress(data)
    archive = write(tmp_path, f"build{suffix}", data[: len(data) // 2])
    with pytest.raises(ArchiveError) as caught:
        extract_archive(archive, tmp_path / "out")
    assert caught.value.message == f"Failed to extract archive: `build{suffix}`"
    assert caught.value.code == 1


# --- guards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("/etc/evil", "file", "x")], "Refusing to extract `/etc/evil`: path escapes the target"),
        (
            [("python/../../evil", "file", "x")],
            "Refusing to extract `python/../../evil`: path escapes the target",
        ),
        (
            [("python/link", "symlink", "/etc/passwd")],
            "Refusing to extract `python/link`: link to absolute `/etc/passwd`",
        ),
        (
            [("python/link", "symlink", "../../outside")],
            "Refusing to extract `python/link`: link to `../../outside` escapes the target",
        ),
        (
            [("python/hard", "hardlink", "../outside")],
            "Refusing to extract `python/hard`: hard link to `../outside` escapes the target",
        ),
        (
            [("python/hard", "hardlink", "python/missing")],
            "Refusing to extract `python/hard`: hard link to `python/missing`",
        ),
        (
            [("python/fifo", "fifo", "")],
            "Refusing to extract `python/fifo`: not a file, link or directory",
        ),
    ],
)
def test_tar_guards(tmp_path: Path, members: list[Member], message: str) -> None:
    archive = write(tmp_path, "bad.tar.gz", tar_bytes(members))
    target = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError) as caught:
        extract_archive(archive, target)
    assert caught.value.message.startswith(message)
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "deep" / "outside").exists()


def test_a_link_that_escapes_only_after_a_later_link_is_refused(tmp_path: Path) -> None:
    # `a -> b/../..` resolves to the target while `b` is missing; `b -> .` then makes it the
    # target's parent.
    members: list[Member] = [("python/a", "symlink", "b/../.."), ("python/b", "symlink", ".")]
    archive = write(tmp_path, "bad.tar.gz", tar_bytes(members))
    with pytest.raises(ArchiveError, match="escapes the target"):
        extract_archive(archive, tmp_path / "out")


def test_nothing_is_written_through_a_link(tmp_path: Path) -> None:
    # A member below a link to a directory inside the target stays inside; the link itself is
    # replaced, never followed, by a later member of the same name.
    members: list[Member] = [
        ("python/real", "dir", ""),
        ("python/alias", "symlink", "real"),
        ("python/alias/file", "file", "inside"),
        ("python/alias", "file", "now a file"),
    ]
    archive = write(tmp_path, "ok.tar.gz", tar_bytes(members))
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out/python/real/file").read_text() == "inside"
    assert (tmp_path / "out/python/alias").read_text() == "now a file"


def test_zip_guards(tmp_path: Path) -> None:
    escaping = write(tmp_path, "a.zip", zip_bytes([("../evil", "file", "x")]))
    with pytest.raises(ArchiveError, match="path escapes the target"):
        extract_archive(escaping, tmp_path / "out")
    linking = write(tmp_path, "b.zip", zip_bytes([("python/l", "symlink", "../../x")]))
    with pytest.raises(ArchiveError, match=r"link to `../../x` escapes the target"):
        extract_archive(linking, tmp_path / "out2")


# --- the install step ----------------------------------------------------------------------

SYSCONFIG = (
    "build_time_vars = {'prefix': '/install', 'LIBDIR': '/install/lib',\n"
    " 'LDFLAGS': '-L/install/lib -L/tools/deps/lib', 'CONFIG_ARGS': \"'--prefix=/install'\",\n"
    " 'srcdir': '/build/install-tools'}\n"
)


def download_for(version: str, url_suffix: str = ".tar.gz") -> Download:
    major, minor, patch = map(int, version.split("."))
    entry = {
        "name": "cpython",
        "arch": {"family": "x86_64", "variant": None},
        "os": "linux",
        "libc": "gnu",
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": "",
        "url": f"https://example.invalid/20250101/cpython-{version}-full{url_suffix}",
        "sha256": None,
        "variant": None,
        "build": "20250101",
    }
    (download,) = parse_download_list(json.dumps({"k": entry}), "test")
    return download


def full_archive(tmp_path: Path, version: str) -> Path:
    """A `full` layout: `python/install/…` beside `python/build/…`, no `bin/python`."""
    minor = ".".join(version.split(".")[:2])
    members: list[Member] = [
        ("python/PYTHON.json", "file", "{}"),
        ("python/build/junk", "file", "x"),
        (f"python/install/bin/python{minor}", "exe", "#!/bin/sh\n"),
        ("python/install/bin/python3", "symlink", f"python{minor}"),
        (
            f"python/install/lib/python{minor}/_sysconfigdata__linux_x86_64-linux-gnu.py",
            "file",
            SYSCONFIG,
        ),
        ("python/install/lib/pkgconfig/python3.pc", "file", "prefix=/install\n"),
    ]
    return write(tmp_path, f"cpython-{version}.tar.gz", tar_bytes(members))


def test_install_fixes_the_layout(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    prepare_pythons_dir(pythons)

    install = install_archive(full_archive(tmp_path, "3.12.3"), download_for("3.12.3"), pythons)

    root = pythons / "cpython-3.12.3-linux-x86_64-gnu"
    assert install.path == root
    assert sorted(p.name for p in root.iterdir()) == ["BUILD", "bin", "lib"]
    assert os.readlink(root / "bin" / "python") == "python3.12"
    assert (root / "BUILD").read_text() == "20250101"
    assert (root / "lib/python3.12/EXTERNALLY-MANAGED").read_text() == EXTERNALLY_MANAGED
    sysconfig = (root / "lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py").read_text()
    assert f"'prefix': '{root}'" in sysconfig
    assert f"-L{root}/lib -L/tools/deps/lib" in sysconfig
    assert f"'--prefix={root}'" in sysconfig
    assert "'/build/install-tools'" in sysconfig
    assert (root / "lib/pkgconfig/python3.pc").read_text() == f"prefix={root}\n"
    assert os.readlink(pythons / "cpython-3.12-linux-x86_64-gnu") == root.name
    assert list((pythons / ".temp").iterdir()) == []


def test_minor_link_follows_the_highest_patch(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    prepare_pythons_dir(pythons)
    link = pythons / "cpython-3.12-linux-x86_64-gnu"
    for version in ("3.12.3", "3.12.10", "3.12.7"):
        install_archive(full_archive(tmp_path, version), download_for(version), pythons)
    assert os.readlink(link) == "cpython-3.12.10-linux-x86_64-gnu"
    installs = find_installs(pythons, "pyrun")
    assert [str(i.key) for i in installs] == [
        "cpython-3.12.10-linux-x86_64-gnu",
        "cpython-3.12.7-linux-x86_64-gnu",
        "cpython-3.12.3-linux-x86_64-gnu",
    ]
    bin_dir = tmp_path / "bin"
    result = link_into_bin(installs[0], bin_dir, force=False)
    assert result is not None and result.created
    assert os.readlink(bin_dir / "python3.12") == str(link / "bin" / "python3.12")

    uninstall(installs[0], bin_dir)

    assert os.readlink(link) == "cpython-3.12.7-linux-x86_64-gnu"
    assert (bin_dir / "python3.12").exists()  # still valid through the minor link
    for install in installs[1:]:
        uninstall(install, bin_dir)
    assert not link.is_symlink()
    assert list(bin_dir.iterdir()) == []  # the dangling link went with the last install


def test_bin_link_never_replaces_a_foreign_file_without_force(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    prepare_pythons_dir(pythons)
    install = install_archive(full_archive(tmp_path, "3.12.3"), download_for("3.12.3"), pythons)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").write_text("mine")

    kept = link_into_bin(install, bin_dir, force=False)
    assert kept is not None and not kept.created
    assert (bin_dir / "python3.12").read_text() == "mine"

    forced = link_into_bin(install, bin_dir, force=True)
    assert forced is not None and forced.created
    assert (bin_dir / "python3.12").is_symlink()


def test_failed_extraction_installs_nothing(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    prepare_pythons_dir(pythons)
    archive = write(tmp_path, "bad.tar.gz", tar_bytes([("python/../../x", "file", "")]))
    with pytest.raises(ArchiveError):
        install_archive(archive, download_for("3.12.3"), pythons)
    assert sorted(p.name for p in pythons.iterdir()) == [".gitignore", ".temp"]
    assert list((pythons / ".temp").iterdir()) == []


def test_an_archive_without_a_python_is_refused(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    prepare_pythons_dir(pythons)
    archive = write(tmp_path, "empty.tar.gz", tar_bytes([("python/README", "file", "")]))
    with pytest.raises(PyrunError, match="does not contain a Python installation"):
        install_archive(archive, download_for("3.12.3"), pythons)
    assert find_installs(pythons, "pyrun") == []


def test_prefix_rewrite_leaves_other_paths_alone(tmp_path: Path) -> None:
    path = write(tmp_path, "pc", b"libdir=/install/lib\nother=/opt/install/lib /installer\n")
    rewrite_install_prefix(path, "/p")
    assert path.read_text() == "libdir=/p/lib\nother=/opt/install/lib /installer\n"


def test_lock_is_exclusive_and_times_out(tmp_path: Path) -> None:
    pythons = tmp_path / "pythons"
    holder = PythonsLock(pythons)
    assert holder.try_acquire()
    try:
        assert not PythonsLock(pythons).try_acquire()
        with pytest.raises(PyrunError) as caught, locked(pythons, timeout=0.1):
            pass
        assert caught.value.message.startswith("Timeout (0.1s) when waiting for lock on")
        assert caught.value.hint == "You can set `PYRUN_LOCK_TIMEOUT` to increase the timeout."
    finally:
        holder.release()
    (pythons / ".temp" / "install-stale").mkdir()
    with locked(pythons, timeout=1):
        # Holding the lock means no install is in progress: leftovers are cleared.
        assert list((pythons / ".temp").iterdir()) == []
