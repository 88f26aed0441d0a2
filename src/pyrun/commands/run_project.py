"""The base environment of a project run: choose a Python, ensure `.venv`, lock and sync."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from pyrun.commands.session import Session
from pyrun.console import Console, display_path
from pyrun.errors import PyrunError
from pyrun.local.cache import FileLock, lock_timeout_from_env
from pyrun.local.childenv import RunEnv
from pyrun.local.discover import Workspace
from pyrun.local.project_env import (
    EnvRequest,
    ProjectEnv,
    ensure_project_env,
    project_env_path,
)
from pyrun.local.pyselect import PythonChoice, choose_python, request_intersects
from pyrun.local.venv import venv_python
from pyrun.options import Settled

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from pyrun.commands.sync_project import SyncResult


def project_run_env(workspace: Workspace, session: Session, start: str) -> RunEnv:
    settled = session.settled
    finder = session.finder
    requires_python, source = workspace_requires_python(workspace)
    choice = project_python_choice(settled, workspace, requires_python, session.console)
    if settled.run.isolated:
        return _isolated(workspace, session, choice)
    path = project_env_path(
        workspace.root,
        active=settled.sync.active,
        no_active=settled.sync.no_active,
        console=session.console,
    )
    request = EnvRequest(
        path=path,
        choice=choice,
        requires_python=requires_python,
        requires_python_source=source,
        prompt=_prompt(workspace),
        no_sync=settled.run.no_sync,
        preference=settled.python.preference,
    )
    with project_lock(workspace.root):
        if settled.lock.dry_run or settled.lock.check:
            return _dry_run(workspace, session, request)
        cold = _cold_sync(workspace, session)
        with _wheels_meanwhile(cold, workspace, session, request):
            with _overlapping_downloads(workspace, session), _network_meanwhile(cold, session):
                env = ensure_project_env(request, finder, session.console)
            result = None
            if not settled.run.no_sync:
                from pyrun.commands.sync_project import sync_into

                result = sync_into(workspace, env.path, env.interpreter, session)
        if not session.cache.temporary:
            _record(session, workspace, start, env, result)
    return RunEnv.of_venv(path)


@contextmanager
def _overlapping_downloads(workspace: Workspace, session: Session) -> Iterator[None]:
    """If a managed Python must be downloaded, the lock's first reads happen meanwhile."""
    from pyrun.commands.lock_project import index_warm_up

    settled = session.settled
    job = None if settled.run.no_sync else index_warm_up(workspace, settled, session.cache)
    if job is None:
        yield
        return
    from pyrun.net.alongside import alongside_downloads

    with alongside_downloads(job):
        yield


class _ColdSync:
    """A run that will sync a lock with files to download into an empty cache: the lock's
    text, and whether its wheels may come over `early_wheels`' threads."""

    __slots__ = ("early", "lock_text")

    def __init__(self, lock_text: bytes, *, early: bool) -> None:
        self.lock_text = lock_text
        self.early = early


def _cold_sync(workspace: Workspace, session: Session) -> _ColdSync | None:
    """The run's `_ColdSync`, or None for any other run (a warm cache pays one directory
    listed). Not without a lock: a lock from scratch sends its first requests before the
    network layer is loaded (`pyrun.net.early_pages`), and work on other threads meanwhile
    would only compete."""
    from pyrun.commands.lock_project import LOCK_NAME
    from pyrun.commands.network_ahead import cache_is_empty, lock_downloads

    settled = session.settled
    if settled.run.no_sync or settled.globals.offline:
        return None
    # The cache first: one directory listed, where the lock's text may be megabytes.
    if not cache_is_empty(session.cache):
        return None
    text = lock_downloads(os.path.join(workspace.root, LOCK_NAME))
    if text is None:
        return None
    from pyrun.commands.index_settings import index_settings
    from pyrun.net import early_wheels  # past the checks: ~8 ms of imports

    try:
        indexes = index_settings(settled)
    except PyrunError:  # reported by the sync, in its place
        return _ColdSync(text, early=False)
    # The sync's own rule on the URLs it is given (`pyrun.net.sync.early_wheels_allowed`),
    # before its options exist.
    urls = (*indexes.index_urls, indexes.default_url)
    return _ColdSync(text, early=early_wheels.allowed(os.environ, urls))


def _network_meanwhile(cold: _ColdSync | None, session: Session) -> AbstractContextManager[None]:
    """A cold sync loads the network layer while its interpreter is found
    (`pyrun.commands.network_ahead`): only the TLS trust store when its wheels come without
    trio (`early_wheels`)."""
    from pyrun.commands.network_ahead import network_loaded_meanwhile, trust_loaded_meanwhile

    if cold is None:
        return nullcontext()
    system_certs = session.settled.globals.system_certs
    if cold.early:
        return trust_loaded_meanwhile(session.cache, system_certs=system_certs)
    return network_loaded_meanwhile(session.cache, system_certs=system_certs)


def _wheels_meanwhile(
    cold: _ColdSync | None, workspace: Workspace, session: Session, request: EnvRequest
) -> AbstractContextManager[None]:
    """A cold sync whose wheels come over `early_wheels` into a new env starts them once its
    interpreter is found, before the env is made and the lock checked
    (`network_ahead.wheels_fetched_meanwhile`). Not for an env already there: its own
    interpreter decides, and it may need nothing."""
    if cold is None or not cold.early or os.path.lexists(request.path):
        return nullcontext()
    from pyrun.commands.network_ahead import wheels_fetched_meanwhile

    return wheels_fetched_meanwhile(workspace, session, request, cold.lock_text)


