"""Build wheels from source: PEP 517 wheels, PEP 660 editables, and the cache of built wheels.

A build runs the project's backend through `pyproject_hooks` with the *target* interpreter, in
an isolated build environment pyrun creates (`builds-v0/.tmp*/env`, a venv like any other) and
removes afterwards. The environment receives `[build-system] requires`, then whatever the
backend's `get_requires_for_build_*` hook asks for (each lowered through `tool.uv.sources` when
the source is a local tree or a git checkout: `pyrun.local.build_sources`), through a
caller-supplied `RequirementsProvider`: resolving and downloading requirements is network
work, which the async sync layer does (and this module, being synchronous, must not), while
installing them here is a plain link from the cache.

Built wheels are unpacked into `archive-v0/` like downloaded ones and recorded in `sdists-v1/`:

    sdists-v1/<key>/<wheel filename>.json   {"archive": <id>, "sha256": …, "name": …, "version": …}

`<key>` is `sdist-<sha256 of the sdist>` for source distributions (so an sdist builds once, for
every environment its wheel fits), and `local-<path hash>-<mode>-<cache key hash>` for local
source trees, where the cache key (SPEC §2.9, §5.1) is computed by `local_cache_key` from file
metadata only (no build, no hashing of the project's code).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from pyrun.core.interpreter import Interpreter
from pyrun.core.tomlerror import loads as load_toml
from pyrun.core.wheelname import Tag, wheel_tags
from pyrun.errors import FailureError, first_pyrun_error, os_error_text
from pyrun.local.build_sources import (
    BuildRequirements,
    lower_build_requirements,
    plain_requirements,
)
from pyrun.local.cache import BUILDS_BUCKET, SDISTS_BUCKET, Cache, atomic_write_bytes
from pyrun.local.cache_globs import is_glob, matching_files
from pyrun.local.cache_key import (
    CACHE_KEY_VERSION,
    DEFAULT_KEY_FILES,
    default_inputs,
    dir_identity,
    newest,
)
from pyrun.local.install import InstallTarget, Linker, find_single_dist_info, install_wheel
from pyrun.local.unpack import file_sha256, unpack_wheel
from pyrun.local.venv import base_interpreter, create_venv

# PEP 517: a project without `[build-system]` (or without `build-backend`) is built with
# setuptools' legacy backend, which runs `setup.py` as `pip` always did.
DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
_STDERR_TAIL = 40  # lines of the backend's output shown when a build fails
# Build requirements that derive the version from the VCS (SPEC §5.1).
_VCS_PLUGINS = frozenset(
    {
        "setuptools-scm",
        "hatch-vcs",
        "versioningit",
        "poetry-dynamic-versioning",
        "uv-dynamic-versioning",
        "dunamai",
        "pdm-backend-scm",
    }
)


# ---------------------------------------------------------------------------------------------
# The build system
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BuildSystem:
    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()


def read_pyproject(source_dir: Path) -> dict[str, Any]:
    """The parsed `pyproject.toml` of a source tree; empty when there is none (setup.py only)."""
    path = source_dir / "pyproject.toml"
    try:
        with open(path, "rb") as file:
            return load_toml(file.read().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        cause = os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        raise FailureError(f"Failed to read `{path}`", causes=(cause,)) from exc


def build_system(pyproject: Mapping[str, Any]) -> BuildSystem:
    """`[build-system]`, with PEP 517's defaults for what is missing."""
    table = pyproject.get("build-system")
    if not isinstance(table, dict):
        return BuildSystem(requires=DEFAULT_REQUIRES, backend=LEGACY_BACKEND)
    requires = table.get("requires", list(DEFAULT_REQUIRES))
    backend = table.get("build-backend")
    if not isinstance(backend, str) or not backend:
        backend = LEGACY_BACKEND
    return BuildSystem(
        requires=tuple(str(r) for r in requires) if isinstance(requires, list) else (),
        backend=backend,
        backend_path=tuple(str(p) for p in table.get("backend-path", []) or []),
    )


# ---------------------------------------------------------------------------------------------
# The build environment
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BuildEnv:
    prefix: Path
    target: InstallTarget

    @property
    def python(self) -> str:
        return self.target.python_executable


# Resolves, fetches and installs requirements into a build environment (building the source
# trees they were lowered to, `pyrun.local.build_sources`).
RequirementsProvider = Callable[[BuildEnv, BuildRequirements], None]


