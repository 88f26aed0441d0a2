"""`--with`, `--with-editable` and `--with-requirements`: a layer over the base env (SPEC §2.11).

The steps, and why they are shaped this way:

1. **Collect** the requirements from the options and files.
2. **Skip** the layer when the base environment already satisfies all of them (read from its
   `*.dist-info` with `importlib.metadata`, transitively): the command runs in the base env.
3. **Resolve** them for the base interpreter, preferring the base lock's versions (else what the
   base env has installed), into a *with-env* cached under
   `<cache>/environments-v2/<hash of the interpreter>/<hash of the resolution>`, a link to a
   directory in `archive-v0/`. A with-env is synced once, exactly, and never modified again, so
   every run and project with the same interpreter and resolution shares it.
4. **Overlay**: each run gets a throw-away venv in `builds-v0/.tmp*` whose `site-packages` holds
   only `_pyrun_ephemeral_overlay.pth`, adding the with-env's `site-packages` and then the base
   env's. The project's `.venv` and the cached with-env are never written to, so nothing leaks
   into other runs (uv wrote its `.pth` into the cached env, SPEC §5.8).

A warm run must not resolve: beside the resolution-keyed link there is a request-keyed one
(`req-<hash>`), whose key covers the requirements (and the files they came from), the options,
the settings, the interpreter and what the base env holds (its lock's bytes and its
`*.dist-info` names). When that link leads to a complete env, the run goes straight to step 4:
no resolver, no network, no trio or httpx.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyrun.commands.session import Session
from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.errors import PyrunError
from pyrun.local.cache import Cache
from pyrun.local.childenv import RunEnv
from pyrun.local.target import Target
from pyrun.local.venv import venv_python
from pyrun.options import RunOptions, Settled
from pyrun.stamp import sha256_hex

if TYPE_CHECKING:
    from pyrun.commands.resolve_step import LockRequest

OVERLAY_PTH = "_pyrun_ephemeral_overlay.pth"
_UNSUPPORTED_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_MEMO_PREFIX = "req-"
# What a console script's first lines may name: the interpreter of the env it was installed in.
_SHEBANG_LINES = 3


# ---------------------------------------------------------------------------------------------
# Collecting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WithRequest:
    """The `--with*` requirements of a run."""

    requirements: tuple[str, ...] = ()  # PEP 508, direct references as `name @ url`
    editables: tuple[tuple[str, str], ...] = ()  # (name, absolute directory)
    constraints: tuple[str, ...] = ()  # `-c` files of requirements files
    pylocks: tuple[tuple[str, str], ...] = ()  # (path as given, text) of `pylock.toml` files

    @property
    def empty(self) -> bool:
        return not (self.requirements or self.editables or self.pylocks)

    def identity(self) -> str:
        """Everything the request says, for the memo key."""
        lines = [f"req {r}" for r in self.requirements]
        lines += [f"editable {n} {p} {_tree_state(p)}" for n, p in self.editables]
        lines += [f"constraint {c}" for c in self.constraints]
        lines += [f"pylock {p} {sha256_hex(t.encode())}" for p, t in self.pylocks]
        return "\n".join(lines)


def collect_with(run: RunOptions, target: Target, console: Console, cwd: str) -> WithRequest | None:
    """SPEC §2.11 step 1; None when nothing is asked for."""
    found = _Collected(cwd=cwd, console=console)
    found.requirements += [text.strip() for text in run.with_ if text.strip()]
    found.editables += [_editable(path, cwd) for path in run.with_editable]
    pylocks: list[tuple[str, str]] = []
    for path in run.with_requirements:
        if not path.strip():
            continue
        _read_requirements_file(path, target, found)
        if _is_pylock(path):
            pylocks.append((path, _read_text(path, cwd)))
    request = WithRequest(
        requirements=tuple(_direct(r, cwd) for r in found.requirements),
        editables=tuple(found.editables),
        constraints=tuple(found.constraints),
        pylocks=tuple(pylocks),
    )
    return None if request.empty else request


@dataclass
class _Collected:
    """What the options and requirements files asked for so far; relative paths in a file are
    relative to the file, on the command line to `cwd`."""

    cwd: str
    console: Console
    requirements: list[str] = field(default_factory=list)
    editables: list[tuple[str, str]] = field(default_factory=list)  # (name, directory)
    constraints: list[str] = field(default_factory=list)


def _is_pylock(path: str) -> bool:
    name = os.path.basename(path)
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def _read_requirements_file(path: str, target: Target, found: _Collected) -> None:
    """Add one `--with-requirements` file's contents to `found` (pylock files excepted)."""
    name = os.path.basename(path)
    if name in _UNSUPPORTED_FILES:
        raise PyrunError(
            "Adding requirements from a `pyproject.toml` is not supported in `pyrun run`"
        )
    if path == "-" and target.kind == "stdin":
        raise PyrunError("Cannot read both requirements file and script from stdin")
    if _is_pylock(path):
        return
    text = sys.stdin.read() if path == "-" else _read_text(path, found.cwd)
    if path.lower().endswith(".py"):
        found.requirements.extend(_script_requirements(text, path))
        return
    _add_requirements_txt(text, path, found)


