"""The paths in the lock-check memo's key, relative to the workspace root (`Places`).

A new checkout of a project (CI, a second clone, a copied directory) has the same
`pyproject.toml`s, `uv.lock` and settings at another path. The lock check compares the lock
with what those files declare, and a relative path in either resolves to the same place
relative to the root in both checkouts, so the verdict is the same: the key names the root's
projects, settings files and discovery inputs relative to it, and a checkout elsewhere finds
the verdict another one recorded.

Only what is in doubt keeps the root's absolute path in the key (the memo then holds for this
checkout alone, as before): a string in a parsed document or settings table that names a place
by itself (an absolute path, `~`, a `file:` URL, a `$` variable, `{root}`), or a relative path
that climbs out of the root; a lock that spells such a path; a command-line option
that holds a relative path (resolved against the working directory, not the root).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from pyrun.core.patterns import lazy

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

# The marks of a string that may name a place outside the root, searched in a document's
# `marshal` bytes (version 0: each string is `u`, four length bytes, then its UTF-8; or its
# `repr`, quoted) before any string is looked at: most documents have none, and are not walked.
# Plain `in` tests first: one regular expression for all of them is ~7x slower.
_ABSOLUTE = lazy(rb"(?:u[\x00-\xff]{4}|['\"])/")
# The same, in the lock's text: every path the lock spells is a quoted string.
_SUSPECT_LOCK = ('"..', '"/', '"~', "file:")


class Places:
    """Paths relative to `root`, and whether anything seen so far is in doubt."""

    __slots__ = ("doubt", "inside", "root")

    def __init__(self, root: str) -> None:
        self.root = os.path.normpath(root)
        self.inside = os.path.join(self.root, "")
        self.doubt = False

    def relative(self, path: str | None) -> str | None:
        """`path` relative to the root (`..` steps for one outside it: the layout counts)."""
        if path is None:
            return None
        # A thousand members' directories are below the root: cut, not `relpath`'s walk.
        if path.startswith(self.inside) and os.path.normpath(path) == path:
            return path[len(self.inside) :]
        return os.path.relpath(path, self.root)

    def setting(self, origin: str) -> str:
        """A settings file's origin: relative inside the root; a user's or the system's file
        outside it is at the same place for every checkout."""
        relative = os.path.relpath(origin, self.root)
        return origin if _climbs(relative) else relative

    def screen_document(self, data: bytes, raw: Any, directory: str | None) -> None:
        """Doubt if the document (`data`, its `marshal` bytes) names a place by itself; its
        relative paths resolve against `directory` (None: against no known place)."""
        if self.doubt:
            return
        if _suspect(data):
            base = None if directory is None else self.relative(directory)
            self.doubt = any(_places(text, base) for text in _strings(raw))

    def screen_lock(self, text: str) -> None:
        if not self.doubt and any(mark in text for mark in _SUSPECT_LOCK):
            self.doubt = True

    def screen_options(self, options: Iterable[tuple[str, Any]]) -> None:
        """Doubt if an option (given, or from a variable) holds a relative path: it resolves
        against the working directory. An absolute path or a URL names the same place from
        every checkout (`PYRUN_CACHE_DIR`, an index)."""
        for _name, value in options:
            if any(_cwd_relative(text) for text in _strings(value)):
                self.doubt = True
                return


def _suspect(data: bytes) -> bool:
    if b".." in data or b"file:" in data or b"$" in data or b"~" in data or b"{root" in data:
        return True
    return b"/" in data and _ABSOLUTE.search(data) is not None


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _strings(item)


def _places(text: str, base: str | None) -> bool:
    """Whether `text` may name a place that is not the same relative to the root in every
    checkout."""
    if text.startswith("~") or "file:" in text or "$" in text or "{root" in text:
        return True
    if os.path.isabs(text):
        return True
    parts = text.replace(os.sep, "/").split("/")
    if ".." not in parts:
        return False
    # A relative path: the same place in every checkout unless it climbs out of the root.
    return base is None or _climbs(os.path.normpath(os.path.join(base, text)))


def _cwd_relative(text: str) -> bool:
    if text.startswith("file:"):
        return not text.startswith("file:///")
    if "://" in text or os.path.isabs(text) or text.startswith("~"):
        return False
    return "/" in text or os.sep in text or text.startswith(".")


def _climbs(relative: str) -> bool:
    return relative == os.pardir or relative.startswith(os.pardir + os.sep)
