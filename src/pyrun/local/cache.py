"""The cache directory: buckets, atomic persistence, locks, `cache clean` and `cache prune`.

Layout (SPEC §2.15; the bucket names are part of the on-disk contract):

    <cache>/CACHEDIR.TAG, .gitignore (`*`), .lock
    archive-v0/<id>/            unpacked wheels (id from the wheel's SHA-256) and
                                materialised with-envs; never modified once renamed into place
    archive-v0/<id>.placement   an unpacked wheel's install plan (`pyrun.local.placement`)
    wheels-v1/<name>/<id>       symlink -> ../../archive-v0/<id>: which archives belong to a
                                package (`cache clean NAME`, `prune`); `<id>.built` for wheels
                                built from source (kept by `prune --ci`)
    builds-v0/.tmp*             isolated build envs and per-run overlays
    environments-v2/<h>/<h>     script envs and links to with-envs in archive-v0
    interpreter-v2/, simple-v1/, sdists-v1/, git-v1/   other modules' data

Every entry is written under a `.tmp*` name in its bucket and renamed into place, so a reader
never sees half an entry and an interrupted writer leaves only a `.tmp*` that `prune` removes.
Running pyrun processes hold a shared lock on `<cache>/.lock`; `clean` and `prune` take it
exclusively, so they never delete what a running process is linking from.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from pyrun.core.records import Record
from pyrun.core.wheelname import canonicalize_name
from pyrun.errors import FailureError, PyrunError, disk_write_error, os_error_text
from pyrun.local.placement import SUFFIX as PLACEMENT_SUFFIX

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

ARCHIVE_BUCKET = "archive-v0"
WHEELS_BUCKET = "wheels-v1"
BUILDS_BUCKET = "builds-v0"
ENVIRONMENTS_BUCKET = "environments-v2"
INTERPRETER_BUCKET = "interpreter-v2"
SIMPLE_BUCKET = "simple-v1"
SDISTS_BUCKET = "sdists-v1"
GIT_BUCKET = "git-v1"
# Digests of lock checks that found `uv.lock` satisfied (see `pyrun.commands.lock_project`).
LOCK_CHECKS_BUCKET = "lock-checks-v1"
# Parsed `pyproject.toml` files by discovery start (see `pyrun.local.pyproject_memo`).
PYPROJECTS_BUCKET = "pyprojects-v1"
# Parsed `uv.lock` files by lock path (see `pyrun.commands.lock_memo`).
LOCKS_BUCKET = "locks-v1"
# CA bundles as OpenSSL hashed directories, by the bundle's digest (see `pyrun.net.cert_dir`).
CERTS_BUCKET = "certs-v1"

# Current version of every bucket pyrun knows; another version of the same name is stale.
BUCKETS = (
    ARCHIVE_BUCKET,
    WHEELS_BUCKET,
    BUILDS_BUCKET,
    ENVIRONMENTS_BUCKET,
    INTERPRETER_BUCKET,
    SIMPLE_BUCKET,
    SDISTS_BUCKET,
    GIT_BUCKET,
    LOCK_CHECKS_BUCKET,
    PYPROJECTS_BUCKET,
    LOCKS_BUCKET,
    CERTS_BUCKET,
)

# What uv writes (the signature only, no trailing newline); https://bford.info/cachedir/.
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55"
TMP_PREFIX = ".tmp"
BUILT_SUFFIX = ".built"
DEFAULT_LOCK_TIMEOUT = 300.0
# What `clean`/`prune` print (through `on_wait`) when a running process holds the cache.
CACHE_IN_USE_MESSAGE = (
    "Cache is currently in-use, waiting for other pyrun processes to finish "
    "(use `--force` to override)"
)


def default_cache_dir(environ: Mapping[str, str], cache_dir: str | None = None) -> str:
    """`<cache>` per SPEC §1.7: option, `PYRUN_CACHE_DIR`, XDG, then the home default."""
    explicit = cache_dir or environ.get("PYRUN_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    if os.name == "nt" and environ.get("LOCALAPPDATA"):
        return os.path.join(environ["LOCALAPPDATA"], "pyrun", "cache")
    xdg = environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "pyrun")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".cache", "pyrun")


class RemovalStats(Record):
    """What `clean`/`prune` removed, for `Removed N files (SIZE)` / `Removed N directories`."""

    files: int = 0
    directories: int = 0
    bytes: int = 0

    # `+` sums the counts (a tuple's concatenation means nothing for this record).
    def __add__(self, other: RemovalStats) -> RemovalStats:  # type: ignore[override]
        return RemovalStats(
            files=self.files + other.files,
            directories=self.directories + other.directories,
            bytes=self.bytes + other.bytes,
        )


class Cache:
    """A cache root. `Cache.temporary()` is the `--no-cache` variant, removed by `close()`."""

    def __init__(self, root: str | os.PathLike[str], *, temporary: bool = False) -> None:
        # The root as a string: the sync path joins it with `os.path` and never loads
        # `pathlib` (with `re`, `fnmatch`, `urllib.parse`, `ipaddress`: ~7 ms of imports).
        self.directory = os.fspath(root)
        self.temporary = temporary
        self._shared_lock: FileLock | None = None
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The root as a `Path`, for the commands that work with paths (loads `pathlib`)."""
        if self._root is None:
            from pathlib import Path

            self._root = Path(self.directory)
        return self._root

    @classmethod
    def open(
        cls, environ: Mapping[str, str], *, cache_dir: str | None = None, no_cache: bool = False
    ) -> Cache:
        """The run's cache, initialised: a temporary one under `--no-cache`."""
        if no_cache:
            return cls.create_temporary()
        return cls(default_cache_dir(environ, cache_dir)).init()

    @classmethod
    def create_temporary(cls) -> Cache:
        import tempfile

        return cls(tempfile.mkdtemp(prefix="pyrun-cache-"), temporary=True).init()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.release_shared()
        if self.temporary:
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)

    def init(self) -> Cache:
        """Create the root with `CACHEDIR.TAG` and `.gitignore` if they are missing."""
        try:
            os.makedirs(self.directory, exist_ok=True)
            _write_if_missing(os.path.join(self.directory, "CACHEDIR.TAG"), CACHEDIR_TAG.encode())
            _write_if_missing(os.path.join(self.directory, ".gitignore"), b"*")
        except OSError as exc:
            # uv's wording and exit status (2: the cache is part of the run's configuration).
            action = "create directory" if exc.filename == self.directory else "write"
            refused = disk_write_error(exc)
            raise PyrunError(
                f"Failed to initialize cache at `{self.directory}`",
                causes=(f"failed to {action} `{exc.filename}`: {os_error_text(exc)}",),
                hint=refused.hint if refused is not None else None,
            ) from exc
        return self

    # Buckets ------------------------------------------------------------------------------

    def bucket(self, name: str) -> Path:
        """A bucket directory, created on first use."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def archives(self) -> Path:
        return self.bucket(ARCHIVE_BUCKET)

    @property
    def wheels(self) -> Path:
        return self.bucket(WHEELS_BUCKET)

    @property
    def builds(self) -> Path:
        return self.bucket(BUILDS_BUCKET)

    @property
    def environments(self) -> Path:
        return self.bucket(ENVIRONMENTS_BUCKET)

    @property
    def interpreters(self) -> Path:
        return self.bucket(INTERPRETER_BUCKET)

    @property
    def simple(self) -> Path:
        return self.bucket(SIMPLE_BUCKET)

    def archive_path(self, archive_id: str) -> Path:
        """Where the archive with this id lives (whether or not it exists yet)."""
        return self.root / ARCHIVE_BUCKET / archive_id

    def archive_dir(self, archive_id: str) -> str:
        """`archive_path` as a string, for the sync path (which never loads `pathlib`)."""
        return os.path.join(self.directory, ARCHIVE_BUCKET, archive_id)

    def has_archive(self, archive_id: str) -> bool:
        return os.path.isdir(self.archive_dir(archive_id))

    def existing_archives(self, archive_ids: Iterable[str | None]) -> set[str]:
        """The subset of `archive_ids` present: the `cached` argument of `make_plan`."""
        return {aid for aid in archive_ids if aid and self.has_archive(aid)}

    def tempdir(self, bucket: str) -> Path:
        """A fresh `.tmp*` directory inside `bucket`, on the same file system as its entries."""
        import tempfile
        from pathlib import Path

        return Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.bucket(bucket)))

    def link_archive(self, name: str, archive_id: str, *, built: bool = False) -> None:
        """Record that `archive_id` holds a wheel of `name` (`wheels-v1/<name>/<id>`)."""
        directory = self.bucket(WHEELS_BUCKET) / str(canonicalize_name(name))
        directory.mkdir(exist_ok=True)
        pointer = directory / (archive_id + (BUILT_SUFFIX if built else ""))
        target = os.path.join("..", "..", ARCHIVE_BUCKET, archive_id)
        with contextlib.suppress(FileExistsError):
            os.symlink(target, pointer)

    # Locks --------------------------------------------------------------------------------

    def acquire_shared(self, *, timeout: float | None = DEFAULT_LOCK_TIMEOUT) -> None:
        """Hold the shared cache lock until `release_shared()`/`close()` (a running process)."""
        if self._shared_lock is None:
            lock = FileLock(os.path.join(self.directory, ".lock"))
            lock.acquire(shared=True, timeout=timeout, what=self.directory)
            self._shared_lock = lock

    def release_shared(self) -> None:
        if self._shared_lock is not None:
            self._shared_lock.release()
            self._shared_lock = None

    def exclusive(
        self,
        *,
        force: bool = False,
        timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[], None] | None = None,
    ) -> contextlib.AbstractContextManager[object]:
        """The exclusive cache lock of `clean`/`prune`; `force` skips it (`--force`)."""
        if force:
            return contextlib.nullcontext()
        return FileLock(self.root / ".lock").held(
            shared=False, timeout=timeout, on_wait=on_wait, what=str(self.root)
        )

    def key_lock(
        self, bucket: str, key: str, *, timeout: float | None = DEFAULT_LOCK_TIMEOUT
    ) -> contextlib.AbstractContextManager[object]:
        """An exclusive lock serialising work on one entry (`<bucket>/<key>.lock`)."""
        path = self.bucket(bucket) / f"{key}.lock"
        return FileLock(path).held(shared=False, timeout=timeout, what=key)

    # clean / prune ------------------------------------------------------------------------

    def clean(self, packages: Iterable[str] = ()) -> RemovalStats:
        """`cache clean`: everything, or only the named packages' entries.

        The caller holds `exclusive()`. The root itself is kept (with its tag files) so a
        concurrent `--force` run still finds a valid cache.
        """
        names = {str(canonicalize_name(name)) for name in packages}
        if not names:
            return _remove_children(self.root, keep={"CACHEDIR.TAG", ".gitignore", ".lock"})
        return sum((self._clean_package(name) for name in sorted(names)), RemovalStats())

    def _clean_package(self, name: str) -> RemovalStats:
        # Archives of the package first (found through its pointers), then every entry named
        # after it in the per-package buckets: `<bucket>/<name>` or `<bucket>/<index>/<name>*`.
        stats = RemovalStats()
        for archive_id in self._package_archive_ids(name):
            stats += _remove_tree(self.archive_path(archive_id))
            with contextlib.suppress(OSError):  # its install plan, if kept
                os.unlink(f"{self.archive_path(archive_id)}{PLACEMENT_SUFFIX}")
        for bucket in self._package_buckets():
            for entry in _entries_named(bucket, name):
                stats += _remove_tree(entry)
        return stats

    def _package_archive_ids(self, name: str) -> list[str]:
        directory = self.root / WHEELS_BUCKET / name
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return [entry.removesuffix(BUILT_SUFFIX) for entry in os.listdir(directory)]
        return []

    def _package_buckets(self) -> list[Path]:
        skip = {
            ARCHIVE_BUCKET,
            BUILDS_BUCKET,
            ENVIRONMENTS_BUCKET,
            INTERPRETER_BUCKET,
            LOCK_CHECKS_BUCKET,
            PYPROJECTS_BUCKET,
            LOCKS_BUCKET,
            CERTS_BUCKET,
        }
        return [self.root / bucket for bucket in BUCKETS if bucket not in skip]

    def prune(self, *, ci: bool = False) -> RemovalStats:
        """`cache prune`: stale bucket versions, temp dirs, dangling links, unused archives.

        With `ci`, downloaded wheels go too (cheap to fetch again); built ones stay. Counts are
        of removed top-level entries, for `Removed N directories (SIZE)`.
        """
        stats = self._prune_stale_buckets()
        for bucket in BUCKETS:
            stats += _prune_temporaries(self.root / bucket)
        stats += self._prune_pointers(ci=ci)
        stats += _prune_dangling_links(self.root / ENVIRONMENTS_BUCKET, depth=2)
        return stats + self._prune_unreferenced_archives()

    def _prune_stale_buckets(self) -> RemovalStats:
        current = {bucket.rsplit("-v", 1)[0]: bucket for bucket in BUCKETS}
        stats = RemovalStats()
        for entry in _listdir(self.root):
            base, sep, version = entry.rpartition("-v")
            stale = sep and version.isdigit() and base in current and current[base] != entry
            if stale:
                stats += _count_as_directory(_remove_tree(self.root / entry))
        return stats

    def _prune_pointers(self, *, ci: bool) -> RemovalStats:
        stats = RemovalStats()
        wheels = self.root / WHEELS_BUCKET
        for package in _listdir(wheels):
            for pointer in _listdir(wheels / package):
                path = wheels / package / pointer
                if (ci and not pointer.endswith(BUILT_SUFFIX)) or not path.exists():
                    stats += _count_as_directory(_remove_tree(path))
            with contextlib.suppress(OSError):
                os.rmdir(wheels / package)
        return stats

    def _prune_unreferenced_archives(self) -> RemovalStats:
        referenced = self._referenced_archives()
        stats = RemovalStats()
        archives = self.root / ARCHIVE_BUCKET
        for entry in _listdir(archives):
            # `.tmp*` entries were handled above; `.lock` files belong to `key_lock`.
            internal = entry.startswith(TMP_PREFIX) or entry.endswith(".lock")
            if entry.endswith(PLACEMENT_SUFFIX):
                # An archive's install plan goes with it (not counted: not a directory).
                if entry.removesuffix(PLACEMENT_SUFFIX) not in referenced:
                    stats += _remove_tree(archives / entry)
            elif entry not in referenced and not internal:
                stats += _count_as_directory(_remove_tree(archives / entry))
        return stats

    def _referenced_archives(self) -> set[str]:
        """Archive ids that a wheel pointer or an environment link points at."""
        links = [*_links_under(self.root / WHEELS_BUCKET, depth=2)]
        links += _links_under(self.root / ENVIRONMENTS_BUCKET, depth=2)
        archives = os.path.realpath(self.root / ARCHIVE_BUCKET)
        referenced = set()
        for link in links:
            target = os.path.realpath(link)
            if os.path.dirname(target) == archives:
                referenced.add(os.path.basename(target))
        return referenced


# Atomic persistence ---------------------------------------------------------------------------


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `path` so that readers see the old content or the new, never a mix."""
    parent = os.path.dirname(os.fspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    fd, tmp = _new_temporary(parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_TEMPORARY_NUMBERS = itertools.count()


def _new_temporary(directory: str) -> tuple[int, str]:
    """A new `.tmp*` file in `directory`, open for writing and private, as `tempfile.mkstemp`
    makes one: an empty cache's first files (`CACHEDIR.TAG`) are written before a cold run's
    first request, which must not wait for `tempfile` (with `shutil`, `random`, `bz2`, `lzma`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        name = f"{TMP_PREFIX}{os.getpid()}-{next(_TEMPORARY_NUMBERS)}"
        path = os.path.join(directory, name)
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:  # left by an earlier process of the same id
            continue


def persist_dir(tmp: str | os.PathLike[str], final: str | os.PathLike[str]) -> bool:
    """Rename the finished directory `tmp` to `final`; `False` if another writer won.

    Directory entries are immutable once in place, so when two processes build the same entry
    concurrently the loser drops its copy and uses the winner's.
    """
    try:
        os.rename(tmp, final)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not os.path.isdir(final):
            raise
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return False


def _write_if_missing(path: str, data: bytes) -> None:
    if not os.path.exists(path):
        atomic_write_bytes(path, data)


# Locks ----------------------------------------------------------------------------------------


class FileLock:
    """An advisory `flock` on a file, shared or exclusive, with a timeout.

    `flock` locks belong to the open file description, so they vanish with the process (no
    stale lock files to break) and a second `FileLock` on the same path in one process is a
    separate lock: never take the exclusive cache lock while holding the shared one.
    """

    POLL_INTERVAL = 0.05

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = None

    def acquire(
        self,
        *,
        shared: bool = False,
        timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[], None] | None = None,
        what: str = "",
    ) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            self._wait_for(fd, shared, timeout, on_wait, what)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _wait_for(
        self,
        fd: int,
        shared: bool,
        timeout: float | None,
        on_wait: Callable[[], None] | None,
        what: str,
    ) -> None:
        # Polling with a non-blocking flock keeps the wait interruptible (Ctrl-C) and bounded,
        # which a blocking flock in the main thread is not.
        operation = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        deadline = None if timeout is None else time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, operation)
                return
            except BlockingIOError:
                pass
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if deadline is not None and time.monotonic() >= deadline:
                raise _lock_timeout(timeout or 0, what or str(self.path), self.path)
            time.sleep(self.POLL_INTERVAL)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @contextlib.contextmanager
    def held(
        self,
        *,
        shared: bool = False,
        timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[], None] | None = None,
        what: str = "",
    ) -> Iterator[FileLock]:
        self.acquire(shared=shared, timeout=timeout, on_wait=on_wait, what=what)
        try:
            yield self
        finally:
            self.release()


def lock_timeout_from_env(environ: Mapping[str, str]) -> float:
    """`PYRUN_LOCK_TIMEOUT` in seconds (default 300)."""
    value = environ.get("PYRUN_LOCK_TIMEOUT")
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise FailureError(
            f"Failed to parse environment variable `PYRUN_LOCK_TIMEOUT` with invalid value "
            f"`{value}`",
            causes=("expected a number of seconds",),
            code=2,
        ) from None


def _lock_timeout(timeout: float, what: str, path: str) -> FailureError:
    return FailureError(
        f"Timeout ({timeout:g}s) when waiting for lock on `{what}` at `{path}`, is another "
        "pyrun process running? You can set `PYRUN_LOCK_TIMEOUT` to increase the timeout."
    )


# Removal helpers ------------------------------------------------------------------------------


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _remove_tree(path: Path) -> RemovalStats:
    """Remove a file, link or directory tree, counting regular files and their sizes."""
    stats = _measure(path)
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            _rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    return stats


def _rmtree(path: Path) -> None:
    import shutil

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_force_remove)
    else:
        shutil.rmtree(path, onerror=_force_remove)


def _force_remove(func: Callable[[str], object], path: str, _exc: object) -> None:
    # Read-only directories (some wheels ship them) block removal of their children.
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        func(path)


def _measure(path: Path) -> RemovalStats:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return RemovalStats()
    if not stat.S_ISDIR(info.st_mode):
        return RemovalStats(files=1, bytes=info.st_size if stat.S_ISREG(info.st_mode) else 0)
    files = size = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                entry = os.lstat(os.path.join(root, name))
                files += 1
                size += entry.st_size if stat.S_ISREG(entry.st_mode) else 0
    return RemovalStats(files=files, bytes=size)


def _count_as_directory(stats: RemovalStats) -> RemovalStats:
    return RemovalStats(files=stats.files, directories=1, bytes=stats.bytes)


def _remove_children(root: Path, *, keep: set[str]) -> RemovalStats:
    stats = RemovalStats()
    for entry in _listdir(root):
        if entry not in keep:
            stats += _remove_tree(root / entry)
    return stats


def _prune_temporaries(bucket: Path) -> RemovalStats:
    stats = RemovalStats()
    for entry in _listdir(bucket):
        if entry.startswith(TMP_PREFIX):
            stats += _count_as_directory(_remove_tree(bucket / entry))
    return stats


def _links_under(root: Path, *, depth: int) -> list[Path]:
    found: list[Path] = []
    for entry in _listdir(root):
        path = root / entry
        if os.path.islink(path):
            found.append(path)
        elif depth > 1 and path.is_dir():
            found += _links_under(path, depth=depth - 1)
    return found


def _prune_dangling_links(root: Path, *, depth: int) -> RemovalStats:
    stats = RemovalStats()
    for link in _links_under(root, depth=depth):
        if not link.exists():
            stats += _count_as_directory(_remove_tree(link))
    return stats


def _entries_named(bucket: Path, name: str) -> list[Path]:
    """`<bucket>/<name>[.ext]` and `<bucket>/<sub>/<name>[.ext]` (e.g. per-index pages)."""
    found = []
    for entry in _listdir(bucket):
        path = bucket / entry
        if _names_package(entry, name):
            found.append(path)
        elif path.is_dir() and not os.path.islink(path):
            found += [path / sub for sub in _listdir(path) if _names_package(sub, name)]
    return found


def _names_package(entry: str, name: str) -> bool:
    return entry == name or entry.startswith(name + ".")