def _script_requirements(text: str, path: str) -> tuple[str, ...]:
    from pyrun.core.pep723 import parse_script_metadata

    metadata = parse_script_metadata(text, path=path)
    if metadata is None:
        raise PyrunError(f"`{path}` does not contain inline script metadata")
    return metadata.dependencies


def _add_requirements_txt(text: str, path: str, found: _Collected) -> None:
    from pyrun.core.requirements_txt import parse_requirements_txt

    cwd = found.cwd
    parsed = parse_requirements_txt(
        text, path=path, read=lambda p: _read_text(p, cwd), environ=os.environ
    )
    for warning in parsed.warnings:
        found.console.warn(warning)
    base = cwd if path == "-" else os.path.dirname(os.path.join(cwd, path))
    for entry in parsed.requirements:
        if entry.editable:
            found.editables.append(_editable(entry.location or entry.text, base))
        elif entry.requirement is not None:
            found.requirements.append(str(entry.requirement))
        else:
            found.requirements.append(_unnamed(entry.location or entry.text, entry.extras, base))
    found.constraints.extend(str(e.requirement) for e in parsed.constraints if e.requirement)


def _read_text(path: str, cwd: str) -> str:
    full = os.path.join(cwd, path)
    try:
        with open(full, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise PyrunError(f"File not found: `{path}`") from None
    except OSError as exc:
        raise PyrunError(f"Failed to read `{path}`", causes=(str(exc),)) from exc


def _editable(path: str, base: str) -> tuple[str, str]:
    """An editable request: the project's name and its absolute directory."""
    directory = os.path.normpath(os.path.join(base, _strip_file_url(path)))
    return _project_name(directory, path), directory


def _project_name(directory: str, shown: str) -> str:
    from pyrun.local.discover import load_project_file

    if not os.path.isfile(os.path.join(directory, "pyproject.toml")):
        raise PyrunError(f"`{shown}` is not a Python project (no `pyproject.toml` in it)")
    project = load_project_file(directory)
    if project.name is None:
        raise PyrunError(f"`{shown}` is not a Python project (no `[project]` name)")
    return project.name


def _unnamed(location: str, extras: Sequence[str], base: str) -> str:
    """`./pkg` or `https://…/x.whl` without a name: `name[extras] @ url`."""
    suffix = f"[{','.join(extras)}]" if extras else ""
    if location.startswith("git+"):
        return f"{_git_name(location)}{suffix} @ {location}"
    if "://" in location and not location.startswith("file:"):
        return f"{_archive_name(location.rsplit('/', 1)[-1])}{suffix} @ {location}"
    path = os.path.normpath(os.path.join(base, _strip_file_url(location)))
    name = _project_name(path, location) if os.path.isdir(path) else _archive_name(path)
    return f"{name}{suffix} @ {Path(path).as_uri()}"


def _git_name(location: str) -> str:
    """An unnamed git requirement's name, from its `#egg=` fragment."""
    from urllib.parse import parse_qsl

    egg = dict(parse_qsl(location.partition("#")[2])).get("egg")
    if not egg:
        raise PyrunError(
            f"Cannot tell the package name of `{location}`",
            hint="Name it: `NAME @ " + location + "`, or add `#egg=NAME`",
        )
    return egg


def _archive_name(filename: str) -> str:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    base = os.path.basename(filename.split("#", 1)[0].split("?", 1)[0])
    try:
        if base.endswith(".whl"):
            return str(parse_wheel_filename(base)[0])
        return str(parse_sdist_filename(base)[0])
    except ValueError as exc:
        raise PyrunError(f"Cannot tell the package name of `{filename}`") from exc


def _strip_file_url(text: str) -> str:
    if text.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(text).path)
    return text


