"""Probe interpreters and find the one a request asks for (SPEC §2.5, §6.4).

Probing runs `_probe.py` inside a candidate (~20-40 ms), so discovery is lazy: candidates are
generated in the order of SPEC §2.5 and probed one at a time until one fits. Answers are kept in
memory for the run and on disk in `<cache>/interpreter-v2/`, keyed by the executable's path, the
file it resolves to and that file's mtime and size, so an upgraded interpreter is probed again.

Candidate order (first match wins):
1. `$VIRTUAL_ENV`; 2. `$CONDA_PREFIX` when it is not the base env; 3. a venv found from the cwd
(the cwd or an ancestor that is a venv, else the nearest `.venv`); 4. the base conda env;
5. managed installs (pyrun's, then uv's read-only ones; newest first) and the search path, in the
order the python-preference gives. Steps 1-3 are skipped when looking for a base interpreter.

Like uv, pre-release and debug builds from managed installs and the search path are only used
when nothing else fits, and under `system` preference a managed install only when no system one
does. A broken interpreter (a pyenv shim for a version that is not selected, a dangling link) is
skipped with a `-v` note, never an error.
"""

from __future__ import annotations

import functools
import marshal
import os
from collections.abc import Iterator, Mapping, Sequence

from pyrun.console import Console, display_path
from pyrun.core.host import Host
from pyrun.core.interpreter import MANAGED_SOURCE, Interpreter, ProbeError
from pyrun.core.patterns import lazy
from pyrun.core.records import Record
from pyrun.core.requests import DEFAULT_REQUEST, PythonRequest
from pyrun.errors import PyrunError
from pyrun.local.cache import atomic_write_bytes
from pyrun.local.host import host_platform
from pyrun.stamp import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from packaging.version import Version

PROBE_TIMEOUT = 10.0
CACHE_BUCKET = "interpreter-v2"
PREFERENCES = ("managed", "system", "only-managed", "only-system")

# Where each source is described in `-v` output and errors, with uv's wording.
ACTIVE_VENV = "active virtual environment"
CONDA_PREFIX = "conda prefix"
BASE_CONDA = "base conda environment"
DISCOVERED_VENV = "virtual environment"
MANAGED = MANAGED_SOURCE
SEARCH_PATH = "search path"
PROVIDED_PATH = "provided path"

# Sources that name one environment on purpose override the `only-*` preferences; all
# environment sources may hold any build (pre-release, debug, free-threaded, PyPy) without
# opt-in, as in uv.
_EXPLICIT_SOURCES = frozenset({ACTIVE_VENV, CONDA_PREFIX, PROVIDED_PATH})
_ENVIRONMENT_SOURCES = _EXPLICIT_SOURCES | {DISCOVERED_VENV, BASE_CONDA}

