"""Managed Python installations on disk (SPEC §1.7, §6.3, §6.4).

`<pythons>` holds one directory per build, named by its key, plus minor-version links
(`cpython-3.12-linux-x86_64-gnu -> cpython-3.12.14-linux-x86_64-gnu`), `.lock`, `.temp/` and a
`.gitignore`. uv's managed Pythons are listed read-only. Everything that changes `<pythons>`
happens under the exclusive lock on `<pythons>/.lock` and goes through `.temp/` plus a rename,
so a half-finished install never has a name that looks installed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyrun.core.pydownloads import (
    Download,
    ManagedKey,
    is_downloadable,
    newest_first,
    parse_download_list,
    select_download,
)
from pyrun.core.requests import PythonRequest
from pyrun.errors import EXIT_FAILURE, PyrunError, os_error_text
from pyrun.local.archives import extract_archive
from pyrun.local.host import host_platform

DOWNLOADS_MODES = ("automatic", "manual", "never")
PREFERENCES = ("only-managed", "managed", "system", "only-system")
DEFAULT_LOCK_TIMEOUT = 300.0
EXTERNALLY_MANAGED = (
    "[externally-managed]\n"
    "Error=This Python installation is managed by pyrun and should not be modified.\n"
)


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PythonSettings:
    """Everything the managed-Python code reads from options and `PYRUN_*` variables."""

    install_dir: Path
    uv_install_dir: Path
    bin_dir: Path
    downloads: str = "automatic"
    preference: str = "managed"
    offline: bool = False
    mirror: str | None = None
    pypy_mirror: str | None = None
    downloads_json_url: str | None = None
    archive_cache_dir: Path | None = None
    libc: str | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    retries: int = 3
    http_timeout: float = 30.0


def python_settings(
    environ: Mapping[str, str],
    *,
    downloads: str | None = None,
    preference: str | None = None,
    offline: bool = False,
    install_dir: str | None = None,
    mirror: str | None = None,
) -> PythonSettings:
    """Settings from the given values (options, already merged with config) and `environ`."""
    return PythonSettings(
        install_dir=Path(install_dir).absolute() if install_dir else pythons_dir(environ),
        uv_install_dir=uv_pythons_dir(environ),
        bin_dir=python_bin_dir(environ),
        downloads=_choice(environ, "PYRUN_PYTHON_DOWNLOADS", downloads, DOWNLOADS_MODES),
        preference=_choice(environ, "PYRUN_PYTHON_PREFERENCE", preference, PREFERENCES, 1),
        offline=offline,
        mirror=mirror or environ.get("PYRUN_PYTHON_INSTALL_MIRROR") or None,
        pypy_mirror=environ.get("PYRUN_PYPY_INSTALL_MIRROR") or None,
        downloads_json_url=environ.get("PYRUN_PYTHON_DOWNLOADS_JSON_URL") or None,
        archive_cache_dir=_optional_path(environ.get("PYRUN_PYTHON_CACHE_DIR")),
        libc=environ.get("PYRUN_LIBC") or None,
        lock_timeout=_number(environ, "PYRUN_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT),
        retries=int(_number(environ, "PYRUN_HTTP_RETRIES", 3)),
        http_timeout=_number(environ, "PYRUN_HTTP_TIMEOUT", 30.0),
    )


def _choice(
    environ: Mapping[str, str],
    name: str,
    given: str | None,
    allowed: tuple[str, ...],
    default: int = 0,
) -> str:
    """An option value if given, else the variable `name`, else `allowed[default]`."""
    if given:
        return given
    value = environ.get(name, "").strip()
    if not value:
        return allowed[default]
    if value not in allowed:
        raise PyrunError(
            f"Failed to parse environment variable `{name}` with invalid value `{value}`",
            causes=[f"expected one of: {', '.join(allowed)}"],
        )
    return value


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise PyrunError(
            f"Failed to parse environment variable `{name}` with invalid value `{value}`",
            causes=["expected a number"],
        ) from None


def _optional_path(value: str | None) -> Path | None:
    return Path(value).absolute() if value else None


def _data_home(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_DATA_HOME")
    return Path(xdg) if xdg else Path.home() / ".local" / "share"


def pythons_dir(environ: Mapping[str, str]) -> Path:
    """`<pythons>` (SPEC §1.7)."""
    given = environ.get("PYRUN_PYTHON_INSTALL_DIR")
    return Path(given).absolute() if given else _data_home(environ) / "pyrun" / "python"


def uv_pythons_dir(environ: Mapping[str, str]) -> Path:
    """uv's managed Pythons, read-only. `UV_PYTHON_INSTALL_DIR` means this directory and is never
    a fallback for pyrun's own (`pyrun.cliparse.NOT_FROM_UV`)."""
    given = environ.get("UV_PYTHON_INSTALL_DIR")
    return Path(given).absolute() if given else _data_home(environ) / "uv" / "python"


