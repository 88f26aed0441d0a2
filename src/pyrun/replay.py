"""Recreate a deleted project environment from the recipe of the sync that last built it.

`rm -rf .venv`, a fresh CI checkout with a restored cache, a branch switch that drops the env:
the inputs are unchanged (the stamp proves it) and every wheel is still unpacked in the cache,
so the full path would make exactly the env it made last time, after ~200 ms of imports and
lock parsing. The recipe (written by `pyrun.local.recipe` when a sync creates an env) lists
that env's every directory, symlink, hardlink into the cache and small generated file; this
module replays it with the standard library only: assembled in a sibling directory and renamed
into place, so an interrupted or failed replay leaves nothing behind and the caller simply takes
the full path.
"""

from __future__ import annotations

import os
import sys

from pyrun import __version__, stamp

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

    from pyrun.console import Console

    # ("d", path) | ("s", path, target) | ("l", path, cache file) | ("f", path, mode, bytes)
    # | ("c", path, mode, cache file): a copy, for a file the installer copied unchanged
    Entry = tuple[Any, ...]

# Raised whenever what pyrun writes into a new env changes (3: uv's activation scripts), so a
# recipe recorded by an older pyrun is not replayed with the old files; another release's
# recipe is never replayed either.
FORMAT = f"pyrun-recipe 3 {__version__}"
SUFFIX = ".recipe"


class Recipe:
    """What the sync that created the env knew, and the env's entries in creation order."""

    __slots__ = (
        "changes",
        "checked",
        "display",
        "entries",
        "installed",
        "managed",
        "python",
        "resolved",
        "root",
    )

    def __init__(self, facts: dict[str, Any], entries: list[Entry]) -> None:
        self.root = str(facts["root"])
        self.python = str(facts["python"])
        self.display = str(facts["display"])
        self.managed = bool(facts.get("managed", False))
        self.resolved = int(facts["resolved"])
        self.installed = int(facts["installed"])
        self.checked: int | None = facts.get("checked")
        self.changes = [str(line) for line in facts["changes"]]
        self.entries = entries


def recipe_path(stamp_file: str) -> str:
    return stamp_file + SUFFIX


def load_recipe(stamp_file: str, record: stamp.Stamp) -> Recipe | None:
    """The recipe beside `stamp_file` if it was written for these very inputs, else None."""
    import marshal

    try:
        with open(recipe_path(stamp_file), "rb") as handle:
            data = marshal.loads(handle.read())
        form, digest, facts, entries = data
        if form != FORMAT or digest != stamp.inputs_digest(record):
            return None
        return Recipe(facts, entries)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None


def save(
    stamp_file: str, record: stamp.Stamp, facts: dict[str, object], entries: list[Entry]
) -> str | None:
    """Write the recipe for the env of `record` beside `stamp_file`; why not, or None."""
    import marshal

    target = recipe_path(stamp_file)
    temporary = f"{target}.tmp{os.getpid()}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(marshal.dumps((FORMAT, stamp.inputs_digest(record), facts, entries)))
        os.replace(temporary, target)
    except OSError as exc:
        return f"the recipe could not be written ({exc.strerror})"
    return None


def project_lock_path(root: str) -> str:
    """The lock file that serialises env work per workspace (shared with the full path)."""
    digest = stamp.sha256_hex(os.path.abspath(root).encode())[:16]
    return os.path.join(_temp_dir(), f"pyrun-{digest}.lock")


def _temp_dir() -> str:
    # `tempfile.gettempdir()`'s choice for any sane setup, without its ~8 ms import.
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(name)
        if value and os.path.isdir(value) and os.access(value, os.W_OK | os.X_OK):
            return os.path.abspath(value)
    return "/tmp"