def _direct(text: str, cwd: str) -> str:
    """Make a relative `name @ ./path` absolute: the with-env is shared across directories."""
    name, sep, url = text.partition(" @ ")
    if not sep or "://" in url:
        return text
    path = os.path.normpath(os.path.join(cwd, url.strip()))
    return f"{name} @ {Path(path).as_uri()}"


def _tree_state(directory: str) -> str:
    parts = []
    for name in ("pyproject.toml", "setup.py", "setup.cfg"):
        try:
            info = os.stat(os.path.join(directory, name))
        except OSError:
            continue
        parts.append(f"{name}:{info.st_mtime_ns}:{info.st_size}")
    return ",".join(parts)


# ---------------------------------------------------------------------------------------------
# Layering
# ---------------------------------------------------------------------------------------------


def layer_with(
    base: RunEnv, request: WithRequest, *, session: Session, base_lock: str | None
) -> RunEnv:
    """SPEC §2.11 steps 2-6: the base env itself when it suffices, else an overlay."""
    finder = session.finder
    interpreter = finder.probe(base.python)
    if interpreter is None:
        raise PyrunError(f"Failed to query the Python interpreter at `{base.python}`")
    sites = _site_dirs(interpreter)
    artifacts = _pylock_artifacts(request, interpreter)
    if not _reinstalling(session.settled) and satisfied(request, artifacts, sites, interpreter):
        session.console.debug("The base environment satisfies the `--with` requirements")
        return base
    with_prefix = with_environment(
        request,
        artifacts,
        interpreter=interpreter,
        sites=sites,
        session=session,
        base_lock=base_lock,
    )
    overlay = make_overlay(base, with_prefix, interpreter, sites, session.cache)
    bins = (os.path.join(overlay, "bin"), os.path.join(with_prefix, "bin"), *base.bin_dirs)
    return RunEnv(
        python=venv_python(overlay),
        venv=overlay,
        bin_dirs=bins,
        cleanup=(*base.cleanup, overlay),
    )


def _site_dirs(interpreter: Interpreter) -> tuple[str, ...]:
    """The base env's `site-packages` (purelib, then platlib when it differs)."""
    found: list[str] = []
    for key in ("purelib", "platlib"):
        relative = interpreter.scheme.get(key)
        if relative:
            path = os.path.join(interpreter.prefix, relative)
            if path not in found:
                found.append(path)
    return tuple(found)


def _reinstalling(settled: Settled) -> bool:
    """`--reinstall`/`--reinstall-package` on the command line (not a settings file's): the
    layer is rebuilt even when nothing changed."""
    return settled.cli.set("reinstall") or settled.cli.set("reinstall_package")


def _pylock_artifacts(request: WithRequest, interpreter: Interpreter) -> tuple[Any, ...]:
    """The `pylock.toml` packages whose markers match the interpreter (SPEC §5.9)."""
    if not request.pylocks:
        return ()
    from pyrun.core.pylock import read_pylock

    tags = [str(tag) for tag in interpreter.tags()]
    found: list[Any] = []
    for path, text in request.pylocks:
        found += read_pylock(text, path=path, environment=interpreter.markers, tags=tags)
    return tuple(found)


# -- step 2: is the base env enough? -----------------------------------------------------------


def satisfied(
    request: WithRequest,
    artifacts: Sequence[Any],
    sites: Sequence[str],
    interpreter: Interpreter,
) -> bool:
    """Whether the base env already has every requirement, transitively (SPEC §2.11 step 2)."""
    from packaging.requirements import InvalidRequirement, Requirement

    check = _Checker(paths=_dist_info_paths(sites), markers=dict(interpreter.markers))
    try:
        for text in request.requirements:
            if not check.requirement(Requirement(text)):
                return False
    except InvalidRequirement as exc:
        raise PyrunError(f"Failed to parse `--with` requirement `{exc}`") from exc
    for name, directory in request.editables:
        if not check.editable(name, directory):
            return False
    return all(check.pinned(a.name, a.version) for a in artifacts)


def _dist_info_paths(sites: Sequence[str]) -> dict[str, str]:
    """The base env's `*.dist-info` directories by canonical name (first site wins), from the
    directory names alone: metadata is read only for what the check reaches."""
    found: dict[str, str] = {}
    for site in sites:
        for entry in _dist_infos(site):
            name = entry.removesuffix(".dist-info").partition("-")[0]
            found.setdefault(_normal(name), os.path.join(site, entry))
    return found