def python_bin_dir(environ: Mapping[str, str]) -> Path:
    """Where `python install` links `python3.X` (SPEC §6.4)."""
    for name in ("PYRUN_PYTHON_BIN_DIR", "XDG_BIN_HOME"):
        if environ.get(name):
            return Path(environ[name]).absolute()
    if environ.get("XDG_DATA_HOME"):
        return (Path(environ["XDG_DATA_HOME"]) / ".." / "bin").resolve()
    return Path.home() / ".local" / "bin"


# --- the download list --------------------------------------------------------------------


def unused_download_hint(request: PythonRequest, settings: PythonSettings) -> str | None:
    """uv's hint when no interpreter fits but a managed build would, had the settings allowed
    a download (uv checks the mode, then the preference, then offline, in that order)."""
    if settings.downloads_json_url and is_remote(settings.downloads_json_url):
        return None  # never fetched just to word a hint
    downloads = (
        read_local_download_list(settings.downloads_json_url)
        if settings.downloads_json_url
        else load_bundled_downloads()
    )
    if not is_downloadable(request):
        return None
    if select_download(downloads, request, host_platform(settings.libc)) is None:
        return None
    available = "A managed Python download is available"
    if request.kind not in ("default", "any"):
        available += f" for {request.describe()}"
    if settings.downloads == "manual":
        return (
            f"{available}, but Python downloads are set to 'manual', use "
            f"`pyrun python install {request.text}` to install the required version"
        )
    if settings.downloads == "never":
        return f"{available}, but Python downloads are set to 'never'"
    if settings.preference == "only-system":
        return f"{available}, but the Python preference is set to 'only system'"
    if settings.offline:
        return f"{available}, but pyrun is set to offline mode"
    return None


def load_bundled_downloads() -> list[Download]:
    """The list shipped in `pyrun/data/python-downloads.json`."""
    data = resources.files("pyrun").joinpath("data", "python-downloads.json").read_bytes()
    return parse_download_list(data, "pyrun/data/python-downloads.json")


