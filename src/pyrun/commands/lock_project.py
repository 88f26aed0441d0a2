"""The lock step of a project run and of `pyrun lock` (SPEC §2.8, §4.1).

`ensure_lock` decides, before any network work, whether the existing `<root>/uv.lock`
satisfies the workspace (`pyrun.core.freshness`). A satisfied lock is returned as read: no
resolver, no trio or httpx import, no write. Otherwise the workspace is resolved (locked
versions preferred unless upgrading), and the new lock is written atomically only when it
differs from the old one semantically, so a lock uv wrote and pyrun agrees with keeps its bytes
and its mtime.

Modes: Write (default), Locked (`--locked`: any change is an error), Frozen (`--frozen`: use
the lock as it is), Dry run (`--isolated`, `pyrun lock --dry-run`: never write).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

from pyrun.commands.lock_check_memo import CheckMemo
from pyrun.commands.lock_memo import DeclarationMemo, LockMemo
from pyrun.commands.session import Session
from pyrun.console import Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.core.lockfile import (
    DependencyMetadata,
    ExcludeNewerPackage,
    Lock,
    LockOptions,
    canonical,
    dumps,
    loads,
)
from pyrun.core.patterns import lazy
from pyrun.core.records import Record
from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import Cache
from pyrun.local.discover import Workspace
from pyrun.options import PRERELEASES, Settled

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any, Literal

    from pyrun.commands.index_settings import IndexSettings
    from pyrun.commands.resolve_step import LockRequest
    from pyrun.core.freshness import RunOptions, Stale
    from pyrun.core.lock_build import BuiltMetadata, DeclaredMember, WorkspaceFacts
    from pyrun.net.client_options import ClientOptions
    from pyrun.net.early_pages import EarlyPlan
    from pyrun.net.index_config import IndexPlan
    from pyrun.net.metadata_build import BuildSetup

if TYPE_CHECKING:
    Mode = Literal["write", "locked", "frozen", "dry-run"]
LOCK_NAME = "uv.lock"


class LockResult(Record):
    """What the lock step did: the lock in force, the one before, and whether it resolved."""

    lock: Lock
    previous: Lock | None
    resolved: bool
    written: bool


class LockInputs(Record):
    facts: WorkspaceFacts
    run: RunOptions
    indexes: IndexSettings
    root_groups: Mapping[str, tuple[str, ...]]


# -- entry points ------------------------------------------------------------------------------


def ensure_lock(
    workspace: Workspace,
    interpreter: Interpreter,
    session: Session,
    *,
    mode: Mode | None = None,
) -> Lock:
    """The workspace's lock for a run or sync, per the mode (default: from the options)."""
    chosen = mode or run_mode(session.settled)
    return lock_workspace(workspace, interpreter, session, chosen).lock


def run_mode(settled: Settled) -> Mode:
    flags = settled.lock
    if flags.frozen:
        return "frozen"
    if flags.locked:
        return "locked"
    # `--isolated` and `sync --dry-run`/`--check` must not leave a written lock behind.
    if settled.run.isolated or flags.dry_run or flags.check:
        return "dry-run"
    return "write"