@dataclass
class _Checker:
    paths: Mapping[str, str]
    markers: dict[str, str]
    _dists: dict[str, Any] = field(default_factory=dict)

    def dist(self, name: str) -> Any:
        """The installed distribution called `name` (canonical), or None."""
        if name not in self._dists and name in self.paths:
            import importlib.metadata

            self._dists[name] = importlib.metadata.PathDistribution(Path(self.paths[name]))
        return self._dists.get(name)

    def requirement(self, requirement: Any, seen: frozenset[str] = frozenset()) -> bool:
        from packaging.utils import canonicalize_name

        if requirement.marker is not None and not self._marker(requirement.marker, ""):
            return True
        name = str(canonicalize_name(requirement.name))
        dist = self.dist(name)
        if dist is None:
            return False
        if requirement.url and _direct_url(dist) != requirement.url:
            return False
        if not requirement.specifier.contains(dist.version, prereleases=True):
            return False
        return self._dependencies(dist, name, tuple(requirement.extras), seen)

    def editable(self, name: str, directory: str) -> bool:
        from packaging.utils import canonicalize_name

        key = str(canonicalize_name(name))
        dist = self.dist(key)
        if dist is None or not _is_editable_at(dist, directory):
            return False
        return self._dependencies(dist, key, (), frozenset())

    def pinned(self, name: str, version: str | None) -> bool:
        dist = self.dist(name)
        return dist is not None and (version is None or dist.version == version)

    def _dependencies(
        self, dist: Any, name: str, extras: tuple[str, ...], seen: frozenset[str]
    ) -> bool:
        from packaging.requirements import InvalidRequirement, Requirement

        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            return True
        seen = seen | {key}
        for text in dist.requires or ():
            try:
                child = Requirement(text)
            except InvalidRequirement:
                return False
            if child.marker is not None and not any(
                self._marker(child.marker, extra) for extra in ("", *extras)
            ):
                continue
            child.marker = None
            if not self.requirement(child, seen):
                return False
        return True

    def _marker(self, marker: Any, extra: str) -> bool:
        return bool(marker.evaluate({**self.markers, "extra": extra}))


def _direct_url(dist: Any) -> str | None:
    import json

    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        return str(json.loads(text).get("url"))
    except (ValueError, AttributeError):
        return None


def _is_editable_at(dist: Any, directory: str) -> bool:
    import json

    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    editable = bool((data.get("dir_info") or {}).get("editable"))
    return editable and data.get("url") == Path(directory).as_uri()


# -- steps 3 and 4: the cached with-env --------------------------------------------------------


def with_environment(
    request: WithRequest,
    artifacts: Sequence[Any],
    *,
    interpreter: Interpreter,
    sites: Sequence[str],
    session: Session,
    base_lock: str | None,
) -> str:
    """The with-env's prefix: the memoised one, else resolve and reuse or create."""
    from pyrun.stamp import short_hash

    settled = session.settled
    memo = _with_root(session, interpreter) / (
        _MEMO_PREFIX + short_hash(_memo_key(request, settled, sites, base_lock))
    )
    # Upgrades and refreshes ask for a fresh resolution, not for the remembered one.
    resolver = settled.resolver
    asked = (resolver.upgrade, resolver.upgrade_package, resolver.refresh)
    forced = _reinstalling(settled) or any((*asked, resolver.refresh_package))
    found = _live_env(memo)
    if found is not None and not forced:
        session.console.debug(f"Using the cached `--with` environment at `{found}`")
        return found
    preferred = _preferences(base_lock, sites)
    prefix = _resolve_and_build(request, artifacts, interpreter, session, preferred)
    _link(memo, prefix)
    return prefix


def _with_root(session: Session, interpreter: Interpreter) -> Path:
    """Where the with-envs of this interpreter are linked from."""
    from pyrun.stamp import short_hash

    return session.cache.environments / short_hash(_canonical_interpreter(interpreter))


def _canonical_interpreter(interpreter: Interpreter) -> str:
    return os.path.realpath(interpreter.base_executable or interpreter.executable)