def is_remote(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def file_url_path(location: str) -> Path:
    """A `file://` URL or a plain path, as a path."""
    if location.startswith("file://"):
        return Path(unquote(urlparse(location).path))
    return Path(location)


def read_local_download_list(location: str) -> list[Download]:
    """`PYRUN_PYTHON_DOWNLOADS_JSON_URL` when it is a path or a `file://` URL."""
    try:
        text = file_url_path(location).read_bytes()
    except OSError as exc:
        raise PyrunError(
            f"Unable to read the Python download list at {location}", causes=[os_error_text(exc)]
        ) from exc
    return parse_download_list(text, location)


# --- installed builds ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ManagedInstall:
    """One installed build: `<dir>/<key>/`."""

    key: ManagedKey
    path: Path
    owner: str  # "pyrun", or "uv" for uv's installs (never changed by pyrun)

    @property
    def executable(self) -> Path:
        return find_executable(self.path, self.key)


def find_executable(root: Path, key: ManagedKey) -> Path:
    """The interpreter inside an install: `bin/python3.12` (`python3.13t` when free-threaded)."""
    if key.os == "windows":
        return root / "python.exe"
    suffix = "t" if "freethreaded" in key.variant else ""
    names = [f"python{key.major}.{key.minor}{suffix}", "python3", "python"]
    if key.implementation == "pypy":
        names = [f"pypy{key.major}.{key.minor}", "pypy3", *names]
    for name in names:
        if (root / "bin" / name).exists():
            return root / "bin" / name
    return root / "bin" / "python3"


def find_installs(directory: Path, owner: str) -> list[ManagedInstall]:
    """Complete installs in `directory`, newest first; minor links and temp files are not."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        key = ManagedKey.parse(entry.name)
        if key is None or entry.is_symlink() or not entry.is_dir():
            continue
        install = ManagedInstall(key=key, path=Path(entry.path), owner=owner)
        if install.executable.exists():
            found.append(install)
    return sorted(found, key=lambda install: newest_first(install.key))


def installed_pythons(settings: PythonSettings) -> list[ManagedInstall]:
    """pyrun's installs and uv's, sorted by version, pyrun's first on a tie (SPEC §6.4)."""
    ours = find_installs(settings.install_dir, "pyrun")
    same = settings.uv_install_dir == settings.install_dir
    theirs = [] if same else find_installs(settings.uv_install_dir, "uv")
    # sorted() is stable: with equal keys pyrun's installs stay ahead.
    return sorted([*ours, *theirs], key=lambda install: newest_first(install.key))


# --- the lock -----------------------------------------------------------------------------


class PythonsLock:
    """The exclusive lock on `<pythons>/.lock` (an `flock`, released when the process dies)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / ".lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is None:
            prepare_pythons_dir(self.path.parent)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_nowait(self._fd)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def timeout_error(self, timeout: float) -> PyrunError:
        return PyrunError(
            f"Timeout ({timeout:g}s) when waiting for lock on `{self.path.parent}`, "
            "is another pyrun process running?",
            hint="You can set `PYRUN_LOCK_TIMEOUT` to increase the timeout.",
            code=EXIT_FAILURE,
        )


def _lock_nowait(fd: int) -> None:
    """Take an exclusive lock on `fd` or raise BlockingIOError/PermissionError."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def locked(directory: Path, timeout: float) -> Iterator[PythonsLock]:
    """Hold the `<pythons>` lock (blocking, polling until `timeout`), clearing stale temps."""
    lock = PythonsLock(directory)
    deadline = time.monotonic() + timeout
    try:
        while not lock.try_acquire():
            if time.monotonic() >= deadline:
                raise lock.timeout_error(timeout)
            time.sleep(0.05)
        clear_temp(directory)
        yield lock
    finally:
        lock.release()


def prepare_pythons_dir(directory: Path) -> None:
    """Create `<pythons>` with its `.gitignore` and `.temp/` (SPEC §6.4)."""
    try:
        (directory / ".temp").mkdir(parents=True, exist_ok=True)
        gitignore = directory / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")
    except OSError as exc:
        raise PyrunError(
            f"Failed to create the Python installation directory `{directory}`",
            causes=[os_error_text(exc)],
            code=EXIT_FAILURE,
        ) from exc


def clear_temp(directory: Path) -> None:
    """Remove what interrupted installs left in `.temp/`; only call it holding the lock."""
    temp = directory / ".temp"
    for entry in temp.iterdir() if temp.is_dir() else ():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def new_temp_file(directory: Path, suffix: str = "") -> Path:
    """A fresh `<pythons>/.temp/<random>` file name for a download."""
    fd, name = tempfile.mkstemp(prefix="download-", suffix=suffix, dir=directory / ".temp")
    os.close(fd)
    return Path(name)


# --- installing ---------------------------------------------------------------------------


def install_archive(archive: Path, download: Download, directory: Path) -> ManagedInstall:
    """Install a verified archive as `<pythons>/<key>`; the caller holds the lock."""
    final = directory / str(download.key)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=directory / ".temp"))
    try:
        extract_archive(archive, work / "unpacked", name=download.filename)
        root = layout_root(work / "unpacked")
        finish_layout(root, download.key, download.build, final)
        _move_into_place(root, final, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    update_minor_link(directory, download.key)
    return ManagedInstall(key=download.key, path=final, owner="pyrun")


def layout_root(unpacked: Path) -> Path:
    """Strip a single top directory (`python/`), then enter `install/` (full archives)."""
    entries = list(unpacked.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
    if (root / "install").is_dir():
        root = root / "install"
    if not (root / "bin").is_dir() and not (root / "python.exe").exists():
        raise PyrunError(
            "The archive does not contain a Python installation",
            causes=["no `bin/` directory (or `python.exe`) at its top level"],
            code=EXIT_FAILURE,
        )
    return root


def finish_layout(root: Path, key: ManagedKey, build: str, final: Path) -> None:
    """The §6.4 fixes: `bin/python`, EXTERNALLY-MANAGED, BUILD, `/install` prefixes."""
    _add_python_link(root, key)
    stdlib = _stdlib_dir(root, key)
    if stdlib is not None:
        (stdlib / "EXTERNALLY-MANAGED").write_text(EXTERNALLY_MANAGED)
    (root / "BUILD").write_text(build)
    for path in _prefix_files(root):
        rewrite_install_prefix(path, str(final))


def _add_python_link(root: Path, key: ManagedKey) -> None:
    link = root / "bin" / "python"
    if key.os == "windows" or link.exists() or link.is_symlink():
        return
    target = find_executable(root, key)
    if target.exists() and target.name != "python":
        os.symlink(target.name, link)


def _stdlib_dir(root: Path, key: ManagedKey) -> Path | None:
    for name in (f"python{key.major}.{key.minor}t", f"python{key.major}.{key.minor}"):
        if (root / "lib" / name).is_dir():
            return root / "lib" / name
    return None


def _prefix_files(root: Path) -> list[Path]:
    lib = root / "lib"
    return [*lib.glob("python*/_sysconfigdata_*.py"), *lib.glob("pkgconfig/*.pc")]


# python-build-standalone is built with `--prefix=/install`; the path appears as a value
# (`'/install'`, `prefix=/install`) or after `-L`/`-I` in flags.
_INSTALL_PREFIX = re.compile(r"""(?:(?<=[\s'"=:])|(?<=-[LI])|^)/install(?=[/'"\s]|$)""", re.M)


def rewrite_install_prefix(path: Path, prefix: str) -> None:
    text = path.read_text(encoding="utf-8")
    updated = _INSTALL_PREFIX.sub(lambda _: prefix, text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")


def _move_into_place(root: Path, final: Path, work: Path) -> None:
    """Rename the finished tree to its key; an older copy (reinstall) is moved aside first."""
    if final.exists() or final.is_symlink():
        os.rename(final, work / "previous")
    os.rename(root, final)


def update_minor_link(directory: Path, key: ManagedKey) -> None:
    """Point `cpython-3.12-…` at the highest installed stable patch, or remove it."""
    if key.prerelease:
        return
    link = directory / key.minor_link_name()
    candidates = [
        install for install in find_installs(directory, "pyrun") if key.same_minor_line(install.key)
    ]
    if not candidates:
        if link.is_symlink():
            link.unlink()
        return
    best = candidates[0]
    temp = directory / ".temp" / f"link-{os.getpid()}-{time.monotonic_ns()}"
    os.symlink(best.path.name, temp)
    os.replace(temp, link)


def minor_link_path(install: ManagedInstall) -> Path | None:
    """The minor-version link through which venvs should use `install`, if it points there."""
    link = install.path.parent / install.key.minor_link_name()
    if link.is_symlink() and os.readlink(link) in (install.path.name, str(install.path)):
        return link
    return None


def uninstall(install: ManagedInstall, bin_dir: Path) -> None:
    """Remove one of pyrun's installs with its links; the caller holds the lock."""
    if install.owner != "pyrun":
        raise PyrunError(f"Refusing to remove `{install.key}`, which pyrun does not manage")
    directory = install.path.parent
    trash = Path(tempfile.mkdtemp(prefix="remove-", dir=directory / ".temp"))
    os.rename(install.path, trash / install.path.name)
    update_minor_link(directory, install.key)
    remove_bin_links(bin_dir, directory)
    shutil.rmtree(trash, ignore_errors=True)


# --- the bin directory --------------------------------------------------------------------


def bin_link_name(key: ManagedKey) -> str | None:
    """`python3.12`, `python3.13t`, `python3.12d`: the name `python install` links."""
    if key.implementation != "cpython" or key.os == "windows":
        return None
    suffix = ("t" if "freethreaded" in key.variant else "") + (
        "d" if "debug" in key.variant else ""
    )
    return f"python{key.major}.{key.minor}{suffix}"


@dataclass(frozen=True, kw_only=True)
class BinLinkResult:
    path: Path
    created: bool
    reason: str = ""


def link_into_bin(install: ManagedInstall, bin_dir: Path, *, force: bool) -> BinLinkResult | None:
    """Link `bin_dir/python3.X` to the install (through its minor-version link when it has one).

    A file pyrun did not create (anything that is not a link into `<pythons>`) is replaced only
    with `force`.
    """
    name = bin_link_name(install.key)
    if name is None:
        return None
    path = bin_dir / name
    through = minor_link_path(install) or install.path
    target = through / "bin" / install.executable.name
    if (path.exists() or path.is_symlink()) and not force and not _is_ours(path, install):
        return BinLinkResult(path=path, created=False, reason="not managed by pyrun")
    bin_dir.mkdir(parents=True, exist_ok=True)
    temp = bin_dir / f".{name}.pyrun-{os.getpid()}"
    temp.unlink(missing_ok=True)
    os.symlink(target, temp)
    os.replace(temp, path)
    return BinLinkResult(path=path, created=True)


def _is_ours(path: Path, install: ManagedInstall) -> bool:
    if not path.is_symlink():
        return False
    target = Path(os.readlink(path))
    return install.path.parent in target.parents


def remove_bin_links(bin_dir: Path, directory: Path) -> None:
    """Remove links in `bin_dir` into `directory` whose target no longer exists."""
    try:
        entries = list(bin_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink() and not entry.exists():
            target = Path(os.readlink(entry))
            if directory in target.parents:
                entry.unlink()