def lock_workspace(
    workspace: Workspace,
    interpreter: Interpreter,
    session: Session,
    mode: Mode,
    *,
    flag: str | None = None,
    pages_started: bool = False,
) -> LockResult:
    """The lock step itself; `flag` names the option that chose the mode in messages.
    `pages_started`: the caller already started reading the pages of a lock from scratch
    (`pages_read_meanwhile`)."""
    cli = session.settled.cli
    path = os.path.join(workspace.root, LOCK_NAME)
    text = read_lock_text(path)
    kept = LockMemo.load(None if session.cache.temporary else session.cache.directory, path)
    previous = None
    if text is not None:
        previous = kept.read(text, functools.partial(loads, text, filename=display_path(path)))
    if mode == "frozen":
        return _frozen(previous, workspace, flag or cli.flag_name("frozen"))
    if previous is None and mode == "locked":
        raise missing_lock(flag or cli.flag_name("locked"))
    memo = None
    if text is not None and previous is not None:
        digest = kept.digest(text)
        memo = CheckMemo.of(session.cache, text, digest, workspace, interpreter, session.settled)
        if memo.holds():
            return _satisfied(previous, session.console, kept, text)
    if previous is None and not pages_started:
        _start_reading_pages(workspace, session)
    inputs = lock_inputs(workspace, interpreter, session.settled, session.console, session=session)
    if previous is not None:
        from pyrun.core.freshness import Satisfied, check_lock, preferred_lock

        warned = session.console.warned
        verdict = check_lock(previous, inputs.facts, inputs.run)
        if isinstance(verdict, Satisfied):
            if memo is not None and not warned and not session.console.warned:
                memo.record()
            return _satisfied(previous, session.console, kept, text)
        _report(verdict, session.console)
        # The relock's first pages are read (the connection opened, the TLS handshake made)
        # while the resolver's modules load and the members are pinned.
        _start_reading_pages(workspace, session)
        preferred = preferred_lock(previous, verdict)
        keep_forks = verdict.keep_forks
    else:
        preferred, keep_forks = None, True
    from pyrun.commands.resolve_step import Preferred, resolve

    lock = resolve(
        session,
        project_request(workspace, inputs, session.settled),
        Preferred.relock(preferred, keep_forks=keep_forks),
        interpreter=interpreter,
        prefetch_for=interpreter if _syncs_next(session.settled, mode) else None,
        prefetch_keep=functools.partial(_synced_next, workspace, interpreter, session),
    )
    changed = previous is None or canonical(lock) != canonical(previous)
    if changed and mode == "locked":
        raise LockOutdatedError(len(lock.packages), flag or cli.flag_name("locked"))
    if not changed:
        _keep(kept, text, previous or lock)
        return LockResult(lock=previous or lock, previous=previous, resolved=True, written=False)
    if mode == "dry-run":
        return LockResult(lock=lock, previous=previous, resolved=True, written=False)
    _keep(kept, write_lock(path, lock), lock)
    return LockResult(lock=lock, previous=previous, resolved=True, written=True)


def _keep(kept: LockMemo, text: str | None, lock: Lock) -> None:
    """The lock at the path is `text` now: the next run that reads it starts from `lock`."""
    if text is not None:
        kept.keep(text, lock)
        kept.save()


def _start_reading_pages(workspace: Workspace, session: Session) -> None:
    """A lock from scratch, or a relock, reads the pages of its direct requirements in the
    background while the rest of it gets ready; its resolution finds them read
    (`pyrun.net.index`)."""
    if not session.settled.globals.offline:
        # Loaded on a thread while the warm-up imports the network stack, not by its client.
        from pyrun.net import trust

        trust.preload(session.settled.globals.system_certs, session.cache.directory)
    names = _direct_index_names(workspace)
    if _send_first_requests(workspace, session, names):
        # They are in flight already: the trio run (and its ~100 ms of imports) is left to
        # a lock that needs it (`pyrun.commands.resolve_step`).
        return
    job = pages_warm_up(workspace, session.settled, session.cache, names=names)
    if job is not None:
        from pyrun.net import interrupt

        interrupt.start(job)


@contextlib.contextmanager
def pages_read_meanwhile(workspace: Workspace, session: Session, mode: Mode) -> Iterator[bool]:
    """A lock from scratch imports the network layer and starts reading its first pages on a
    thread while the block runs; yields whether it did (`lock_workspace`'s `pages_started`).

    For the interpreter the lock is made for: with an empty cache, finding it runs a probe
    process (~30 ms, more on a busy machine) during which this process has nothing to do, while
    the imports it needs next (trio, httpx: ~100 ms of CPU) have to wait. The block's end waits
    for the thread, which raises what the reading's start raised."""
    path = os.path.join(workspace.root, LOCK_NAME)
    if mode not in ("write", "dry-run") or read_lock_text(path) is not None:
        yield False
        return
    from pyrun.local import sigint

    failed: list[BaseException] = []

    def start() -> None:
        try:
            _start_reading_pages(workspace, session)
        except BaseException as exc:  # raised in the main thread, where it would have been
            failed.append(exc)

    thread = threading.Thread(target=start, name="pyrun-first-pages", daemon=True)
    with sigint.kept_for_main():
        thread.start()
    try:
        yield True
    finally:
        thread.join()
    if failed:
        raise failed[0]


def _satisfied(lock: Lock, console: Console, kept: LockMemo, text: str | None) -> LockResult:
    console.debug(f"Existing `{LOCK_NAME}` satisfies workspace requirements")
    _keep(kept, text, lock)
    return LockResult(lock=lock, previous=lock, resolved=False, written=False)