def _memo_key(
    request: WithRequest, settings: Settled, sites: Sequence[str], base_lock: str | None
) -> str:
    from pyrun import stamp

    options = {k: v for k, v in settings.cli.values.items() if _shapes_with_env(k)}
    parts = [
        request.identity(),
        stamp.settings_key(options, os.environ),
        repr(settings.layers),
        f"lock {_digest_of(base_lock)}",
    ]
    # Without a lock, the installed versions are the preferences: any change re-resolves.
    parts += [f"site {site} {sorted(_dist_infos(site))}" for site in sites]
    return "\n".join(parts)


def _shapes_with_env(dest: str) -> bool:
    from pyrun.stamp import SCRIPT_NEUTRAL_OPTIONS

    return dest not in SCRIPT_NEUTRAL_OPTIONS and dest not in ("locked", "frozen", "exact")


def _digest_of(path: str | None) -> str:
    if path is None:
        return "none"
    try:
        with open(path, "rb") as handle:
            return sha256_hex(handle.read())
    except OSError:
        return "absent"


def _dist_infos(site: str) -> list[str]:
    try:
        return [e for e in os.listdir(site) if e.endswith(".dist-info")]
    except OSError:
        return []


def _live_env(link: Path) -> str | None:
    """The env a link points at, if it is complete (its interpreter is there)."""
    try:
        target = os.path.realpath(link)
    except OSError:
        return None
    if os.path.islink(link) and os.path.exists(venv_python(target)):
        return target
    return None


def _link(link: Path, target: str) -> None:
    """Point `link` at `target` atomically (a concurrent run sees the old link or the new)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(target, link.parent)
    tmp = link.parent / f".tmp-{os.getpid()}-{link.name}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(relative, tmp)
    os.replace(tmp, link)


def _resolve_and_build(
    request: WithRequest,
    artifacts: Sequence[Any],
    interpreter: Interpreter,
    session: Session,
    preferred: Mapping[str, tuple[str, ...]],
) -> str:
    import time

    from pyrun.commands.install_step import Output, shows_resolution
    from pyrun.commands.resolve_step import Preferred, resolve
    from pyrun.stamp import short_hash

    started = time.monotonic()
    lock_request = _lock_request(request, artifacts, interpreter, session.settled)
    lock = resolve(session, lock_request, Preferred.versions_of(preferred), interpreter=interpreter)
    _check_pylock_hashes(lock, artifacts)
    out = Output(session.console, shows_resolution(session.settled))
    out.resolved(len(lock.packages), time.monotonic() - started)
    link = _with_root(session, interpreter) / short_hash(_resolution_text(lock))
    found = _live_env(link)
    if found is not None and not _reinstalling(session.settled):
        return found
    prefix = _create_with_env(lock, interpreter, session)
    _link(link, prefix)
    return prefix


def _lock_request(
    request: WithRequest, artifacts: Sequence[Any], interpreter: Interpreter, settings: Settled
) -> LockRequest:
    """The requirements for a resolution for this one interpreter (not a universal one)."""
    from dataclasses import replace as _replace

    from pyrun.commands.resolve_step import loose_request
    from pyrun.core.lock_compare import requirement_from_pep508

    tables = [_as_local(requirement_from_pep508(text)) for text in request.requirements]
    texts = [_resolver_text(text) for text in request.requirements]
    for name, directory in request.editables:
        tables.append(_replace(requirement_from_pep508(name), editable=directory))
        texts.append(name)
    for artifact in artifacts:
        text = _pylock_requirement(artifact)
        table = _as_local(requirement_from_pep508(text))
        if artifact.editable and table.directory:
            table = _replace(table, directory=None, editable=table.directory)
        tables.append(table)
        texts.append(_resolver_text(text))
    return loose_request(
        settings,
        root=os.getcwd(),
        requires_python=f"=={interpreter.python_full_version}",
        tables=tables,
        texts=texts,
        environments=(_environment_marker(interpreter),),
        constraints=request.constraints,
        subject="`--with`",
    )


def _pylock_requirement(artifact: Any) -> str:
    """A `pylock.toml` package as a direct reference to the very artifact the lock names, so
    what is installed is that file (its hash checked by `_check_pylock_hashes`)."""
    name = artifact.name
    if artifact.url and artifact.kind != "vcs":
        return f"{name} @ {artifact.url}"
    if artifact.resolved_path:
        return f"{name} @ {Path(os.path.abspath(artifact.resolved_path)).as_uri()}"
    if artifact.kind == "vcs" and artifact.url:
        revision = artifact.commit_id or artifact.requested_revision
        return f"{name} @ git+{artifact.url}" + (f"@{revision}" if revision else "")
    return f"{name}=={artifact.version}" if artifact.version else name


def _check_pylock_hashes(lock: Any, artifacts: Sequence[Any]) -> None:
    """SPEC §5.9: what the resolver fetched must be what `pylock.toml` pinned."""
    from pyrun.errors import FailureError

    for artifact in artifacts:
        expected = artifact.hashes.get("sha256")
        if not expected:
            continue
        for package in lock.find(artifact.name):
            found = [w.hash for w in package.wheels if w.hash]
            if package.sdist is not None and package.sdist.hash:
                found.append(package.sdist.hash)
            if found and f"sha256:{expected}" not in found:
                raise FailureError(
                    f"Hash mismatch for `{artifact.name}` from `pylock.toml`",
                    causes=(f"Expected: sha256:{expected}", f"Computed: {found[0]}"),
                )


def _as_local(table: Any) -> Any:
    """`name @ file:///dir` is a local directory (or archive) for the resolver, not a URL;
    `name @ git+…` a git source."""
    from dataclasses import replace as _replace

    url = table.url
    if url and url.startswith("git+"):
        from pyrun.core.gitref import parse_direct

        return _replace(table, url=None, git=parse_direct(url).requirement_url())
    if not url or not url.startswith("file:"):
        return table
    path = _strip_file_url(url)
    if os.path.isdir(path):
        return _replace(table, url=None, directory=path)
    return _replace(table, url=None, path=path)


def _resolver_text(text: str) -> str:
    """The resolver learns a direct reference's version from its metadata: name and extras."""
    from packaging.requirements import Requirement

    parsed = Requirement(text)
    if not parsed.url:
        return text
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    marker = f" ; {parsed.marker}" if parsed.marker else ""
    return f"{parsed.name}{extras}{marker}"


