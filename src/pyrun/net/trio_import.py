"""trio's import without its `ldconfig` subprocess.

Installed by `pyrun.net` itself, so it is in place before any module of the network layer
imports trio (or httpx, which imports it), whichever path imports it first.

`trio._core._thread_cache` looks up `pthread_setname_np` at import (to name its worker
threads for debuggers) with `ctypes.util.find_library("pthread")`, which on Linux runs
`ldconfig -p` and reads its ~500 lines of output: a fork and exec in the middle of every command
that goes to the network (~15 ms of wall time here, ~1.5 ms of CPU). With glibc the answer is
known without asking: the library's soname has been `libpthread.so.0` on every architecture
since glibc 2.0 (a stub that re-exports libc's symbols since 2.34), so for that one call, while
trio's module runs, `find_library` answers it directly. Threads keep their names. Elsewhere
(musl, macOS, Windows) trio looks it up as usual.
"""

from __future__ import annotations

import os
import sys

# `typing` is not imported: this module loads before anything that needs it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import importlib.machinery
    from importlib.abc import Loader as _LoaderBase
    from types import ModuleType
    from typing import Any
else:
    _LoaderBase = object  # `importlib.abc` is not otherwise loaded

_TRIO_THREAD_CACHE = "trio._core._thread_cache"


def install() -> None:
    """Put the finder in place (once per process, and only before trio is loaded)."""
    soname = _glibc_pthread_soname()
    if soname is None or _TRIO_THREAD_CACHE in sys.modules:
        return
    if not any(isinstance(f, _TrioThreadCacheFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TrioThreadCacheFinder(soname))


def _glibc_pthread_soname() -> str | None:
    if sys.platform != "linux":
        return None
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):  # not glibc (musl has no such name)
        return None
    return "libpthread.so.0" if libc and libc.startswith("glibc ") else None


class _TrioThreadCacheFinder:
    """A meta path finder for one module, trio's thread cache: the path finder's spec, with a
    loader that runs the module with `pthread`'s soname known. Used once, then inert: it
    stays in `sys.meta_path`, because removing it while another thread's import walks the
    list would make that import skip the finder after it."""

    def __init__(self, soname: str) -> None:
        self.soname = soname
        self.used = False

    def find_spec(
        self, fullname: str, path: Any, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TRIO_THREAD_CACHE or self.used:
            return None
        self.used = True
        # Imported here, for trio: every command that loads the network layer installs the
        # finder, and most never import trio (~2 M instructions for `importlib.machinery`).
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PthreadKnownLoader(spec.loader, self.soname)
        return spec


class _PthreadKnownLoader(_LoaderBase):
    """The module's own loader, with `ctypes.util.find_library("pthread")` answered while the
    module runs; everything else (`get_source` for tracebacks, …) is the original's."""

    def __init__(self, loader: Any, soname: str) -> None:
        self._loader = loader
        self._soname = soname

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        import ctypes.util

        original = ctypes.util.find_library
        soname = self._soname

        def find_library(name: str) -> str | None:
            return soname if name == "pthread" else original(name)

        ctypes.util.find_library = find_library
        try:
            self._loader.exec_module(module)
        finally:
            ctypes.util.find_library = original