def _report(verdict: Stale, console: Console) -> None:
    if verdict.notice:
        console.info(verdict.reason)
    else:
        console.debug(verdict.reason)


class LockOutdatedError(FailureError):
    """`--locked` with a lock the resolution changes. `resolved` is the new lock's package
    count: `sync` and `export` report it (`Resolved N packages …`) before the error, as uv."""

    def __init__(self, resolved: int, flag: str) -> None:
        super().__init__(
            f"The lockfile at `{LOCK_NAME}` needs to be updated, but `{flag}` was provided.",
            hint="To update the lockfile, run `pyrun lock`.",
        )
        self.resolved = resolved


def missing_lock(flag: str) -> FailureError:
    """`--frozen`/`--locked` without a `uv.lock`, in uv's words (naming our own commands)."""
    return FailureError(
        f"Unable to find lockfile at `{LOCK_NAME}`, but `{flag}` was provided. To create a "
        "lockfile, run `pyrun lock` or `pyrun sync` without the flag."
    )


def _frozen(previous: Lock | None, workspace: Workspace, flag: str) -> LockResult:
    if previous is None:
        raise missing_lock(flag)
    present = {p.name for p in previous.packages if p.source.is_local_tree}
    for name in workspace.members:
        if name not in present:
            raise FailureError(
                f"The lockfile at `{LOCK_NAME}` needs to be updated, but `{flag}` was provided: "
                f"Missing workspace member `{name}`."
            )
    return LockResult(lock=previous, previous=previous, resolved=False, written=False)


# -- reading and writing -----------------------------------------------------------------------


def read_lock(path: str) -> Lock | None:
    """The lock at `path`, or None when there is none; a malformed lock is an error."""
    text = read_lock_text(path)
    return None if text is None else loads(text, filename=display_path(path))


def read_lock_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PyrunError(f"Failed to read `{display_path(path)}`", causes=(str(exc),)) from exc


def write_lock(path: str, lock: Lock) -> str:
    """Replace the lock atomically: readers see the old file or the new one, never a mix.
    Returns the text written."""
    text = dumps(lock)
    data = text.encode("utf-8")
    directory = os.path.dirname(path) or "."
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".tmp", suffix=".lock", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return text


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


# -- inputs ------------------------------------------------------------------------------------


def lock_inputs(
    workspace: Workspace,
    interpreter: Interpreter,
    settings: Settled,
    console: Console,
    *,
    session: Session | None = None,
) -> LockInputs:
    """What the lock check and the resolution read. Members with dynamic requirements are
    declared from their built metadata, which needs the session's cache (built once per
    cache key)."""
    from pyrun.commands.index_settings import index_settings, registry_key
    from pyrun.core.conflicts import workspace_conflicts
    from pyrun.core.freshness import RunOptions
    from pyrun.core.lock_build import (
        WorkspaceFacts,
        declare_workspace,
        declared_default_groups,
        requirement_tables,
        virtual_root_locals,
    )

    indexes = index_settings(settings)
    requires_python = _requires_python(workspace, interpreter, console)
    no_sources = settings.resolver.no_sources
    built = {} if session is None else dynamic_metadata(workspace, interpreter, session, indexes)
    memo = None
    if session is not None and not session.cache.temporary:
        memo = DeclarationMemo.load(session.cache.directory, workspace.root)
    members, group_tables, group_texts = declare_workspace(
        root=workspace.root,
        root_file=workspace.root_file,
        members=workspace.members,
        requires_python=requires_python,
        index_url_of=lambda name: registry_key(indexes.url_of(name)),
        no_sources=no_sources,
        built=built,
        standalone=workspace.standalone,
        memo=memo,
    )
    if memo is not None:
        memo.save()
    facts = WorkspaceFacts(
        requires_python=requires_python,
        members=members,
        root_is_project=workspace.root_file.has_project,
        root_default_groups=declared_default_groups(workspace.root_file),
        constraints=requirement_tables(workspace_list(workspace, "constraint-dependencies")),
        overrides=requirement_tables(workspace_list(workspace, "override-dependencies")),
        excludes=tuple(_normal_names(list(workspace_list(workspace, "exclude-dependencies")))),
        build_constraints=requirement_tables(
            workspace_list(workspace, "build-constraint-dependencies")
        ),
        dependency_groups=group_tables,
        root_groups=group_texts,
        root_locals=virtual_root_locals(
            root=workspace.root,
            root_file=workspace.root_file,
            members=workspace.members,
            index_url_of=lambda name: registry_key(indexes.url_of(name)),
            no_sources=no_sources,
        ),
        dependency_metadata=_dependency_metadata(settings),
        options=lock_options(settings),
        environments=_markers("environments", workspace_list(workspace, "environments")),
        required_environments=_markers(
            "required-environments", workspace_list(workspace, "required-environments")
        ),
        conflicts=workspace_conflicts(workspace.root_file, workspace.members, display_path),
    )
    run = RunOptions(
        options=facts.options,
        local_trees=_path_trees(workspace, facts, built),
        upgrade=settings.resolver.upgrade,
        upgrade_packages=_upgrade_packages(settings, facts, group_texts),
        refresh=settings.resolver.refresh or bool(settings.resolver.refresh_package),
        allowed_registries=indexes.allowed_registries() if indexes.configured else None,
    )
    return LockInputs(facts=facts, run=run, indexes=indexes, root_groups=group_texts)


