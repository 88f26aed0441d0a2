"""Remembering satisfied lock checks (`CheckMemo`).

Whether a lock satisfies the workspace is a pure function of the lock's text and of what
`lock_inputs` reads: the discovered workspace (every `pyproject.toml` as parsed), the settings
files, the command line and `PYRUN_*`/`UV_*` variables, and the interpreter's version (the
default `requires-python`). A `Satisfied` answer is remembered in the cache under a digest of
all of them and of the code that decides, so the next run with the same inputs (a fresh
`.venv`, `pyrun lock` with nothing to do) skips building the workspace facts and importing the
lock builder, ~40 ms. Any doubt (a digest not found) means checking as before; only a check
that printed nothing is remembered, so a hit never hides a warning. The key names paths
relative to the workspace root (`lock_check_places`): a new checkout of a project another one
checked finds its verdict.

Every relock computes the key too (and misses), so it is kept cheap: each project enters as
its directory and parsed document in `marshal` form, not as the `repr` of the whole workspace,
and only source trees outside the workspace are read from disk (a member's `pyproject.toml`
is already in the key as parsed).
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterator, Mapping

from pyrun.commands.lock_check_places import Places
from pyrun.core.interpreter import Interpreter
from pyrun.core.records import Record
from pyrun.local.cache import LOCK_CHECKS_BUCKET, Cache
from pyrun.local.discover import Workspace
from pyrun.options import Settled
from pyrun.stamp import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

# The modules whose code decides a check, below the `pyrun` package directory.
_CHECK_CODE = (
    "commands/lock_check_memo.py",
    "commands/lock_project.py",
    "commands/index_settings.py",
    "core/freshness.py",
    "core/gitref.py",
    "core/lock_build.py",
    "core/lock_compare.py",
    "core/lockfile.py",
    "core/markers.py",
    "core/project.py",
    "core/pyversions.py",
    "core/universal.py",
    "local/discover.py",
    "settings.py",
)


class CheckMemo(Record):
    """The cache entry that says "this lock, with these inputs, is satisfied"."""

    path: str

    @classmethod
    def of(
        cls,
        cache: Cache,
        text: str,
        text_digest: str,
        workspace: Workspace,
        interpreter: Interpreter,
        settings: Settled,
    ) -> CheckMemo:
        """The entry for lock `text`; `text_digest` is its `lock_memo.text_digest`, which the
        lock memo has already taken (the key holds it in place of the whole text)."""
        parts = _check_inputs(text, text_digest, workspace, interpreter, settings)
        name = sha256_hex(b"".join(part + b"\0" for part in parts))[:32]
        return cls(path=os.path.join(cache.directory, LOCK_CHECKS_BUCKET, name[:2], name))

    def holds(self) -> bool:
        return os.path.isfile(self.path)

    def record(self) -> None:
        # An empty file is the whole record; failing to write it only costs the next run time.
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "wb"):
                pass


def _check_inputs(
    text: str, text_digest: str, workspace: Workspace, interpreter: Interpreter, settings: Settled
) -> Iterator[bytes]:
    from pyrun.commands.lock_project import dynamic_keys
    from pyrun.stamp import NEUTRAL_OPTIONS, NEUTRAL_VARIABLES

    # Output options (`-q`, `-v`, ...) cannot change the verdict: leaving them out lets `sync`,
    # `sync -q` and `run -v` share one entry.
    values = settings.cli.values.items()
    options = sorted((k, v) for k, v in values if k not in NEUTRAL_OPTIONS)
    variables = sorted(
        (key, value)
        for key, value in os.environ.items()
        if key.startswith(("PYRUN_", "UV_")) and key not in NEUTRAL_VARIABLES
    )
    places = Places(workspace.root)
    places.screen_lock(text)
    places.screen_options(options)
    yield LOCK_CHECKS_BUCKET.encode()
    yield _text(repr(code_identity()))
    yield _text(text_digest)
    yield from workspace_identity(workspace, places)
    # A dynamic member's requirements depend on files the parsed workspace doesn't show.
    yield _text(repr(dynamic_keys(workspace)))
    # As do a path dependency's, outside the workspace.
    yield _text(repr(_tree_projects(text, workspace)))
    yield _text(repr((interpreter.major, interpreter.minor)))
    yield _text(repr(options))
    yield _text(repr(sorted(s for s in settings.cli.sources if s not in NEUTRAL_OPTIONS)))
    for origin, table in settings.layers:
        yield _text(places.setting(origin))
        data = _document(table)
        places.screen_document(data, table, _layer_directory(origin, places))
        yield data
    yield _text(repr(variables))
    # Last, once every part has been screened: a key in doubt holds for this checkout alone.
    yield _text(repr(places.root if places.doubt else None))


def _layer_directory(origin: str, places: Places) -> str | None:
    """Where a settings file's relative paths start: its directory, when inside the root."""
    directory = os.path.dirname(origin)
    return directory if places.setting(origin) != origin else None


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def workspace_identity(workspace: Workspace, places: Places) -> Iterator[bytes]:
    """What the discovered workspace is made of, as bytes: its own fields, and each project's
    directory and parsed document (everything else in a `ProjectFile` is derived from those by
    `parse_project_file`, whose code is in the key). Paths are relative to the root
    (`lock_check_places`). `marshal` version 0 writes neither references nor interning flags,
    so equal documents give equal bytes however they were made (parsed now, or loaded from the
    `pyproject.toml` memo)."""
    current = workspace.current.directory if workspace.current is not None else None
    inputs = [places.relative(path) for path in workspace.inputs]
    yield _text(repr((places.relative(current), inputs, sorted(workspace.standalone))))
    for name, project in (("", workspace.root_file), *workspace.members.items()):
        yield _text(f"{name}\0{places.relative(project.directory)}")
        data = _document(project.raw)
        places.screen_document(data, project.raw, project.directory)
        yield data


