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

Step 1 is `pyrun.commands.with_request`, the overlay of step 4 `pyrun.commands.with_overlay`;
the resolution and the with-env's sync are the shared resolve and install steps.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyrun.commands.session import Session
from pyrun.commands.with_overlay import make_overlay
from pyrun.commands.with_request import WithRequest, strip_file_url
from pyrun.core.interpreter import Interpreter
from pyrun.errors import PyrunError
from pyrun.local.childenv import RunEnv
from pyrun.local.venv import venv_python
from pyrun.options import Settled
from pyrun.stamp import sha256_hex

if TYPE_CHECKING:
    from pyrun.commands.resolve_step import LockRequest

_MEMO_PREFIX = "req-"


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
    from pyrun.commands.resolve_step import loose_request
    from pyrun.core.lock_compare import requirement_from_pep508

    tables = [_as_local(requirement_from_pep508(text)) for text in request.requirements]
    texts = [_resolver_text(text) for text in request.requirements]
    for name, directory in request.editables:
        tables.append(requirement_from_pep508(name)._replace(editable=directory))
        texts.append(name)
    for artifact in artifacts:
        text = _pylock_requirement(artifact)
        table = _as_local(requirement_from_pep508(text))
        if artifact.editable and table.directory:
            table = table._replace(directory=None, editable=table.directory)
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
    url = table.url
    if url and url.startswith("git+"):
        from pyrun.core.gitref import parse_direct

        return table._replace(url=None, git=parse_direct(url).requirement_url())
    if not url or not url.startswith("file:"):
        return table
    path = strip_file_url(url)
    if os.path.isdir(path):
        return table._replace(url=None, directory=path)
    return table._replace(url=None, path=path)


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