def _path_trees(
    workspace: Workspace, facts: WorkspaceFacts, built: Mapping[str, BuiltMetadata]
) -> dict[str, DeclaredMember]:
    """Each path dependency as the lock must record it (version, metadata), by name."""
    from pyrun.local.path_deps import declared_path_trees

    start = [d for m in facts.members for d in m.locals] + list(facts.root_locals)
    return dict(declared_path_trees(workspace.root, start, frozenset(workspace.members), built))


def _upgrade_packages(
    settings: Settled, facts: WorkspaceFacts, root_groups: Mapping[str, tuple[str, ...]]
) -> frozenset[str]:
    """`-P` names plus, for each `--upgrade-group G`, the packages G requires directly in any
    member (or the virtual root), as uv counts them; an undefined group is an error."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names = set(_normal_names(list(settings.resolver.upgrade_package)))
    for group in _normal_names(list(settings.resolver.upgrade_group)):
        texts = [t for m in facts.members for t in m.dependency_groups.get(group, ())]
        texts += root_groups.get(group, ())
        defined = group in root_groups or any(group in m.dependency_groups for m in facts.members)
        if not defined:
            raise PyrunError(
                f"Group `{group}` is not defined in the project's `dependency-groups` table",
                code=2,
            )
        for text in texts:
            with contextlib.suppress(InvalidRequirement):
                names.add(str(canonicalize_name(Requirement(text).name)))
    return frozenset(names)


# -- dynamic requirements (SPEC §2.8, §2.9) ---------------------------------------------------


def dynamic_metadata(
    workspace: Workspace,
    interpreter: Interpreter,
    session: Session,
    indexes: IndexSettings,
) -> dict[str, BuiltMetadata]:
    """The built metadata of each member or path dependency whose requirements are dynamic, by
    name: read from the cache, and built (PEP 517 `prepare_metadata_for_build_wheel`) only when
    the project's cache key has no entry yet."""
    from pyrun.core.lock_build import parse_built_metadata

    keys = dynamic_keys(workspace)
    if not keys:
        return {}
    from pyrun.local import build as builds

    found = {name: builds.find_metadata(session.cache, key) for name, key in keys.items()}
    missing = {name: keys[name] for name, data in found.items() if data is None}
    if missing:
        from pyrun.commands.resolve_step import build_setup

        setup = build_setup(session.settled, indexes, interpreter, session.cache, session.console)
        found.update(_build_metadata(missing, dynamic_dirs(workspace), setup))
    return {name: parse_built_metadata(data) for name, data in found.items() if data is not None}


def dynamic_keys(workspace: Workspace) -> dict[str, str]:
    """The metadata cache key of each project with dynamic requirements (file metadata only)."""
    dynamic = dynamic_dirs(workspace)
    if not dynamic:
        return {}
    from pathlib import Path

    from pyrun.local import build as builds

    keys = {}
    for name, directory in dynamic.items():
        path = Path(directory)
        keys[name] = builds.local_metadata_key(path, builds.local_cache_key(path))
    return keys