@contextlib.contextmanager
def build_env(cache: Cache, interpreter: Interpreter) -> Iterator[BuildEnv]:
    """A fresh, empty venv for one build, removed afterwards whatever happens."""
    workdir = cache.tempdir(BUILDS_BUCKET)
    try:
        prefix = workdir / "env"
        create_venv(os.fspath(prefix), base_interpreter(interpreter), prompt="build")
        target = InstallTarget.for_venv(
            prefix, interpreter.version_info[:2], implementation=interpreter.implementation_name
        )
        yield BuildEnv(prefix=prefix, target=target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def install_archives(env: BuildEnv, archives: Iterable[Path]) -> None:
    """Install unpacked wheels from the cache into the build environment (hardlinked)."""
    linker = Linker()
    for archive in archives:
        install_wheel(archive, env.target, linker=linker)


# ---------------------------------------------------------------------------------------------
# Running the backend
# ---------------------------------------------------------------------------------------------


class _Runner:
    """pyproject_hooks' subprocess runner, keeping the last hook's output for error messages."""

    def __init__(self, env: BuildEnv) -> None:
        self.env = env
        self.hook = ""
        self.stdout = ""
        self.stderr = ""

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = _build_environ(self.env, extra_environ or {})
        result = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        # pyproject_hooks runs `python _in_process.py <hook> <control dir>`.
        self.hook = cmd[2] if len(cmd) > 2 else ""
        self.stdout = result.stdout.decode("utf-8", errors="replace")
        self.stderr = result.stderr.decode("utf-8", errors="replace")
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, cmd, result.stdout)