def _environment_marker(interpreter: Interpreter) -> str:
    markers = interpreter.markers
    keys = ("sys_platform", "platform_machine", "implementation_name")
    return " and ".join(f"{key} == '{markers[key]}'" for key in keys if key in markers)


def _preferences(base_lock: str | None, sites: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The base lock's versions, else the base env's installed ones (SPEC §2.11 step 3)."""
    from pyrun.commands.resolve_step import preferences_of

    if base_lock is not None and os.path.exists(base_lock):
        from pyrun.commands.lock_project import read_lock

        with contextlib.suppress(PyrunError):
            lock = read_lock(base_lock)
            if lock is not None:
                return preferences_of(lock)
    found: dict[str, tuple[str, ...]] = {}
    for site in sites:
        for entry in _dist_infos(site):
            name, _, version = entry.removesuffix(".dist-info").partition("-")
            found.setdefault(_normal(name), (version,))
    return found


def _normal(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _resolution_text(lock: Any) -> str:
    """The resolved distributions, one per line: what makes two with-envs the same."""
    lines = [f"{p.name}=={p.version} {p.source.kind}:{p.source.value}" for p in lock.packages]
    return "\n".join(sorted(lines))


def _create_with_env(lock: Any, interpreter: Interpreter, session: Session) -> str:
    """A new with-env in `archive-v0/<id>`, synced exactly to `lock`; linked only once done, so
    an interrupted creation leaves an unreferenced entry that `cache prune` removes."""
    import secrets

    from pyrun.commands.install_step import (
        InstallMode,
        Output,
        env_at,
        install,
        select_requirements,
        shows_resolution,
    )
    from pyrun.local.venv import base_interpreter, create_venv

    prefix = str(session.cache.archives / secrets.token_hex(10))
    create_venv(prefix, base_interpreter(interpreter), prompt="with")
    created = session.finder.probe(venv_python(prefix))
    if created is None:
        raise PyrunError(f"The `--with` environment at `{prefix}` does not work")
    selection = select_requirements(lock, root=os.getcwd(), interpreter=created)
    out = Output(session.console, shows_resolution(session.settled))
    install(session, selection, env_at(prefix, created), InstallMode(exact=True), out)
    return prefix


# -- step 5: the per-run overlay ---------------------------------------------------------------


def make_overlay(
    base: RunEnv, with_prefix: str, interpreter: Interpreter, sites: Sequence[str], cache: Cache
) -> str:
    """A throw-away venv that sees the with-env first, then the base env (SPEC §2.11 step 5)."""
    from pyrun.local.venv import base_interpreter, create_venv, read_pyvenv_cfg, site_packages

    base_prefix = base.venv or interpreter.prefix
    config = (read_pyvenv_cfg(base.venv) if base.venv else None) or {}
    include = config.get("include-system-site-packages", "false")
    overlay = tempfile.mkdtemp(prefix=".tmp", dir=cache.builds)
    try:
        new_base = base_interpreter(interpreter)
        extra = {"extends-environment": base_prefix, "include-system-site-packages": include}
        create_venv(overlay, new_base, prompt="overlay", extra_cfg=extra)
        with_site = site_packages(with_prefix, new_base)
        _write_pth(Path(site_packages(overlay, new_base)), [with_site, *sites])
        envs = [with_prefix, *([base.venv] if base.venv else [])]
        copy_console_scripts(overlay, envs)
        _link_jupyter(overlay, envs)
    except BaseException:
        shutil.rmtree(overlay, ignore_errors=True)
        raise
    return overlay


def overlay_pth_text(site_dirs: Iterable[str]) -> str:
    """One line: import `site` and add each directory, written as bytes so any path survives."""
    calls = "; ".join(f"site.addsitedir(os.fsdecode({_bytes_literal(d)}))" for d in site_dirs)
    return f"import os, site; {calls}\n"


def _bytes_literal(path: str) -> str:
    out = []
    for byte in os.fsencode(path):
        char = chr(byte)
        if char in '"\\' or not 0x20 <= byte < 0x7F:
            out.append(f"\\x{byte:02x}")
        else:
            out.append(char)
    return 'b"' + "".join(out) + '"'


def _write_pth(site: Path, site_dirs: Sequence[str]) -> None:
    (site / OVERLAY_PTH).write_text(overlay_pth_text(site_dirs), encoding="utf-8")


def copy_console_scripts(overlay: str, envs: Sequence[str]) -> None:
    """Console scripts of the with-env, then of the base env, re-pointed at the overlay's
    interpreter, so a tool sees the `--with` packages and the project's (first copy wins)."""
    bindir = os.path.join(overlay, "bin")
    new_python = venv_python(overlay)
    for env in envs:
        old_python = venv_python(env)
        source_dir = os.path.join(env, "bin")
        for name in _listdir(source_dir):
            target = os.path.join(bindir, name)
            if _skipped_script(name) or os.path.lexists(target):
                continue
            _copy_script(os.path.join(source_dir, name), target, old_python, new_python)


def _skipped_script(name: str) -> bool:
    return name.startswith(("python", "activate", "deactivate", "pydoc")) or name == "pyvenv.cfg"


def _copy_script(source: str, target: str, old_python: str, new_python: str) -> None:
    try:
        if not os.path.isfile(source) or os.path.islink(source):
            return
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError:
        return
    if not data.startswith(b"#!"):
        return
    head, sep, rest = _split_lines(data, _SHEBANG_LINES)
    old, new = os.fsencode(old_python), os.fsencode(new_python)
    if old not in head:
        return
    with open(target, "wb") as handle:
        handle.write(head.replace(old, new) + sep + rest)
    mode = os.stat(source).st_mode
    os.chmod(target, stat.S_IMODE(mode))


def _split_lines(data: bytes, count: int) -> tuple[bytes, bytes, bytes]:
    """The first `count` lines, and the rest (the separator kept apart)."""
    index = -1
    for _ in range(count):
        index = data.find(b"\n", index + 1)
        if index < 0:
            return data, b"", b""
    return data[:index], b"\n", data[index + 1 :]


def _link_jupyter(overlay: str, envs: Sequence[str]) -> None:
    """Jupyter looks under `sys.prefix`: link what both envs provide there (first wins)."""
    for relative in (os.path.join("etc", "jupyter"), os.path.join("share", "jupyter")):
        for env in envs:
            source = os.path.join(env, relative)
            if not os.path.isdir(source):
                continue
            destination = os.path.join(overlay, relative)
            os.makedirs(destination, exist_ok=True)
            for name in _listdir(source):
                link = os.path.join(destination, name)
                if not os.path.lexists(link):
                    os.symlink(os.path.join(source, name), link)


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


__all__ = [
    "OVERLAY_PTH",
    "WithRequest",
    "collect_with",
    "copy_console_scripts",
    "layer_with",
    "make_overlay",
    "overlay_pth_text",
    "satisfied",
]