def dynamic_dirs(workspace: Workspace) -> dict[str, str]:
    """The directories whose requirements only a build can tell, by package name: members, and
    directories outside the workspace that `tool.uv.sources` names by `path`."""
    # `core.project`'s, not `core.lock_compare`'s: every sync asks this (the lock-check memo's
    # key), and `lock_compare` imports `packaging.requirements`.
    from pyrun.core.project import normalize_name

    found = {n: m.directory for n, m in workspace.members.items() if m.has_dynamic_requirements}
    for project in (workspace.root_file, *workspace.members.values()):
        table = project.tool.get("sources")
        for name, value in table.items() if isinstance(table, dict) else ():
            for entry in value if isinstance(value, list) else [value]:
                path = entry.get("path") if isinstance(entry, dict) else None
                if not isinstance(path, str):
                    continue  # most sources name members (`workspace = true`): no name to read
                key = normalize_name(name)
                if key in workspace.members or key in found:
                    continue
                directory = os.path.normpath(os.path.join(project.directory, path))
                if _has_dynamic_requirements(directory):
                    found[key] = directory
    return found


def _has_dynamic_requirements(directory: str) -> bool:
    from pyrun.local.discover import load_project_file

    if not os.path.isfile(os.path.join(directory, "pyproject.toml")):
        return False
    try:
        project = load_project_file(directory)
    except PyrunError:
        return False  # the resolution reports it, where the dependency is read
    return project.has_project and project.has_dynamic_requirements


def _build_metadata(
    names: Iterable[str], directories: Mapping[str, str], setup: BuildSetup
) -> dict[str, bytes]:
    """Build the metadata of the projects `names` (at `directories`), as the lock would."""
    # trio and httpx only here: the build requirements come from the indexes.
    from pathlib import Path

    from pyrun.net import interrupt
    from pyrun.net.metadata_build import MetadataBuilder
    from pyrun.net.sync import build_requirements_provider

    async def build_all() -> dict[str, bytes]:
        built: dict[str, bytes] = {}
        async with build_requirements_provider(
            setup.interpreter, setup.cache, setup.requirements, setup.console
        ) as provide:
            builder = MetadataBuilder(setup, provide)
            for name in names:
                built[name] = await builder.tree(name, Path(directories[name]))
        return built

    return interrupt.run(build_all)


def _requires_python(workspace: Workspace, interpreter: Interpreter, console: Console) -> str:
    from pyrun.core.lock_build import lock_requires_python

    values = [m.requires_python for m in workspace.members.values() if m.requires_python]
    found = lock_requires_python(values)
    if found is not None:
        return found
    default = f">={interpreter.major}.{interpreter.minor}"
    console.warn(f"No `requires-python` value found in the workspace. Defaulting to `{default}`.")
    return default


def _markers(key: str, markers: tuple[str, ...]) -> tuple[str, ...]:
    """A setting of markers, each checked here so a bad one is named with its setting rather
    than failing deep in the resolver."""
    from pyrun.core.markers import normalize_marker

    for marker in markers:
        try:
            normalize_marker(marker)
        except ValueError as exc:
            raise PyrunError(
                f"Failed to parse the `{key}` setting", causes=(f"`{marker}`: {exc}",)
            ) from None
    return markers


def _normal_names(names: list[str]) -> list[str]:
    from pyrun.core.lock_compare import normalize_name

    return [normalize_name(name) for name in names]


def _dependency_metadata(settings: Settled) -> tuple[DependencyMetadata, ...]:
    return tuple(
        DependencyMetadata(
            name=entry.name,
            version=entry.version,
            requires_dist=entry.requires_dist,
            requires_python=entry.requires_python,
            provides_extras=entry.provides_extras,
        )
        for entry in settings.resolver.dependency_metadata
    )


def lock_options(settings: Settled) -> LockOptions:
    """The `[options]` a lock made with these settings records (only non-default values)."""
    resolver = settings.resolver
    exclude_newer = resolver.exclude_newer
    span = _span(exclude_newer) if exclude_newer else None
    return LockOptions(
        resolution_mode=None if resolver.resolution == "highest" else resolver.resolution,
        prerelease_mode=(
            None if resolver.prerelease == "if-necessary-or-explicit" else resolver.prerelease
        ),
        fork_strategy=(
            None if resolver.fork_strategy == "requires-python" else resolver.fork_strategy
        ),
        exclude_newer=_timestamp(exclude_newer) if exclude_newer and not span else None,
        exclude_newer_span=span,
        exclude_newer_package={
            name: _exclude_newer_package(name, value)
            for name, value in resolver.exclude_newer_package.items()
        },
        prerelease_package=_prerelease_packages(resolver.prerelease_package),
    )