def _dry_run(workspace: Workspace, session: Session, request: EnvRequest) -> RunEnv:
    """`sync --dry-run`/`--check`: report against the env as it is, or as it would be
    created, without creating or changing anything (uv's `Would use`/`Would create`)."""
    from pyrun.commands.sync_project import sync_into
    from pyrun.local.project_env import existing_env, select_base_interpreter

    path, finder = request.path, session.finder
    interpreter = existing_env(request, finder, session.console)
    if interpreter is not None:
        session.console.info(
            f"Would use project environment at: {session.console.path(display_path(path))}"
        )
    else:
        base = select_base_interpreter(request, finder, session.console)
        session.console.info(
            f"Would create project environment at: {session.console.path(display_path(path))}"
        )
        interpreter = base.in_new_venv(os.path.abspath(path), venv_python(os.path.abspath(path)))
    sync_into(workspace, path, interpreter, session)
    return RunEnv.of_venv(path)


def _record(
    session: Session, workspace: Workspace, start: str, env: ProjectEnv, result: SyncResult | None
) -> None:
    """The stamp for the fast path and, for an env this run created, the recipe that rebuilds
    it when it is deleted (`pyrun.replay`)."""
    from pyrun.commands.stamping import record_run

    inputs = result.input_files if result else None
    console, cache = session.console, session.cache
    stamp_file = record_run(
        session, workspace, start, env.path, env.interpreter, extra_inputs=inputs
    )
    if stamp_file is None or result is None or env.base is None:
        return
    from pyrun.local.recipe import record_checkout, save_recipe

    report = result.report
    facts: dict[str, object] = {
        "root": workspace.root,
        "python": env.base.executable,
        "display": env.base.display(),
        "managed": env.base.managed,
        "resolved": result.resolved,
        "installed": report.installed if report else 0,
        "checked": result.checked,
        "changes": [change.line for change in report.changes] if report else [],
    }
    why_not, entries = save_recipe(stamp_file, report.journal if report else None, facts)
    console.debug(f"Not recording a recipe: {why_not}" if why_not else "Recorded a recipe")
    if why_not is None:
        why_not = record_checkout(stamp_file, cache.directory, workspace, start, entries)
        console.debug(f"Not filing for other checkouts: {why_not}" if why_not else "Filed it")


def _isolated(workspace: Workspace, session: Session, choice: PythonChoice) -> RunEnv:
    """A fresh temporary env for the project (SPEC §2.10); `.venv` is neither used nor touched."""
    from pyrun.commands.run_noproject import isolated_env
    from pyrun.local.project_env import select_base_interpreter

    finder = session.finder
    requires_python, source = workspace_requires_python(workspace)
    request = EnvRequest(
        path="",
        choice=choice,
        requires_python=requires_python,
        requires_python_source=source,
        prompt=_prompt(workspace),
    )
    base = select_base_interpreter(request, finder, Console(quiet=1))
    env = isolated_env(base, str(session.cache.builds))
    session.console.debug(f"Created isolated environment at `{env.venv}`")
    assert env.venv is not None
    interpreter = finder.probe(env.python)
    if interpreter is None:
        raise PyrunError(f"The isolated environment at `{env.venv}` does not work")
    if not session.settled.run.no_sync:
        from pyrun.commands.sync_project import sync_into

        try:
            # Under --isolated the lock step runs in dry-run mode: uv.lock is never written.
            sync_into(workspace, env.venv, interpreter, session)
        except BaseException:
            import shutil

            shutil.rmtree(env.venv, ignore_errors=True)
            raise
    return env


def project_python_choice(
    settled: Settled, workspace: Workspace, requires_python: str | None, console: Console
) -> PythonChoice:
    """SPEC §2.6: only `<root>/.python-version` counts; the global pin only when compatible."""
    choice = choose_python(
        explicit=settled.python.request,
        search_from=workspace.root,
        stop_at=workspace.root,
        no_config=settled.globals.no_config,
        console=console,
    )
    pin = choice.request if choice.source == "global-pin" else None
    if pin is not None and requires_python and not request_intersects(pin, requires_python):
        console.debug(f"Ignoring global Python pin incompatible with `{requires_python}`")
        return PythonChoice(request=None, source="default")
    return choice


def workspace_requires_python(workspace: Workspace) -> tuple[str | None, str]:
    """The intersection of the members' `requires-python` values, and where it came from."""
    values = []
    for member in workspace.members.values():
        if member.requires_python and member.requires_python not in values:
            values.append(member.requires_python)
    if not values:
        return None, "project.requires-python"
    return ", ".join(values), "project.requires-python"


def _prompt(workspace: Workspace) -> str:
    current = workspace.current or workspace.root_file
    return current.name or os.path.basename(workspace.root)


@contextmanager
def project_lock(root: str) -> Iterator[None]:
    """Serialise env creation, locking and syncing per workspace; released before the child."""
    from pyrun.replay import project_lock_path

    path = project_lock_path(root)
    with FileLock(path).held(timeout=lock_timeout_from_env(os.environ), what=display_path(root)):
        yield