_MANAGED_KEY = lazy(
    r"^(?P<implementation>cpython|pypy|graalpy)-(?P<version>\d+\.\d+\.\d+)"
    r"(?P<prerelease>(?:a|b|rc)\d+)?(?P<variant>\+[a-z+]+)?"
    r"-(?P<os>[a-z0-9]+)-(?P<arch>[a-z0-9_]+)-(?P<libc>[a-z0-9]+)$"
)
_VARIANT_EXE_SUFFIX = {"freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}


# -- probing -------------------------------------------------------------------------------

_memory: dict[tuple[object, ...], Interpreter | None] = {}


def probe(
    path: str,
    *,
    cache_dir: str | None = None,
    timeout: float = PROBE_TIMEOUT,
    console: Console | None = None,
) -> Interpreter | None:
    """Describe the interpreter at `path`, or None if it is missing or does not work.

    Never raises for a broken interpreter: a pyenv shim that exits 127 with "version not
    installed", a dangling symlink or a script printing garbage all give None.
    """
    target = os.path.abspath(os.path.expanduser(path))
    identity = _identity(target)
    if identity is None:
        _debug(console, f"No executable at `{target}`")
        return None
    key = (target, *identity)
    if key not in _memory:
        _memory[key] = _probe_uncached(target, key, cache_dir, timeout, console)
    return _memory[key]


def probed_paths() -> list[str]:
    """Every path this process probed (working or not), in probing order: what a discovery
    looked at, for a stamp that must notice when one of them changes."""
    return list(dict.fromkeys(str(key[0]) for key in _memory))


def clear_memory_cache() -> None:
    """Forget this run's probe results (tests; after replacing an interpreter in place)."""
    _memory.clear()


def _identity(target: str) -> tuple[object, ...] | None:
    """What the probe's answer depends on: the file the path resolves to and its stat, plus the
    `pyvenv.cfg` beside a venv's `bin/` (it decides `sys.prefix`)."""
    try:
        stat = os.stat(target)
    except OSError:
        return None
    if not os.path.isfile(target) or not os.access(target, os.X_OK):
        return None
    cfg = os.path.join(os.path.dirname(os.path.dirname(target)), "pyvenv.cfg")
    try:
        cfg_stat = os.stat(cfg)
        cfg_key: object = (cfg_stat.st_mtime_ns, cfg_stat.st_size)
    except OSError:
        cfg_key = None
    return (os.path.realpath(target), stat.st_mtime_ns, stat.st_size, cfg_key, _probe_digest())


def _probe_uncached(
    target: str,
    key: tuple[object, ...],
    cache_dir: str | None,
    timeout: float,
    console: Console | None,
) -> Interpreter | None:
    entry = _cache_entry(cache_dir, key)
    data = _read_cache(entry, key)
    if data is None:
        data = _run_probe(target, timeout, console)
        if data is None:
            return None
        # A wrapper script (pyenv shim, `python` shell function stand-in) runs whatever its
        # configuration selects today, so only cache answers from the real interpreter file.
        if entry and os.path.realpath(str(data.get("executable", ""))) == key[1]:
            _write_cache(entry, key, data, console)
    try:
        return Interpreter.from_probe(data, path=target)
    except ProbeError as exc:
        _debug(console, f"Ignoring interpreter at `{target}`: unexpected probe output ({exc})")
        return None


def _run_probe(target: str, timeout: float, console: Console | None) -> dict[str, object] | None:
    # Imported here: a run whose interpreters are all in the probe cache starts no process.
    import subprocess

    command = [target, "-I", "-c", _probe_source()]
    try:
        proc = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        _debug(console, f"Skipping interpreter at `{target}`: no answer within {timeout:g}s")
        return None
    except OSError as exc:
        _debug(console, f"Skipping interpreter at `{target}`: {exc}")
        return None
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()[:1]
        detail = f": {reason[0]}" if reason else ""
        _debug(console, f"Skipping interpreter at `{target}` (exit {proc.returncode}){detail}")
        return None
    import json  # a probe's output only: the cache below is read without it

    try:
        data = json.loads(proc.stdout)
    except ValueError:
        _debug(console, f"Skipping interpreter at `{target}`: its output is not JSON")
        return None
    return data if isinstance(data, dict) else None


@functools.cache
def _probe_source() -> str:
    with open(os.path.join(os.path.dirname(__file__), "_probe.py"), encoding="utf-8") as file:
        return file.read()


@functools.cache
def _probe_digest() -> str:
    return sha256_hex(_probe_source().encode())[:16]


def _cache_entry(cache_dir: str | None, key: tuple[object, ...]) -> str | None:
    if not cache_dir:
        return None
    digest = sha256_hex(repr(key).encode("utf-8", "surrogatepass"))[:16]
    return os.path.join(cache_dir, CACHE_BUCKET, digest)


# Entries are `marshal`led (`{"key": key, "probe": data}`), not JSON: reading one is the only
# use of `json` on the path of a run that needs no probe, and importing it costs ~6 M
# instructions (2% of a sync into a new env). Version 4: the oldest every supported Python
# reads and writes, tuples kept as tuples.
_MARSHAL_VERSION = 4


def _read_cache(entry: str | None, key: tuple[object, ...]) -> dict[str, object] | None:
    if entry is None:
        return None
    try:
        with open(entry, "rb") as handle:
            stored = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    data = stored.get("probe")
    return data if isinstance(data, dict) else None


def _write_cache(
    entry: str, key: tuple[object, ...], data: dict[str, object], console: Console | None
) -> None:
    """Write via a temporary file and rename, so a reader never sees half an entry."""
    try:
        payload = marshal.dumps({"key": key, "probe": data}, _MARSHAL_VERSION)
    except ValueError:  # not marshal-able (a probe of another shape): not kept
        return
    try:
        # Without `tempfile`: a cold run probes before its first request.
        atomic_write_bytes(entry, payload)
    except OSError as exc:
        _debug(console, f"Could not cache interpreter information at `{entry}`: {exc}")


# -- the host and managed installations ----------------------------------------------------


def default_managed_dirs(environ: Mapping[str, str] | None = None) -> list[str]:
    """`<pythons>` then uv's install dir (read-only), per SPEC §1.7."""
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or os.path.expanduser("~")
    data = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    pyrun = environ.get("PYRUN_PYTHON_INSTALL_DIR") or os.path.join(data, "pyrun", "python")
    uv = environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(data, "uv", "python")
    return [pyrun, uv]


class ManagedInstall(Record):
    """One `<pythons>/<key>` directory (pyrun's or uv's)."""

    key: str
    implementation: str
    version: tuple[int, int, int]
    prerelease: str
    variant: str | None
    os: str
    arch: str
    libc: str
    directory: str
    root: str
    root_index: int

    @property
    def release(self) -> Version:
        """`3.13.0rc1` as a comparable version (final > rc > b > a)."""
        from packaging.version import Version  # only when managed installs are ranked

        return Version(".".join(map(str, self.version)) + self.prerelease)

    def executable(self) -> str | None:
        major, minor, _ = self.version
        suffix = _VARIANT_EXE_SUFFIX.get(self.variant or "", "")
        names = [f"python{major}.{minor}{suffix}", f"python{major}.{minor}", "python3", "python"]
        if self.implementation == "pypy":
            names.insert(0, f"pypy{major}.{minor}")
        return _first_executable(os.path.join(self.directory, "bin"), names)

    def minor_link_executable(self) -> str | None:
        """The executable through `<key without patch>` when that link points here (SPEC §6.4):
        environments created from it survive patch upgrades."""
        major, minor, _ = self.version
        variant = f"+{self.variant}" if self.variant else ""
        name = f"{self.implementation}-{major}.{minor}{variant}-{self.os}-{self.arch}-{self.libc}"
        link = os.path.join(self.root, name)
        if not os.path.islink(link) or os.path.realpath(link) != os.path.realpath(self.directory):
            return None
        executable = self.executable()
        if executable is None:
            return None
        return os.path.join(link, "bin", os.path.basename(executable))


def list_managed_installs(
    managed_dirs: Sequence[str], *, host: Host | None = None
) -> list[ManagedInstall]:
    """Installs for this platform (any `x86_64_vN` level), newest first; pyrun's on a tie."""
    host = host or host_platform(os.environ.get("PYRUN_LIBC"))
    installs = [
        install
        for index, root in enumerate(managed_dirs)
        for install in _installs_in(root, index)
        if _fits_host(install, host)
    ]
    # Stable sorts, least significant key first: pyrun's dir and the default variant break
    # ties, the version decides, and CPython comes before other implementations.
    installs.sort(key=lambda install: (install.variant is not None, install.root_index))
    installs.sort(key=lambda install: install.release, reverse=True)
    installs.sort(key=lambda install: install.implementation != "cpython")
    return installs


def _installs_in(root: str, index: int) -> Iterator[ManagedInstall]:
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return
    for name in names:
        match = _MANAGED_KEY.match(name)
        directory = os.path.join(root, name)
        # Minor-version links (`cpython-3.12-…`) do not match the key pattern.
        if match is None or not os.path.isdir(directory):
            continue
        major, minor, patch = (int(part) for part in match["version"].split("."))
        yield ManagedInstall(
            key=name,
            implementation=match["implementation"],
            version=(major, minor, patch),
            prerelease=match["prerelease"] or "",
            variant=(match["variant"] or "").removeprefix("+") or None,
            os=match["os"],
            arch=match["arch"],
            libc=match["libc"],
            directory=directory,
            root=root,
            root_index=index,
        )


def _fits_host(install: ManagedInstall, host: Host) -> bool:
    os_name = "macos" if install.os == "darwin" else install.os
    family = install.arch.split("_v")[0]
    return os_name == host.os and family == host.arch and install.libc == host.libc


def is_managed(interpreter: Interpreter, managed_dirs: Sequence[str]) -> bool:
    """Whether the interpreter (or the base of a venv) lives in a managed install dir."""
    base = os.path.realpath(interpreter.base_prefix)
    for root in managed_dirs:
        real_root = os.path.realpath(root)
        if base.startswith(real_root.rstrip(os.sep) + os.sep):
            return True
    return False


# -- candidates ----------------------------------------------------------------------------


class _Candidate:
    # This and `_Search` are slotted classes: a `NamedTuple` costs ~0.9 M instructions to
    # create at import (its generated `__new__` is compiled), one of these a seventh.
    __slots__ = ("path", "source")

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path


class _Search:
    """One discovery: the request and everything it may look at."""

    __slots__ = (
        "allow_venvs",
        "cache_dir",
        "console",
        "cwd",
        "environ",
        "host",
        "managed_dirs",
        "preference",
        "request",
        "search_path",
    )

    def __init__(
        self,
        *,
        request: PythonRequest,
        preference: str,
        cwd: str,
        environ: Mapping[str, str],
        search_path: str,
        managed_dirs: tuple[str, ...],
        allow_venvs: bool,
        console: Console | None,
        cache_dir: str | None,
        host: Host,
    ) -> None:
        self.request = request
        self.preference = preference
        self.cwd = cwd
        self.environ = environ
        self.search_path = search_path
        self.managed_dirs = managed_dirs
        self.allow_venvs = allow_venvs
        self.console = console
        self.cache_dir = cache_dir
        self.host = host

    def probe(self, path: str) -> Interpreter | None:
        return probe(path, cache_dir=self.cache_dir, console=self.console)

    def debug(self, message: str) -> None:
        _debug(self.console, message)


def _make_search(
    request: PythonRequest | None,
    *,
    preference: str,
    cwd: str | None,
    environ: Mapping[str, str] | None,
    search_path: str | None,
    managed_dirs: Sequence[str] | None,
    allow_venvs: bool,
    console: Console | None,
    cache_dir: str | None,
) -> _Search:
    if preference not in PREFERENCES:
        raise ValueError(f"unknown python-preference {preference!r}")
    environ = os.environ if environ is None else environ
    if search_path is None:
        search_path = environ.get("PYRUN_PYTHON_SEARCH_PATH") or environ.get("PATH", "")
    if managed_dirs is None:
        managed_dirs = default_managed_dirs(environ)
    return _Search(
        request=request or DEFAULT_REQUEST,
        preference=preference,
        cwd=os.path.abspath(cwd or os.getcwd()),
        environ=environ,
        search_path=search_path,
        managed_dirs=tuple(managed_dirs),
        allow_venvs=allow_venvs,
        console=console,
        cache_dir=cache_dir,
        host=host_platform(environ.get("PYRUN_LIBC")),
    )


def venv_python(directory: str) -> str:
    """`<venv>/bin/python3`, else `<venv>/bin/python` (uv's order); the first if neither exists."""
    bin_dir = os.path.join(directory, "Scripts" if os.name == "nt" else "bin")
    names = ["python.exe"] if os.name == "nt" else ["python3", "python"]
    return _first_existing(bin_dir, names) or os.path.join(bin_dir, names[0])


def broken_venv_error(directory: str) -> PyrunError:
    return PyrunError(f"Broken virtual environment `{directory}`: missing `pyvenv.cfg`")


def _environment_candidates(search: _Search, problems: list[PyrunError]) -> Iterator[_Candidate]:
    active = search.environ.get("VIRTUAL_ENV")
    if active:
        yield _Candidate(ACTIVE_VENV, _active_venv_python(active))
    conda = search.environ.get("CONDA_PREFIX")
    if conda and not _is_base_conda(conda, search.environ):
        yield _Candidate(CONDA_PREFIX, venv_python(conda))
    found = _venv_from_working_dir(search.cwd, problems)
    if found:
        yield _Candidate(DISCOVERED_VENV, venv_python(found))


def _active_venv_python(directory: str) -> str:
    """`$VIRTUAL_ENV`'s interpreter. A real venv (with `pyvenv.cfg`) that lost its interpreter is
    an error, as in uv: silently using another Python would install into the wrong place."""
    executable = venv_python(directory)
    has_cfg = os.path.isfile(os.path.join(directory, "pyvenv.cfg"))
    if has_cfg and not os.path.lexists(executable):
        raise PyrunError(
            f"Failed to inspect Python interpreter from active virtual environment at "
            f"`{display_path(executable)}`",
            causes=[f"Python interpreter not found at `{executable}`"],
        )
    return executable


def _is_base_conda(prefix: str, environ: Mapping[str, str]) -> bool:
    """uv's rule: a prefix inside an `envs` directory is a child env, anything else the base.
    `CONDA_DEFAULT_ENV=base` (or `root`) is taken as base too."""
    if environ.get("CONDA_DEFAULT_ENV") in ("base", "root"):
        return True
    return "envs" not in prefix.split(os.sep)


def _venv_from_working_dir(cwd: str, problems: list[PyrunError]) -> str | None:
    """The cwd or an ancestor that is a venv, else the nearest `.venv`. A `.venv` without
    `pyvenv.cfg` stops the walk and is reported if nothing else is found."""
    for candidate in _self_and_parents(cwd):
        if os.path.isfile(os.path.join(candidate, "pyvenv.cfg")):
            return candidate
        dot_venv = os.path.join(candidate, ".venv")
        if os.path.isdir(dot_venv):
            if os.path.isfile(os.path.join(dot_venv, "pyvenv.cfg")):
                return dot_venv
            problems.append(broken_venv_error(dot_venv))
            return None
    return None


def _self_and_parents(directory: str) -> Iterator[str]:
    """`directory` and its ancestors, as `Path(directory)` and its `parents` spell them."""
    absolute = directory.startswith(os.sep)
    parts = [part for part in directory.split(os.sep) if part not in ("", ".")]
    while True:
        joined = os.sep.join(parts)
        yield os.sep + joined if absolute else joined or "."
        if not parts:
            return
        parts.pop()


def _base_conda_candidates(search: _Search) -> Iterator[_Candidate]:
    conda = search.environ.get("CONDA_PREFIX")
    if conda and _is_base_conda(conda, search.environ):
        yield _Candidate(BASE_CONDA, venv_python(conda))


def _installed_candidates(search: _Search) -> Iterator[_Candidate]:
    managed = _managed_candidates(search)
    system = _search_path_candidates(search)
    order = {
        "managed": (managed, system),
        "system": (system, managed),
        "only-managed": (managed,),
        "only-system": (system,),
    }[search.preference]
    for source in order:
        yield from source


def _managed_candidates(search: _Search) -> Iterator[_Candidate]:
    for root in search.managed_dirs:
        search.debug(f"Searching for managed installations at `{root}`")
    request = search.request
    for install in list_managed_installs(search.managed_dirs, host=search.host):
        major, minor, patch = install.version
        if not request.matches_version(major, minor, patch, install.prerelease):
            search.debug(f"Skipping managed installation `{install.key}`: does not satisfy request")
            continue
        link = None if request.patch is not None else install.minor_link_executable()
        executable = link or install.executable()
        if executable:
            yield _Candidate(MANAGED, executable)


def _search_path_candidates(search: _Search) -> Iterator[_Candidate]:
    names = executable_names(search.request)
    for directory in search_dirs(search.search_path):
        for name in names:
            path = os.path.join(directory, name)
            if _is_executable(path):
                yield _Candidate(SEARCH_PATH, path)
        if search.request.minor is None:
            for path in _minor_executables(directory, search.request):
                yield _Candidate(SEARCH_PATH, path)


def search_dirs(search_path: str) -> Iterator[str]:
    """The directories of a PATH-style value, each once (also when repeated via a symlink)."""
    seen: set[tuple[int, int]] = set()
    for entry in search_path.split(os.pathsep):
        if not entry:
            continue
        try:
            stat = os.stat(entry)
        except OSError:
            continue
        identity = (stat.st_dev, stat.st_ino)
        if identity in seen or not os.path.isdir(entry):
            continue
        seen.add(identity)
        yield entry


def executable_names(request: PythonRequest) -> list[str]:
    """Names tried in each search-path directory, most specific first (`python3.12`, `python3`,
    `python`); for the default request uv tries `python` before `python3`."""
    major, minor = request.major, request.minor
    if major is not None and minor is not None:
        generic = [f"python{major}.{minor}", f"python{major}", "python"]
    elif major is not None:
        generic = [f"python{major}", "python"]
    elif request.kind in ("default", "any"):
        generic = ["python", "python3"]
    else:
        generic = ["python3", "python"]
    suffix = _VARIANT_EXE_SUFFIX.get(request.variant or "", "")
    if suffix and minor is not None:
        generic.insert(0, f"python{major}.{minor}{suffix}")
    implementation = request.implementation
    if implementation and implementation != "cpython":
        specific = [name.replace("python", implementation, 1) for name in generic]
        return specific + generic
    return generic


def _minor_executables(directory: str, request: PythonRequest) -> list[str]:
    """`python3.X` (and `python3.Xt`) in a directory, for requests without a minor version: a
    `>=3.12` request must find `python3.12` beside a `python3` that is 3.11. Newest first."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found: list[tuple[int, bool, str]] = []
    for name in names:
        parsed = _minor_executable(name)
        if parsed is None:
            continue
        minor, free_threaded = parsed
        if minor >= 6 and request.matches_major_minor(3, minor):
            found.append((minor, free_threaded, os.path.join(directory, name)))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, _, path in found if _is_executable(path)]


def _minor_executable(name: str) -> tuple[int, bool] | None:
    """The minor version of a `python3.X[t]` name and whether it is free-threaded, as
    `^python3\\.(?P<minor>\\d\\d?)(?P<t>t?)$` reads it (`$` allows one final newline), without
    loading `re` on the path of every run that searches `PATH`."""
    if not name.startswith("python3."):
        return None
    rest = name[len("python3.") :].removesuffix("\n")
    digits = rest.removesuffix("t")
    if not 1 <= len(digits) <= 2 or not digits.isdecimal():
        return None
    return int(digits), digits != rest


# -- selection -----------------------------------------------------------------------------


class _Deferred:
    """Interpreters that fit but are used only if nothing better does (uv's order)."""

    __slots__ = ("debug", "managed", "prerelease")

    def __init__(self) -> None:
        self.managed: Interpreter | None = None
        self.debug: Interpreter | None = None
        self.prerelease: Interpreter | None = None

    def best(self) -> Interpreter | None:
        return self.managed or self.debug or self.prerelease


def find_interpreter(
    request: PythonRequest | None,
    *,
    preference: str = "managed",
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    search_path: str | None = None,
    managed_dirs: Sequence[str] | None = None,
    allow_venvs: bool = True,
    console: Console | None = None,
    cache_dir: str | None = None,
    problems: list[PyrunError] | None = None,
) -> Interpreter | None:
    """The first interpreter that satisfies `request` in SPEC §2.5 order, or None.

    `search_path` defaults to `PYRUN_PYTHON_SEARCH_PATH`, else `PATH`, from `environ`;
    `managed_dirs` to `default_managed_dirs(environ)`. With `allow_venvs=False` virtual
    environments are skipped (and a path to a venv gives its base interpreter).
    Raises `PyrunError` for an active venv without its interpreter, and for a `.venv` without
    `pyvenv.cfg` when nothing else fits — unless `problems` is given: then that error is
    appended there and None returned, so the caller can try a download first (uv reports it
    only after that). The result's `source` says where it was found.
    """
    search = _make_search(
        request,
        preference=preference,
        cwd=cwd,
        environ=environ,
        search_path=search_path,
        managed_dirs=managed_dirs,
        allow_venvs=allow_venvs,
        console=console,
        cache_dir=cache_dir,
    )
    if search.request.kind == "path":
        search.debug(f"Checking for {_describe_search(search)}")
        return _find_path(search)
    sources = sources_text(search.preference, search.allow_venvs)
    search.debug(f"Searching for {_describe_search(search)} in {sources}")
    if search.request.kind == "executable":
        return _find_executable(search)
    found_problems: list[PyrunError] = []
    found = _select(search, _all_candidates(search, found_problems))
    if found is None and found_problems:
        if problems is None:
            raise found_problems[0]
        problems.extend(found_problems)
    return found


def find_base_interpreter(
    request: PythonRequest | None,
    *,
    preference: str = "managed",
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    search_path: str | None = None,
    managed_dirs: Sequence[str] | None = None,
    console: Console | None = None,
    cache_dir: str | None = None,
    problems: list[PyrunError] | None = None,
) -> Interpreter | None:
    """A non-venv, non-conda-env interpreter to create a new venv from (SPEC §2.7)."""
    return find_interpreter(
        request,
        preference=preference,
        cwd=cwd,
        environ=environ,
        search_path=search_path,
        managed_dirs=managed_dirs,
        allow_venvs=False,
        console=console,
        cache_dir=cache_dir,
        problems=problems,
    )


def iter_all_interpreters(
    request: PythonRequest | None = None,
    *,
    preference: str = "managed",
    environ: Mapping[str, str] | None = None,
    search_path: str | None = None,
    managed_dirs: Sequence[str] | None = None,
    allow_venvs: bool = False,
    console: Console | None = None,
    cache_dir: str | None = None,
) -> Iterator[Interpreter]:
    """Every working interpreter in managed installs and on the search path, for `python list`:
    each install and each `python`, `python3`, `python3.X` file once, in preference order."""
    search = _make_search(
        request or PythonRequest(kind="any", text="any"),
        preference=preference,
        cwd=None,
        environ=environ,
        search_path=search_path,
        managed_dirs=managed_dirs,
        allow_venvs=allow_venvs,
        console=console,
        cache_dir=cache_dir,
    )
    seen: set[str] = set()
    for candidate in _installed_candidates(search):
        if candidate.path in seen:
            continue
        seen.add(candidate.path)
        interpreter = search.probe(candidate.path)
        if interpreter is None or (interpreter.is_venv and not allow_venvs):
            continue
        if request is None or interpreter.satisfies(request):
            yield interpreter._replace(source=candidate.source)


def _all_candidates(search: _Search, problems: list[PyrunError]) -> Iterator[_Candidate]:
    if search.allow_venvs:
        yield from _environment_candidates(search, problems)
    yield from _base_conda_candidates(search)
    yield from _installed_candidates(search)


def _select(search: _Search, candidates: Iterator[_Candidate]) -> Interpreter | None:
    deferred = _Deferred()
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.path in seen:
            continue
        seen.add(candidate.path)
        interpreter = search.probe(candidate.path)
        if interpreter is None:
            continue
        interpreter = interpreter._replace(source=candidate.source)
        search.debug(f"Found `{interpreter.key()}` at `{candidate.path}` ({candidate.source})")
        verdict = _judge(search, interpreter)
        if verdict == "use":
            return interpreter
        if verdict in ("managed", "debug", "prerelease") and getattr(deferred, verdict) is None:
            setattr(deferred, verdict, interpreter)
    best = deferred.best()
    if best is not None:
        search.debug(f"Using `{best.key()}`: nothing else satisfies the request")
    return best


def _judge(search: _Search, interpreter: Interpreter) -> str:
    """`use`, `skip`, or why to keep it in reserve (`managed`, `debug`, `prerelease`)."""
    source = interpreter.source
    request = search.request
    if not search.allow_venvs and interpreter.is_venv:
        return "skip"
    if not _preference_allows(search, interpreter):
        return "skip"
    if source in _ENVIRONMENT_SOURCES and request.kind == "default":
        # An environment someone chose may be any build, free-threaded included (uv).
        request = PythonRequest(kind="any", text=request.text)
    if not interpreter.satisfies(request):
        search.debug(
            f"Skipping `{interpreter.key()}`: does not satisfy {search.request.describe()}"
        )
        return "skip"
    if source in _ENVIRONMENT_SOURCES:
        return "use"
    if (
        interpreter.implementation != "cpython"
        and request.implementation is None
        and request.kind != "any"
    ):
        search.debug(f"Skipping alternative implementation `{interpreter.key()}`")
        return "skip"
    if interpreter.prerelease and not (request.allows_prereleases() or request.kind == "any"):
        return "prerelease"
    if interpreter.debug_build and not (request.allows_debug() or request.kind == "any"):
        return "debug"
    if search.preference == "system" and source == MANAGED:
        return "managed"
    return "use"


def _preference_allows(search: _Search, interpreter: Interpreter) -> bool:
    if search.preference not in ("only-managed", "only-system"):
        return True
    if interpreter.source in _EXPLICIT_SOURCES:
        return True
    managed = interpreter.source == MANAGED or is_managed(interpreter, search.managed_dirs)
    wanted = search.preference == "only-managed"
    if managed != wanted:
        search.debug(
            f"Ignoring `{interpreter.path}`: only {'managed' if wanted else 'system'} "
            "interpreters allowed"
        )
    return managed == wanted


def _find_path(search: _Search) -> Interpreter | None:
    """A path request uses exactly that interpreter (a directory means its `bin/python`)."""
    target = os.path.expanduser(search.request.path or "")
    target = os.path.join(search.cwd, target)
    executable = venv_python(target) if os.path.isdir(target) else target
    interpreter = search.probe(executable)
    if interpreter is None:
        return None
    interpreter = interpreter._replace(source=PROVIDED_PATH)
    if interpreter.is_venv and not search.allow_venvs:
        return _base_of(search, interpreter)
    return interpreter


def _base_of(search: _Search, venv: Interpreter) -> Interpreter | None:
    """The interpreter a venv was made from: `sys._base_executable`, else `<base_prefix>/bin`."""
    bin_dir = os.path.join(venv.base_prefix, "bin")
    names = [f"python{venv.major}.{venv.minor}", f"python{venv.major}", "python"]
    candidates = [venv.base_executable] + [os.path.join(bin_dir, name) for name in names]
    for path in candidates:
        if not path or os.path.normpath(path) == os.path.normpath(venv.path):
            continue
        interpreter = search.probe(path)
        if interpreter is not None and not interpreter.is_venv:
            return interpreter._replace(source=PROVIDED_PATH)
    return None


def _find_executable(search: _Search) -> Interpreter | None:
    """An executable name is looked up on the search path, like `which`."""
    name = search.request.path or ""
    for directory in search_dirs(search.search_path):
        path = os.path.join(directory, name)
        if not _is_executable(path):
            continue
        interpreter = search.probe(path)
        if interpreter is None or (interpreter.is_venv and not search.allow_venvs):
            continue
        return interpreter._replace(source=SEARCH_PATH)
    return None


# -- messages ------------------------------------------------------------------------------


def sources_text(preference: str = "managed", allow_venvs: bool = True) -> str:
    """`virtual environments, managed installations, or search path` (uv's wording)."""
    installed = {
        "managed": [MANAGED, SEARCH_PATH],
        "system": [SEARCH_PATH, MANAGED],
        "only-managed": [MANAGED],
        "only-system": [SEARCH_PATH],
    }[preference]
    return _disjunction((["virtual environments"] if allow_venvs else []) + installed)


def not_found_error(
    request: PythonRequest | None,
    *,
    preference: str = "managed",
    allow_venvs: bool = True,
    cwd: str | None = None,
) -> PyrunError:
    """The standard "No interpreter found …" error (exit 2), worded as uv words it."""
    request = request or DEFAULT_REQUEST
    sources = sources_text(preference, allow_venvs)
    if request.kind in ("default", "any"):
        return PyrunError(f"No interpreter found in {sources}")
    if request.kind == "path":
        shown = _display_request_path(request.path or "", cwd)
        target = os.path.join(cwd or os.getcwd(), os.path.expanduser(request.path or ""))
        if os.path.isdir(target):
            return PyrunError(f"No interpreter found in directory `{shown}`")
        return PyrunError(f"No interpreter found at path `{shown}`")
    return PyrunError(f"No interpreter found for {request.describe()} in {sources}")


def _display_request_path(path: str, cwd: str | None) -> str:
    return display_path(path, cwd) if os.path.isabs(path) else path


def _describe_search(search: _Search) -> str:
    request = search.request
    if request.kind == "path":
        return f"Python interpreter at {request.describe()}"
    if request.kind == "default":
        return "default Python interpreter"
    if request.kind == "any":
        return "any Python interpreter"
    return request.describe()


def _disjunction(items: list[str]) -> str:
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


# -- small helpers -------------------------------------------------------------------------


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _first_existing(directory: str, names: Sequence[str]) -> str | None:
    for name in names:
        path = os.path.join(directory, name)
        if os.path.lexists(path):
            return path
    return None


def _first_executable(directory: str, names: Sequence[str]) -> str | None:
    for name in names:
        path = os.path.join(directory, name)
        if _is_executable(path):
            return path
    return None


def _debug(console: Console | None, message: str) -> None:
    if console is not None:
        console.debug(message)