def _prerelease_packages(entries: Mapping[str, object]) -> dict[str, str]:
    """`prerelease-package`, merged as uv merges it (`pyrun.options`)."""
    allowed = PRERELEASES
    for name, value in entries.items():
        if value not in allowed:
            choices = ", ".join(f"`{mode}`" for mode in allowed[:-1])
            raise PyrunError(
                f"Invalid `prerelease-package` mode for `{name}`: expected one of {choices}, "
                f"or `{allowed[-1]}`, found `{value}`"
            )
    return {name: str(value) for name, value in entries.items()}


def _exclude_newer_package(name: str, value: object) -> ExcludeNewerPackage:
    if value is False or value == "false":  # `false` in a table, `PACKAGE=false` on the line
        return ExcludeNewerPackage(disabled=True)
    if not isinstance(value, str):
        raise PyrunError(
            f"Invalid `exclude-newer-package` value for `{name}`: expected a date, a timestamp, "
            "a duration or `false`",
        )
    span = _span(value)
    if span is not None:
        return ExcludeNewerPackage(span=span)
    return ExcludeNewerPackage(timestamp=_timestamp(value))


def _span(text: str) -> str | None:
    """A relative `exclude-newer` (`1 week`, `P7D`) as the ISO 8601 span uv records."""
    from pyrun.core.spans import parse_span

    try:
        span = parse_span(text)
    except PyrunError as exc:
        raise PyrunError(_invalid_exclude_newer(text), causes=(exc.message,)) from None
    return None if span is None else span.iso()


def _invalid_exclude_newer(text: str) -> str:
    return f"invalid value '{text}' for '--exclude-newer <EXCLUDE_NEWER>'"


_DATE = lazy(r"^\d{4}-\d{2}-\d{2}$")


def _timestamp(text: str) -> str:
    """`exclude-newer` as uv records it: an RFC 3339 UTC timestamp (`2025-06-01T00:00:00Z`)."""
    from datetime import UTC, datetime, timedelta

    raw = text.strip()
    try:
        if _DATE.match(raw):
            # A date admits everything uploaded that day: the cutoff is the next local midnight.
            day = datetime.fromisoformat(raw) + timedelta(days=1)
            moment = day.astimezone()
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise PyrunError(
            _invalid_exclude_newer(text),
            causes=(
                f"`{text}` could not be parsed as a valid exclude-newer value (expected a date "
                "like `2024-01-01`, a timestamp like `2024-01-01T00:00:00Z`, or a duration "
                "like `3 days` or `P3D`)",
            ),
        ) from None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


# -- resolving ---------------------------------------------------------------------------------


def _syncs_next(settled: Settled, mode: Mode) -> bool:
    """Whether an env is synced from this lock right after it is resolved (`run`, `sync`):
    then its wheels are worth fetching while resolving (`pyrun.net.prefetch`)."""
    if settled.subcommand not in ("run", "sync") or mode != "write":
        return False
    flags, build, options = settled.lock, settled.build, settled.globals
    dry = flags.dry_run or flags.check or settled.run.no_sync
    binary_only = build.no_binary or bool(build.no_binary_package)
    return not (dry or binary_only or options.offline or options.no_cache)


def _synced_next(
    workspace: Workspace, interpreter: Interpreter, session: Session, lock: Lock
) -> list[tuple[str, str | None]] | None:
    """What the sync after this lock installs, for the prefetch to finish (a wheel of another
    group, platform or fork is not waited for, as uv never fetches it); None when the
    selection refuses (the sync says why) and everything the lock keeps is finished."""
    from pyrun.commands.sync_project import select_for

    try:
        selection = select_for(workspace, lock, interpreter, session.settled.selection)
    except PyrunError:
        return None
    return [(chosen.package.name, chosen.package.version) for chosen in selection.selected]


def project_request(workspace: Workspace, inputs: LockInputs, settings: Settled) -> LockRequest:
    """The workspace's lock facts as the resolve step reads them."""
    from pyrun.commands.resolve_step import LockRequest, pinned_indexes

    return LockRequest(
        root=workspace.root,
        facts=inputs.facts,
        texts=tuple(t for texts in inputs.root_groups.values() for t in texts),
        run=inputs.run,
        indexes=inputs.indexes,
        pinned=pinned_indexes(_tools(workspace)),
        constraints=workspace_list(workspace, "constraint-dependencies"),
        overrides=workspace_list(workspace, "override-dependencies"),
    )