def _build_environ(env: BuildEnv, extra: Mapping[str, str]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    bindir = os.fspath(env.target.scripts)
    environ["PATH"] = bindir + os.pathsep + environ.get("PATH", "")
    environ["VIRTUAL_ENV"] = os.fspath(env.prefix)
    environ.update(extra)
    return environ


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """One build: `source_dir` is an unpacked source tree; `display` names it in messages."""

    source_dir: Path
    display: str
    editable: bool = False
    config_settings: Mapping[str, str | list[str]] | None = None
    # How uv words a failure around the backend (its build requirements) for this source:
    # "download and build" for one it fetched (an index's or a URL's sdist, a git checkout),
    # "build" for a local one. The backend's own failure is always "build".
    frontend_verb: str = "build"
    # Whether its build requirements are lowered through `tool.uv.sources` (a local tree or a
    # git checkout; uv disables sources for an index's or a URL's sdist).
    sources: bool = False
    # The source trees whose build environments this build is for, outermost first.
    stack: tuple[str, ...] = ()

    def requirements(self, texts: Sequence[str]) -> BuildRequirements:
        """`texts` from this build's backend, lowered when its sources apply."""
        stack = (*self.stack, os.path.abspath(self.source_dir))
        if not self.sources:
            return plain_requirements(texts, stack)
        return lower_build_requirements(self.source_dir, texts, stack)


def build_wheel(
    request: BuildRequest,
    *,
    interpreter: Interpreter,
    cache: Cache,
    provide: RequirementsProvider,
    out_dir: Path,
) -> Path:
    """Build `request` into `out_dir` and return the wheel's path.

    Raises `FailureError` naming the project, with the tail of the backend's output.
    """
    with _backend(request, interpreter, cache, provide) as (hooks, settings, kind):
        out_dir.mkdir(parents=True, exist_ok=True)
        name = getattr(hooks, f"build_{kind}")(os.fspath(out_dir), settings)
        return out_dir / name


def build_metadata(
    request: BuildRequest,
    *,
    interpreter: Interpreter,
    cache: Cache,
    provide: RequirementsProvider,
    out_dir: Path,
) -> bytes:
    """The core metadata (`METADATA` bytes) of a source tree, for dynamic metadata (SPEC §2.9).

    Uses the backend's `prepare_metadata_for_build_*` hook; pyproject_hooks falls back to
    building the wheel when the backend has none.
    """
    with _backend(request, interpreter, cache, provide) as (hooks, settings, kind):
        out_dir.mkdir(parents=True, exist_ok=True)
        prepare = getattr(hooks, f"prepare_metadata_for_build_{kind}")
        name = prepare(os.fspath(out_dir), settings, _allow_fallback=True)
        return (out_dir / name / "METADATA").read_bytes()


@contextlib.contextmanager
def _backend(
    request: BuildRequest,
    interpreter: Interpreter,
    cache: Cache,
    provide: RequirementsProvider,
) -> Iterator[tuple[Any, Mapping[str, Any] | None, str]]:
    """The backend's hooks in a build environment holding its requirements (static ones from
    `[build-system] requires`, then what `get_requires_for_build_*` asks for).

    Yields `(hooks, config settings, "wheel" | "editable")`; any failure inside becomes a
    `FailureError` with the backend's output.
    """
    from pyproject_hooks import BuildBackendHookCaller

    _silence_backend_warnings()
    system = build_system(read_pyproject(request.source_dir))
    kind = "editable" if request.editable else "wheel"
    settings = dict(request.config_settings or {}) or None
    with build_env(cache, interpreter) as env:
        runner = _Runner(env)
        hooks = BuildBackendHookCaller(
            os.fspath(request.source_dir),
            system.backend,
            backend_path=list(system.backend_path) or None,
            runner=runner,
            python_executable=os.fspath(env.python),
        )
        try:
            if system.requires:
                _provide(request, env, request.requirements(system.requires), provide)
            extra = getattr(hooks, f"get_requires_for_build_{kind}")(settings)
            if extra:
                _provide(request, env, request.requirements(list(extra)), provide)
            yield hooks, settings, kind
        except FailureError:
            raise
        except Exception as exc:
            raise _build_error(request, exc, runner, system.backend) from exc


@functools.cache
def _silence_backend_warnings() -> None:
    """pyproject_hooks re-raises the backend's warnings in this process, where Python would
    print them to stderr between pyrun's own lines; uv shows a backend's output only when the
    build fails, and so does pyrun (`_Runner` keeps it for the error)."""
    import warnings

    from pyproject_hooks import BuildBackendWarning

    warnings.filterwarnings("ignore", category=BuildBackendWarning)


class UnresolvedBuildRequirements(FailureError):
    """A build's requirements do not resolve (no set of wheels satisfies them, or a git source
    cannot be fetched, which uv meets while resolving): uv words it `Failed to resolve
    requirements from …`, where a failure to fetch or install them is `Failed to install …`."""


def _provide(
    request: BuildRequest,
    env: BuildEnv,
    requirements: BuildRequirements,
    provide: RequirementsProvider,
) -> None:
    try:
        try:
            provide(env, requirements)
        except ExceptionGroup as group:  # the nursery that fetched and installed them
            inner = first_pyrun_error(group)
            if not isinstance(inner, FailureError):
                raise
            raise inner from group
    except FailureError as exc:
        # uv names `build-system.requires` as the origin of the backend's own requirements too.
        verb = "resolve" if isinstance(exc, UnresolvedBuildRequirements) else "install"
        error = FailureError(
            f"Failed to {request.frontend_verb} `{request.display}`",
            causes=(
                f"Failed to {verb} requirements from `build-system.requires`",
                exc.message,
                *exc.causes,
            ),
        )
        error.cause_hints = exc.cause_hints  # a build requirement's own failed build
        raise error from exc


def _build_error(
    request: BuildRequest, exc: Exception, runner: _Runner, backend: str
) -> FailureError:
    """uv's account of a failed build: what failed, then the backend's stdout and stderr."""
    from pyproject_hooks import BackendUnavailable, HookMissing

    what = "an editable" if request.editable else "a wheel"
    if isinstance(exc, HookMissing):
        causes = [f"The build backend does not support building {what} (`{exc.hook_name}` hook)"]
    elif isinstance(exc, BackendUnavailable):
        causes = [f"The build backend `{exc.backend_name}` could not be imported"]
    elif isinstance(exc, subprocess.CalledProcessError):
        call = f"{backend.split(':', 1)[0]}.{runner.hook}"
        causes = [
            "The build backend returned an error",
            f"Call to `{call}` failed (exit status: {exc.returncode})",
        ]
    else:
        causes = [_described(exc)]
    output = _output_sections(runner)
    if output:
        causes[-1] += "\n\n" + output
    error = FailureError(f"Failed to build `{request.display}`", causes=tuple(causes))
    if isinstance(exc, subprocess.CalledProcessError):
        error.cause_hints = (BUILD_FAILURE_HINT,)
    return error


def _described(exc: BaseException) -> str:
    """An unexpected exception as a cause line: a nursery's group by what it holds (its first
    pyrun error, else its first exception), never "Exceptions from Trio nursery"."""
    if isinstance(exc, BaseExceptionGroup):
        inner = first_pyrun_error(exc)
        if inner is not None:
            return "\n".join((inner.message, *inner.causes))
        return _described(exc.exceptions[0])
    return str(exc) or type(exc).__name__


# uv's note after a backend that returned an error (after the hint on why the package is
# installed, when there is one).
BUILD_FAILURE_HINT = (
    "Build failures usually indicate a problem with the package or the build environment"
)


def _output_sections(runner: _Runner) -> str:
    """`[stdout]` and `[stderr]` of the failed hook, each its last lines, as uv shows them."""
    sections = []
    for label, text in (("stdout", runner.stdout), ("stderr", runner.stderr)):
        lines = text.strip().splitlines()[-_STDERR_TAIL:]
        if lines:
            sections.append(f"[{label}]\n" + "\n".join(lines))
    return "\n\n".join(sections)


# ---------------------------------------------------------------------------------------------
# Sources: unpacking an sdist
# ---------------------------------------------------------------------------------------------


def unpack_sdist(sdist: Path, dest: Path, *, name: str | None = None) -> Path:
    """Extract a source archive into `dest` and return its project directory."""
    from pyrun.local.archives import extract_archive

    extract_archive(sdist, dest, name=name)
    entries = [entry for entry in dest.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


# ---------------------------------------------------------------------------------------------
# The cache of built wheels
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BuiltWheel:
    name: str
    version: str
    filename: str
    archive: Path
    sha256: str


def sdist_build_key(sdist_hash: str | None, location: str) -> str:
    """The build-cache key of an sdist: its hash when the lock gives one, else its location."""
    if sdist_hash and sdist_hash.lower().startswith("sha256:"):
        return "sdist-" + sdist_hash.split(":", 1)[1].lower()[:32]
    return "sdist-url-" + _short(location)


def local_build_key(source_dir: Path, editable: bool, cache_info: Mapping[str, Any]) -> str:
    mode = "editable" if editable else "wheel"
    key_text = json.dumps(cache_info, sort_keys=True)
    return f"local-{_short(os.fspath(source_dir))}-{mode}-{_short(key_text)}"


def git_build_key(locked_url: str) -> str:
    """The build-cache key of a git source: its lock URL, which names the commit."""
    return "git-" + _short(locked_url)


def git_metadata_key(locked_url: str) -> str:
    """Where the built metadata of a git source is recorded (one commit never changes)."""
    return f"git-{_short(locked_url)}-metadata"


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def find_built(cache: Cache, key: str, priorities: Mapping[Tag, int]) -> BuiltWheel | None:
    """The best cached build under `key` for these tags, if its archive is still there."""
    directory = cache.root / SDISTS_BUCKET / key
    best: tuple[int, BuiltWheel] | None = None
    for entry in _listdir(directory):
        built = _read_built(directory / entry, cache)
        rank = _rank(built.filename, priorities) if built is not None else None
        if built is not None and rank is not None and (best is None or rank < best[0]):
            best = (rank, built)
    return best[1] if best else None


def record_built(cache: Cache, key: str, wheel: Path) -> BuiltWheel:
    """Unpack a freshly built wheel into the cache and remember it under `key`."""
    sha256 = file_sha256(wheel)
    archive = unpack_wheel(wheel, cache, sha256=sha256, built=True)
    name, version, _build, _tags = parse_wheel_filename(wheel.name)
    built = BuiltWheel(
        name=str(name), version=str(version), filename=wheel.name, archive=archive, sha256=sha256
    )
    record = {
        "name": built.name,
        "version": built.version,
        "archive": archive.name,
        "sha256": sha256,
    }
    path = cache.bucket(SDISTS_BUCKET) / key / f"{wheel.name}.json"
    atomic_write_bytes(path, json.dumps(record, sort_keys=True).encode())
    return built


def _read_built(path: Path, cache: Cache) -> BuiltWheel | None:
    if not path.name.endswith(".whl.json"):
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        archive = cache.archive_path(str(record["archive"]))
        built = BuiltWheel(
            name=str(record["name"]),
            version=str(record["version"]),
            filename=path.name.removesuffix(".json"),
            archive=archive,
            sha256=str(record["sha256"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return built if archive.is_dir() else None


def _rank(filename: str, priorities: Mapping[Tag, int]) -> int | None:
    tags = wheel_tags(filename)
    if tags is None:
        return None
    ranks = [priorities[tag] for tag in tags if tag in priorities]
    return min(ranks) if ranks else None


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


# ---------------------------------------------------------------------------------------------
# The cache of built metadata (dynamic requirements of local projects, SPEC §2.8, §2.9)
# ---------------------------------------------------------------------------------------------
#
#     sdists-v1/local-<path hash>-metadata-<cache key hash>/METADATA
#     sdists-v1/sdist-<sha256>/METADATA      (an sdist's, next to the wheels built from it)
#
# Keyed like a local build, so a project's metadata is built once per cache key: a lock check
# or a run reads the file, and a change to an input of the key (an edited `requirements.txt`
# named by `tool.setuptools.dynamic`, say) means one new build.

METADATA_FILE = "METADATA"


def local_metadata_key(source_dir: Path, cache_info: Mapping[str, Any]) -> str:
    key_text = json.dumps(cache_info, sort_keys=True)
    return f"local-{_short(os.fspath(source_dir))}-metadata-{_short(key_text)}"


def find_metadata(cache: Cache, key: str) -> bytes | None:
    """The metadata recorded under `key`, if any."""
    try:
        return (cache.root / SDISTS_BUCKET / key / METADATA_FILE).read_bytes()
    except OSError:
        return None


def cached_metadata(
    request: BuildRequest,
    key: str,
    *,
    interpreter: Interpreter,
    cache: Cache,
    provide: RequirementsProvider,
) -> bytes:
    """The metadata under `key`, built (`build_metadata`) and recorded when missing.

    Blocking: run it on a worker thread when `provide` needs the event loop.
    """
    with cache.key_lock(SDISTS_BUCKET, key):
        # Another process may have built it while we waited for the lock.
        found = find_metadata(cache, key)
        if found is not None:
            return found
        workdir = cache.tempdir(SDISTS_BUCKET)
        try:
            data = build_metadata(
                request, interpreter=interpreter, cache=cache, provide=provide, out_dir=workdir
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        record_metadata(cache, key, data)
        return data


def record_built_metadata(cache: Cache, key: str, built: BuiltWheel) -> None:
    """Remember the METADATA of a wheel built from a local tree as that tree's metadata under
    `key`, unless recorded already: a lock after a sync then reads what the sync's build made
    instead of building the tree again, as uv keeps a build's metadata beside its wheel."""
    if find_metadata(cache, key) is not None:
        return
    try:
        dist_info = find_single_dist_info(built.archive)
        data = (built.archive / dist_info / METADATA_FILE).read_bytes()
    except (OSError, FailureError):
        return  # the install reports a wheel without one `.dist-info`; a lock builds again
    record_metadata(cache, key, data)


def record_metadata(cache: Cache, key: str, data: bytes) -> None:
    """Remember `data` as the metadata under `key` (atomically: never a partial file)."""
    atomic_write_bytes(cache.bucket(SDISTS_BUCKET) / key / METADATA_FILE, data)


# ---------------------------------------------------------------------------------------------
# The cache key of a local source tree (SPEC §2.9, §5.1)
# ---------------------------------------------------------------------------------------------


def local_cache_key(source_dir: Path, pyproject: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What decides whether a local project must be rebuilt, as `pyrun_cache.json` holds it.

    `{"version": 2, "inputs": {name: value}}`; the names say which input changed (`-v`).
    `cache-keys` in the tool table replaces the default (nothing inferred is added).
    """
    data = read_pyproject(source_dir) if pyproject is None else pyproject
    tool = _tool_table(data)
    explicit = tool.get("cache-keys")
    if isinstance(explicit, list):
        inputs = _explicit_inputs(source_dir, explicit)
    else:
        inputs = default_inputs(source_dir)
        inputs.update(inferred_inputs(source_dir, data))
    return {"version": CACHE_KEY_VERSION, "inputs": inputs}


def key_input_files(source_dir: Path, cache_info: Mapping[str, Any]) -> list[Path]:
    """The files a cache key was computed from (for the run stamp to watch)."""
    inputs = cache_info.get("inputs", {})
    files: list[Path] = []
    for name in inputs if isinstance(inputs, dict) else ():
        kind, _, value = str(name).partition(":")
        if kind == "content":
            files.append(source_dir / value)
        elif kind == "timestamp":  # the default key: absent ones too (creating one counts)
            files += [source_dir / name for name in DEFAULT_KEY_FILES]
        elif kind == "file":
            files += _file_entry(source_dir, value)
        elif kind == "git":
            files += _git_files(source_dir)
    return list(dict.fromkeys(files))


def _git_files(source_dir: Path) -> list[Path]:
    git_dir = find_git_dir(source_dir)
    if git_dir is None:
        return []
    common = _common_dir(git_dir)
    head = (_read_text(git_dir / "HEAD") or "").strip()
    files = [git_dir / "HEAD", common / "packed-refs"]
    if head.startswith("ref:"):
        files.append(common / head.split(":", 1)[1].strip())
    return files


def changed_inputs(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """The names of the inputs that differ between two cache keys (for `-v`)."""
    if old is not None and old.get("version") != new.get("version"):
        return ["cache key version"]
    before = (old or {}).get("inputs", {})
    after = new.get("inputs", {})
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ["cache key format"]
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def _tool_table(data: Mapping[str, Any]) -> Mapping[str, Any]:
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return {}
    for name in ("pyrun", "uv"):
        if isinstance(tool.get(name), dict):
            return tool[name]
    return {}


def _explicit_inputs(source_dir: Path, entries: list[Any]) -> dict[str, Any]:
    """`[tool.uv] cache-keys`: a bare string is a `file` entry; unknown shapes add nothing."""
    inputs: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, str):
            entry = {"file": entry}
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("file"), str):
            inputs[f"file:{entry['file']}"] = newest(_file_entry(source_dir, entry["file"]))
        elif isinstance(entry.get("dir"), str):
            inputs[f"dir:{entry['dir']}"] = dir_identity(source_dir / entry["dir"])
        elif isinstance(entry.get("env"), str):
            inputs[f"env:{entry['env']}"] = os.environ.get(entry["env"])
        elif "git" in entry:
            inputs.update(_git_inputs(source_dir, entry["git"]))
    return inputs


def _file_entry(source_dir: Path, pattern: str) -> list[Path]:
    if is_glob(pattern):
        return list(matching_files(source_dir, pattern))
    return [source_dir / pattern]


def inferred_inputs(source_dir: Path, pyproject: Mapping[str, Any]) -> dict[str, Any]:
    """Dynamic-metadata inputs pyrun adds to the default key, by content hash (SPEC §5.1)."""
    files: list[str] = []
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    files += _setuptools_files(source_dir, tool.get("setuptools"))
    files += _version_path(tool.get("hatch"))
    files += _version_path(tool.get("pdm"))
    files += _flit_module(source_dir, pyproject)
    inputs: dict[str, Any] = {
        f"content:{relative}": _content_hash(source_dir / relative) for relative in sorted(files)
    }
    if _uses_vcs_version(pyproject, tool):
        inputs.update(_git_inputs(source_dir, {"commit": True, "tags": True}))
    return inputs


def _setuptools_files(source_dir: Path, table: Any) -> list[str]:
    if not isinstance(table, dict) or not isinstance(table.get("dynamic"), dict):
        return []
    files: list[str] = []
    for value in _dynamic_values(table["dynamic"]):
        file_value = value.get("file")
        if isinstance(file_value, str):
            files.append(file_value)
        elif isinstance(file_value, list):
            files += [f for f in file_value if isinstance(f, str)]
        if isinstance(value.get("attr"), str):
            module = _attr_module(source_dir, value["attr"], table.get("package-dir"))
            files += [module] if module else []
    return files


def _dynamic_values(dynamic: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for value in dynamic.values():
        if isinstance(value, dict) and ("file" in value or "attr" in value):
            yield value
        elif isinstance(value, dict):
            # `optional-dependencies = { extra = { file = … } }`
            yield from (v for v in value.values() if isinstance(v, dict))


def _attr_module(source_dir: Path, attr: str, package_dir: Any) -> str | None:
    """The file defining `pkg.mod.attr`: `pkg/mod.py` or `pkg/mod/__init__.py`, found under
    `package-dir`, `src/` or the root."""
    module = attr.rsplit(".", 1)[0] if "." in attr else attr
    parts = module.split(".")
    bases = []
    if isinstance(package_dir, dict):
        top = package_dir.get(parts[0])
        if isinstance(top, str):
            bases.append((top, parts[1:]))
        if isinstance(package_dir.get(""), str):
            bases.append((package_dir[""], parts))
    bases += [("src", parts), ("", parts)]
    for base, rest in bases:
        stem = os.path.join(base, *rest) if rest else base
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
            if (source_dir / candidate).is_file():
                return os.path.normpath(candidate)
    return None


def _version_path(table: Any) -> list[str]:
    """`[tool.hatch.version] path` / `[tool.pdm.version] path`."""
    version = table.get("version") if isinstance(table, dict) else None
    path = version.get("path") if isinstance(version, dict) else None
    return [path] if isinstance(path, str) else []


def _flit_module(source_dir: Path, pyproject: Mapping[str, Any]) -> list[str]:
    """flit reads `__version__` and the docstring from the module named after the project."""
    project = pyproject.get("project")
    system = build_system(pyproject)
    if not system.backend.startswith("flit") or not isinstance(project, dict):
        return []
    module = str(project.get("name", "")).replace("-", "_")
    for base in ("", "src"):
        for candidate in (f"{module}.py", f"{module}/__init__.py"):
            if (source_dir / base / candidate).is_file():
                return [os.path.normpath(os.path.join(base, candidate))]
    return []


def _uses_vcs_version(pyproject: Mapping[str, Any], tool: Mapping[str, Any]) -> bool:
    requires = build_system(pyproject).requires
    names = {str(canonicalize_name(_requirement_name(r))) for r in requires}
    if names & _VCS_PLUGINS or "setuptools_scm" in tool or "setuptools-scm" in tool:
        return True
    for table in (tool.get("hatch"), tool.get("pdm")):
        version = table.get("version") if isinstance(table, dict) else None
        if isinstance(version, dict) and version.get("source") in ("vcs", "scm"):
            return True
    return False


def _requirement_name(requirement: str) -> str:
    for index, char in enumerate(requirement):
        if not (char.isalnum() or char in "-_."):
            return requirement[:index]
    return requirement


def _git_inputs(source_dir: Path, options: Any) -> dict[str, Any]:
    """HEAD's commit and the tags, read from `.git` files without running git."""
    if options is True:
        options = {"commit": True}
    if not isinstance(options, dict):
        return {}
    git_dir = find_git_dir(source_dir)
    inputs: dict[str, Any] = {}
    if options.get("commit"):
        inputs["git:commit"] = head_commit(git_dir) if git_dir else None
    if options.get("tags"):
        inputs["git:tags"] = tags_digest(git_dir) if git_dir else None
    return inputs


def find_git_dir(start: Path) -> Path | None:
    """The `.git` directory of the repository containing `start` (worktree files followed)."""
    current = start.resolve()
    for directory in (current, *current.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = _read_text(dot_git) or ""
            if text.startswith("gitdir:"):
                return (directory / text.split(":", 1)[1].strip()).resolve()
    return None


def head_commit(git_dir: Path) -> str | None:
    head = (_read_text(git_dir / "HEAD") or "").strip()
    if not head.startswith("ref:"):
        return head or None
    return resolve_ref(git_dir, head.split(":", 1)[1].strip())


def resolve_ref(git_dir: Path, ref: str) -> str | None:
    common = _common_dir(git_dir)
    for base in (git_dir, common):
        value = _read_text(base / ref)
        if value:
            return value.strip()
    return _packed_refs(common).get(ref)


def tags_digest(git_dir: Path) -> str:
    common = _common_dir(git_dir)
    tags = {k: v for k, v in _packed_refs(common).items() if k.startswith("refs/tags/")}
    tags_dir = common / "refs" / "tags"
    for path in glob.glob("**/*", root_dir=tags_dir, recursive=True):
        value = _read_text(tags_dir / path)
        if value is not None:
            tags[f"refs/tags/{path}"] = value.strip()
    text = "\n".join(f"{name} {commit}" for name, commit in sorted(tags.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _common_dir(git_dir: Path) -> Path:
    common = _read_text(git_dir / "commondir")
    return (git_dir / common.strip()).resolve() if common else git_dir


def _packed_refs(git_dir: Path) -> dict[str, str]:
    refs: dict[str, str] = {}
    for line in (_read_text(git_dir / "packed-refs") or "").splitlines():
        if line and not line.startswith(("#", "^")) and " " in line:
            commit, name = line.split(" ", 1)
            refs[name.strip()] = commit
    return refs


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _content_hash(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None