def _document(raw: Mapping[str, Any]) -> bytes:
    try:
        return marshal.dumps(dict(raw), 0)  # a parsed document is a dict: a plain copy
    except ValueError:  # a TOML date or time: not marshal-able, its repr is exact
        return _text(repr(raw))


# A source tree's line, after the newline that starts it: found with `str.find` on the literal
# start (a `^` in multi-line mode is tried at every position, ~6x slower over a 1,000-member
# lock), and without `re`, which the sync path does not load otherwise.
_SOURCE_LINE = "\nsource = { "
_TREE_KINDS = ('directory = "', 'editable = "', 'virtual = "')


def _tree_sources(text: str) -> list[str]:
    """The locations of `source = { directory|editable|virtual = "..." }` lines of `text`
    (a newline is put before it), as `re.findall` of that line (anchored on `\n`) finds them."""
    found = []
    start = 0
    while (at := text.find(_SOURCE_LINE, start)) != -1:
        start = at + 1
        value = at + len(_SOURCE_LINE)
        kind = next((k for k in _TREE_KINDS if text.startswith(k, value)), None)
        if kind is None:
            continue
        value += len(kind)
        end = text.find('"', value)
        after = end + 3
        if end != -1 and text.startswith(" }", end + 1) and text[after : after + 1] in ("", "\n"):
            found.append(text[value:end])
            start = after
    return found


def _tree_projects(text: str, workspace: Workspace) -> list[tuple[str, str]]:
    """The digest of the `pyproject.toml` of each source tree the lock names outside the
    workspace's projects (theirs are in the key as parsed)."""
    root = workspace.root
    projects = {os.path.normpath(p.directory) for p in workspace.members.values()}
    projects.add(os.path.normpath(workspace.root_file.directory))
    # The members as the lock spells them (relative, `/`-separated): a thousand of them are
    # recognised without joining and normalising each path.
    inside = os.path.join(root, "")
    spelled = {p[len(inside) :].replace(os.sep, "/") for p in projects if p.startswith(inside)}
    found = []
    for location in sorted(set(_tree_sources("\n" + text))):
        if location in spelled:
            continue
        directory = os.path.normpath(os.path.join(root, location))
        if directory in projects:
            continue
        try:
            with open(os.path.join(directory, "pyproject.toml"), "rb") as handle:
                digest = sha256_hex(handle.read())
        except OSError:
            digest = "unreadable"
        found.append((location, digest))
    return found


def code_identity() -> list[tuple[str, int, int]]:
    """Size and mtime of the deciding modules: a memo made by other code never matches."""
    import pyrun

    base = os.path.dirname(pyrun.__file__)
    found = [(f"pyrun {pyrun.__version__}", 0, 0)]
    for relative in _CHECK_CODE:
        try:
            info = os.stat(os.path.join(base, relative))
        except OSError:
            found.append((relative, -1, -1))
            continue
        found.append((relative, info.st_size, info.st_mtime_ns))
    return found