def workspace_list(workspace: Workspace, key: str) -> tuple[str, ...]:
    """A list of the workspace root's `[tool.uv]` that uv reads from there alone (its
    `LockTarget`: overrides, constraints, environments, ...): a `uv.toml` does not add to it
    and `--no-config` does not remove it, as it does the settings."""
    value = workspace.root_file.tool.get(key, ())
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _tools(workspace: Workspace) -> list[Mapping[str, Any]]:
    """The `[tool.uv]` tables of the root and the members (members last: they win)."""
    return [project.tool for project in (workspace.root_file, *workspace.members.values())]


def index_warm_up(
    workspace: Workspace, settings: Settled, cache: Cache
) -> Callable[[], Awaitable[None]] | None:
    """What a lock from scratch reads first and needs no interpreter for (the index pages of
    the direct requirements, `pyrun.net.index_warmup`), for a Python download to overlap; None
    when a lock exists (it may well hold), offline, or when there is nothing to read."""
    if read_lock_text(os.path.join(workspace.root, LOCK_NAME)) is not None:
        return None
    return pages_warm_up(workspace, settings, cache)


def pages_warm_up(
    workspace: Workspace, settings: Settled, cache: Cache, *, names: list[str] | None = None
) -> Callable[[], Awaitable[None]] | None:
    """The reading of the index pages of the direct requirements (`index_warm_up`; `names`
    when already known), whether or not a lock exists; None offline, refreshing, or when there
    is nothing to read."""

    from pyrun.commands.index_settings import index_settings
    from pyrun.commands.resolve_step import client_options, index_plan, pinned_indexes

    names = _direct_index_names(workspace) if names is None else names
    try:
        options = client_options(settings, cache)
        plan = index_plan(index_settings(settings), pinned_indexes(_tools(workspace)))
    except PyrunError:
        return None  # reported by the lock step, where it always was
    if not names or options.offline or options.refresh:
        return None
    return functools.partial(_read_pages, options, plan, names)


async def _read_pages(options: ClientOptions, plan: IndexPlan, names: list[str]) -> None:
    # `pyrun.net.index_warmup` (trio) imported when the job runs: most runs download no Python.
    from pyrun.net.index_warmup import read_pages

    await read_pages(options, plan, names)


def _send_first_requests(workspace: Workspace, session: Session, names: list[str]) -> bool:
    """Send the page requests of `names` and of what the cache predicts they lead to before
    the network stack is imported (`pyrun.net.early_pages`), where nothing in the settings
    asks for more than the early requests do (offline, refreshing, insecure hosts); whether
    they were sent."""
    settled = session.settled
    resolver = settled.resolver
    if (
        not names
        or settled.globals.offline
        or resolver.refresh
        or resolver.upgrade
        or resolver.refresh_package
        or settled.globals.allow_insecure_host
    ):
        return False
    plan = _early_plan(workspace, settled, session.cache)
    if plan is None:
        return False
    from pyrun.net import early_pages

    return early_pages.start(plan, names, os.environ)


def _early_plan(workspace: Workspace, settled: Settled, cache: Cache) -> EarlyPlan | None:
    """Where the early requests go: the index searched first, and those packages are pinned
    to (an unknown index: the empty URL, which they leave alone); None when the settings are
    the client's to report (a bad timeout, no index) or when an index has credentials (the
    client sends them to every index on that host)."""
    from pyrun import __version__
    from pyrun.commands.index_settings import index_settings
    from pyrun.commands.resolve_step import pinned_indexes
    from pyrun.core.index import ACCEPT_HEADER
    from pyrun.net.early_pages import EarlyPlan

    indexes = index_settings(settled)
    searched = [entry for entry in indexes.searched if not entry.explicit]
    timeout = _http_timeout()
    credentials = any("@" in entry.url for entry in indexes.entries)
    keyring = settled.index.keyring_provider not in (None, "disabled")
    if not searched or timeout is None or credentials or keyring:
        return None
    urls = {entry.name: entry.url for entry in reversed(indexes.entries) if entry.name}
    pinned = {
        name: urls.get(index, "") for name, index in pinned_indexes(_tools(workspace)).items()
    }
    return EarlyPlan(
        cache_dir=cache.root,
        index_url=searched[0].url,
        pinned=pinned,
        system_certs=settled.globals.system_certs,
        timeout=timeout,
        user_agent=f"pyrun/{__version__}",
        accept=ACCEPT_HEADER,
        requires_python=tuple(
            m.requires_python for m in workspace.members.values() if m.requires_python
        ),
    )