def recreate(stamp_file: str, record: stamp.Stamp, recipe: Recipe) -> str | None:
    """Build `record.env` from `recipe` and refresh the stamp; why not, or None when done."""
    import fcntl

    fd = os.open(project_lock_path(recipe.root), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return "another pyrun is working on this project"
        if os.path.lexists(record.env):
            return "the environment appeared meanwhile"
        reason = _assemble(record.env, recipe.entries)
        if reason is None:
            stamp.refresh_env_records(stamp_file, record)
        return reason
    finally:
        os.close(fd)


def _assemble(env: str, entries: list[Entry]) -> str | None:
    staging = os.path.join(os.path.dirname(env), f".tmp-venv-replay-{os.getpid()}")
    try:
        os.mkdir(staging)
    except OSError as exc:
        return f"could not create `{staging}` ({exc.strerror})"
    try:
        _build(staging, entries)
        os.rename(staging, env)
    except OSError as exc:
        _discard(staging)
        return f"replaying the recipe failed ({exc.strerror or exc}: {exc.filename})"
    except BaseException:
        _discard(staging)
        raise
    return None


# A recipe of more entries than this is made on every core the process may use: each `mkdir`
# (~80 µs in the kernel on a fresh ext4 inode) and `link` (~6 µs) waits far longer than the loop
# computes, and the waits of two threads overlap. Below it, starting a thread costs more than
# it saves.
PARALLEL_FROM = 512
# Entries a thread takes at a time: small enough that the threads end together, large enough
# that few chunks start in a directory another thread has not made yet.
CHUNK = 64


def _build(staging: str, entries: list[Entry]) -> None:
    # Read once, before any thread starts: reading the umask sets it.
    umask = os.umask(0o022)
    os.umask(umask)
    threads = _threads(len(entries))
    if threads < 2:
        _make(staging, entries, umask, shared=False)
        return
    chunks = [entries[start : start + CHUNK] for start in range(0, len(entries), CHUNK)]
    _Crew(staging, iter(chunks), umask).run(min(threads, len(chunks)))


def _threads(count: int) -> int:
    """Every usable core for a large recipe. Measured on 2 idle cores, the 27-package app's
    recipe (1,968 entries) is made in 14.0 ms on two threads against 18.2 ms on one (medians of
    15); at a load of 6-12 the two are even (0.85-1.19x wall, ~6% more CPU). A gate on the load
    average left a replay on one thread for a minute after any burst (it lags), so none."""
    if count < PARALLEL_FROM:
        return 1
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class _Crew:
    """Threads, the calling one among them, taking chunks of the recipe in order from one
    iterator (its `next` is atomic under the GIL) until none is left or one of them failed.

    No thread waits for another: a chunk's entries are in creation order, so only an entry whose
    directory belongs to an earlier chunk still being made can miss it, and that thread makes
    the missing directories itself (`_make(shared=True)`). Nothing of `threading` (an import
    the replay does not otherwise pay for): `_thread`'s locks say when a thread is done.
    """

    def __init__(self, staging: str, chunks: Any, umask: int) -> None:
        self.staging, self.chunks, self.umask = staging, chunks, umask
        self.failures: list[BaseException] = []
        self.stop = False

    def run(self, threads: int) -> None:
        import _thread

        done = [_thread.allocate_lock() for _ in range(threads - 1)]
        with _signals_kept_for_main():
            for lock in done:
                lock.acquire()
                _thread.start_new_thread(self._helper, (lock,))
        try:
            self._work()
        finally:
            # Stop the helpers and wait for them even on Ctrl-C: the caller discards the staging
            # directory next, and a helper still making entries would leave some behind.
            self.stop = True
            _wait_all(done)
        if self.failures:
            raise self.failures[0]

    def _helper(self, done: Any) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the calling thread, which raises it
            self.failures.append(exc)
            self.stop = True
        finally:
            done.release()

    def _work(self) -> None:
        for chunk in self.chunks:
            if self.stop:
                return
            _make(self.staging, chunk, self.umask, shared=True)


def _signals_kept_for_main() -> Any:
    from pyrun.local import sigint

    return sigint.kept_for_main()


def _wait_all(locks: list[Any]) -> None:
    """Acquire every lock; a Ctrl-C meanwhile is raised only once all are acquired."""
    interrupted: BaseException | None = None
    for lock in locks:
        while True:
            try:
                lock.acquire()
                break
            except KeyboardInterrupt as exc:
                interrupted = exc
    if interrupted is not None:
        raise interrupted


def _make(staging: str, entries: list[Entry], umask: int, *, shared: bool) -> None:
    """Make `entries` under `staging`; `shared`: other threads make the entries before these
    at the same time, so a missing directory is made here and one made already is no error."""
    link, join = os.link, os.path.join
    for entry in entries:
        path = join(staging, entry[1])
        try:
            if entry[0] == "l":  # most entries: inline, no call between them
                link(entry[2], path)
            else:
                _make_one(entry, path, umask)
        except FileNotFoundError:
            if not shared:
                raise
            _make_after_parents(entry, path, umask)
        except FileExistsError:
            if not shared or entry[0] != "d":
                raise


def _make_after_parents(entry: Entry, path: str, umask: int) -> None:
    """`entry` once its parent directories exist; a link whose cache file is missing fails
    again, as it would have on one thread."""
    if entry[0] == "d":
        os.makedirs(path, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _make_one(entry, path, umask)


def _make_one(entry: Entry, path: str, umask: int) -> None:
    kind = entry[0]
    if kind == "l":
        os.link(entry[2], path)
    elif kind == "d":
        os.mkdir(path)
    elif kind == "f":
        fd = _create(path, entry[2], umask)
        try:
            _write_all(fd, entry[3])
        finally:
            os.close(fd)
    elif kind == "s":
        os.symlink(entry[2], path)
    elif kind == "c":
        _copy(entry[3], path, entry[2], umask)
    else:
        raise OSError(f"unknown recipe entry {kind!r}")


def _create(path: str, mode: int, umask: int) -> int:
    """A new file with exactly `mode`: the umask applies at creation, so `fchmod` only when
    it takes bits the mode has (the usual 022 leaves 0644 and 0755 whole: one system call
    fewer for each generated file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    if mode & umask:
        try:
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            raise
    return fd


def _copy(source: str, target: str, mode: int, umask: int) -> None:
    """A copy of the cache file `source`, in the kernel where it can (no bytes through Python)."""
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = _create(target, mode, umask)
        try:
            _copy_bytes(src, dst, os.fstat(src).st_size)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _copy_bytes(src: int, dst: int, size: int) -> None:
    in_kernel = hasattr(os, "copy_file_range")
    copied = 0
    while copied < size:
        if in_kernel:
            try:
                step = os.copy_file_range(src, dst, size - copied)
            except OSError:
                # A kernel or file system without it: both offsets are where they were left,
                # so the copy goes on through memory.
                in_kernel = False
                continue
        else:
            step = _write_all(dst, os.read(src, min(size - copied, 1 << 20)))
        if step == 0:
            raise OSError(f"the cache file changed size while it was copied ({copied}/{size})")
        copied += step


def _write_all(fd: int, data: bytes) -> int:
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])
    return written


def _discard(staging: str) -> None:
    import shutil

    shutil.rmtree(staging, ignore_errors=True)


def announce(
    recipe: Recipe,
    env: str,
    *,
    sync: bool,
    verbose: bool,
    timings: tuple[float, float],
    color: str = "auto",
    frozen: bool = False,
) -> None:
    """What the full path prints when it creates the env and installs into it (SPEC §2.14),
    in the same colours."""
    from pyrun.console import Console, display_path

    console = Console(color=color)
    checked, installed = timings
    lines = [
        console.using(recipe.display, display_path(recipe.python), managed=recipe.managed),
        f"Creating virtual environment at: {console.path(display_path(env))}",
    ]
    details = sync or verbose
    if details and not frozen:  # a frozen lock is read as it is, and uv says nothing of it
        lines.append(console.counted("Resolved", recipe.resolved, checked))
    if recipe.installed:
        lines.append(console.counted("Installed", recipe.installed, installed))
    elif details and recipe.checked is not None:
        lines.append(console.counted("Checked", recipe.checked, installed))
    if details:
        lines += [_styled_change(console, line) for line in recipe.changes]
    sys.stderr.write("".join(line + "\n" for line in lines))


def _styled_change(console: Console, line: str) -> str:
    """A recorded ` + name==1.0 (from …)` line, coloured as the full path prints it."""
    sign, _, rest = line[1:].partition(" ")
    name, sep, tail = rest.partition("==")
    return console.change(sign, name, sep + tail) if sep else line
