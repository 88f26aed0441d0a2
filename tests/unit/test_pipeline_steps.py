"""The shared resolve and install steps' pure parts (`pyrun.commands.resolve_step`,
`pyrun.commands.install_step`): no network, no interpreter."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.install_step import InstallMode, exact_sync, shows_resolution
from pyrun.commands.resolve_step import (
    LockRequest,
    Preferred,
    loose_request,
    pinned_indexes,
    resolve,
)
from pyrun.commands.session import Session
from pyrun.console import Console
from pyrun.core.lockfile import loads
from pyrun.local.cache import Cache
from pyrun.local.pyfind import Finder
from pyrun.options import Settled, settle

LOCK = """\
version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "alpha"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "local"
version = "0.1"
source = { directory = "local" }
"""


def settled(*argv: str) -> Settled:
    return settle(parse_argv(list(argv)).command_line())


def request(*argv: str) -> LockRequest:
    return loose_request(
        settled("run", *argv, "python"),
        root="/tmp",
        requires_python=">=3.12",
        tables=(),
        texts=(),
        subject="script",
    )


def test_a_package_pinned_to_an_index_by_a_later_table_wins() -> None:
    root = {"sources": {"Alpha_Pkg": {"index": "internal"}, "beta": {"git": "https://x/b"}}}
    member = {"sources": {"alpha-pkg": {"index": "mirror"}}}
    assert pinned_indexes([root, member, {"sources": "not a table"}]) == {"alpha-pkg": "mirror"}


def test_upgrade_is_everything_some_packages_or_nothing() -> None:
    assert request("--upgrade").upgrade is True
    assert request("--upgrade-package", "Alpha_Pkg").upgrade == frozenset({"alpha-pkg"})
    assert request().upgrade is False


def test_a_relock_prefers_the_locks_versions_with_its_forks() -> None:
    lock = loads(LOCK)
    preferred = Preferred.relock(lock)
    assert preferred.lock is lock and set(preferred.versions) == {"alpha"}
    assert Preferred.relock(None) == Preferred()


def test_a_script_or_with_layer_prefers_registry_versions_or_a_given_mapping() -> None:
    lock = loads(LOCK)
    from_lock = Preferred.versions_of(lock)
    # A script or `--with` layer keeps no lock forks: None, so declared environments would apply.
    assert (from_lock.lock, from_lock.versions, from_lock.forks) == (
        lock,
        {"alpha": ("1.0",)},
        None,
    )
    given = Preferred.versions_of({"beta": ("2.0",)})
    assert given.lock is None and given.versions == {"beta": ("2.0",)}


def test_nothing_to_resolve_gives_an_empty_lock_without_a_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_resolution(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("resolved with nothing to resolve")

    monkeypatch.setattr("pyrun.net.lock.lock_async", no_resolution)
    cache = Cache(tmp_path / "cache").init()
    session = Session(settled("run", "python"), cache, Console(quiet=2), cast(Finder, None))
    lock = resolve(session, request(), Preferred())
    assert lock.packages == () and lock.requires_python == ">=3.12"


@pytest.mark.parametrize(
    ("argv", "exact"),
    [
        (("sync",), True),
        (("sync", "--inexact"), False),
        (("run", "python"), False),
        (("run", "--exact", "python"), True),
    ],
)
def test_sync_is_exact_unless_inexact_and_run_only_with_exact(
    argv: tuple[str, ...], exact: bool
) -> None:
    assert exact_sync(settled(*argv)) is exact


def test_a_run_shows_the_details_with_show_resolution_or_verbose() -> None:
    assert not shows_resolution(settled("run", "python"))
    assert shows_resolution(settled("run", "--show-resolution", "python"))
    assert shows_resolution(settled("run", "-v", "python"))


def test_check_is_a_dry_run_too() -> None:
    assert InstallMode(exact=True, check=True).pending
    assert InstallMode(exact=True, dry_run=True).pending
    assert not InstallMode(exact=False).pending