def _http_timeout() -> float | None:
    """`PYRUN_HTTP_TIMEOUT` as the client reads it; None when it is invalid, which the client
    reports."""
    from pyrun.net.http_env import DEFAULT_TIMEOUT, env_number

    try:
        return float(env_number(os.environ, "PYRUN_HTTP_TIMEOUT", float, DEFAULT_TIMEOUT))
    except PyrunError:
        return None


# The name a PEP 508 requirement starts with (as packaging reads it, for a valid one).
_LEADING_NAME = lazy(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _direct_index_names(workspace: Workspace) -> list[str]:
    """The members' requirements on registry packages (not on members, URLs or other sources)."""
    from packaging.requirements import InvalidRequirement, Requirement

    from pyrun.commands.resolve_step import pinned_indexes
    from pyrun.core.lock_compare import normalize_name

    projects = (workspace.root_file, *workspace.members.values())
    members = workspace.members
    # A member's name as its siblings' sources spell it is mostly normalised already: those
    # (left out of the answer anyway) are not normalised again.
    sourced = {normalize_name(n) for p in projects for n in _sources(p.tool) if n not in members}
    elsewhere = sourced - set(pinned_indexes(_tools(workspace)))
    names: dict[str, None] = {}
    seen: set[str] = set()
    for project in projects:
        texts = [*project.dependencies, *itertools.chain(*project.optional_dependencies.values())]
        texts += [t for group in project.dependency_groups.values() for t in group]
        for text in texts:
            if not isinstance(text, str) or text in seen:
                continue
            seen.add(text)
            # Every lock from scratch comes here: in a large workspace most requirements name
            # members, which the answer leaves out, so they are not parsed.
            leading = _LEADING_NAME.match(text)
            if leading is not None and (
                leading[1] in members or normalize_name(leading[1]) in members
            ):
                continue
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue  # the lock reports it
            if requirement.url is None:
                names[normalize_name(requirement.name)] = None
    return [n for n in names if n not in elsewhere and n not in workspace.members]


def _sources(tool: Mapping[str, Any]) -> list[str]:
    table = tool.get("sources")
    return list(table) if isinstance(table, dict) else []


# -- `pyrun lock` reporting --------------------------------------------------------------------


def change_lines(previous: Lock | None, current: Lock) -> list[str]:
    """`Added`, `Updated` and `Removed` lines, sorted by name, as `uv lock` prints them."""
    if previous is None:
        return []
    old, new = _versions(previous), _versions(current)
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name, []), new.get(name, [])
        if before == after:
            continue
        if not before:
            lines.append(f"Added {name} {_shown(after)}")
        elif not after:
            lines.append(f"Removed {name} {_shown(before)}")
        else:
            lines.append(f"Updated {name} {_shown(before)} -> {_shown(after)}")
    return lines


def _versions(lock: Lock) -> dict[str, list[str]]:
    """Each package's locked versions, a git package's with its commit (`0.2.0 (e6b56e58)`):
    a moved commit is a change even when the version is not."""
    found: dict[str, set[tuple[str, str]]] = {}
    for package in lock.packages:
        if package.version is not None:
            sha = ""
            if package.source.kind == "git":
                sha = package.source.value.partition("#")[2][:8]
            found.setdefault(package.name, set()).add((package.version, sha))
    return {
        name: [f"{v} ({sha})" if sha else v for v, sha in _ordered(pairs)]
        for name, pairs in found.items()
    }


def _ordered(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    # Almost every name has one version: no `Version` parse for those (a thousand members).
    return list(pairs) if len(pairs) < 2 else sorted(pairs, key=_version_sha_key)


def _version_sha_key(pair: tuple[str, str]) -> tuple[Any, ...]:
    return (_version_key(pair[0]), pair[1])


def _version_key(text: str) -> tuple[Any, ...]:
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def _shown(versions: list[str]) -> str:
    return ", ".join(f"v{v}" for v in versions)
