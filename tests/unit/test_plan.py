"""The install plan, decided from data alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrun.core.plan import (
    InstalledDist,
    RequiredDist,
    SourceKind,
    archive_id,
    make_plan,
    satisfies,
)

SIX_SHA = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"


def installed(name: str, version: str, direct_url: dict[str, Any] | None = None) -> InstalledDist:
    return InstalledDist(
        name=name,
        version=version,
        dist_info_path=Path(f"/venv/site/{name}-{version}.dist-info"),
        direct_url=direct_url,
        installer="pyrun",
    )


def env(*dists: InstalledDist) -> dict[str, InstalledDist]:
    return {dist.key: dist for dist in dists}


def test_cache_id_from_sha256() -> None:
    six = RequiredDist(name="six", version="1.17.0", hash=f"sha256:{SIX_SHA.upper()}")
    assert six.cache_id == archive_id(SIX_SHA) == SIX_SHA[:32]
    assert RequiredDist(name="six", version="1", hash="sha512:abc").cache_id is None
    assert RequiredDist(name="six", version="1").cache_id is None


def test_fresh_environment_splits_cached_and_remote() -> None:
    six = RequiredDist(name="six", version="1.17.0", hash=f"sha256:{SIX_SHA}")
    idna = RequiredDist(name="idna", version="3.10", hash="sha256:" + "a" * 64)
    plan = make_plan([six, idna], {}, cached={six.cache_id or ""})
    assert plan.cached == (six,)
    assert plan.remote == (idna,)
    assert plan.to_install == (idna, six)
    assert not plan.is_noop


def test_satisfied_environment_is_a_noop() -> None:
    current = installed("Six", "1.17.0")
    plan = make_plan([RequiredDist(name="six", version="1.17.0")], env(current))
    assert plan.unchanged == (current,)
    assert plan.is_noop


def test_version_change_reinstalls() -> None:
    old = installed("six", "1.16.0")
    new = RequiredDist(name="six", version="1.17.0")
    plan = make_plan([new], env(old))
    assert plan.reinstalls == (old,)
    assert plan.remote == (new,)
    assert plan.to_uninstall == (old,)


def test_equivalent_versions_are_equal() -> None:
    assert satisfies(installed("a", "1.0"), RequiredDist(name="a", version="1.0.0"))
    assert not satisfies(installed("a", "not-a-version"), RequiredDist(name="a", version="1.0"))


def test_source_change_reinstalls() -> None:
    from_url = installed(
        "a", "1.0", {"url": "https://x/a-1.0-py3-none-any.whl", "archive_info": {}}
    )
    plan = make_plan([RequiredDist(name="a", version="1.0")], env(from_url))
    assert plan.reinstalls == (from_url,)


def test_url_sources_compare_url_and_hash() -> None:
    url = "https://x/a-1.0-py3-none-any.whl"
    current = installed("a", "1.0", {"url": url, "archive_info": {"hash": "sha256=abc"}})
    same = RequiredDist(name="a", version="1.0", source=SourceKind.URL, url=url, hash="sha256:ABC")
    other_hash = RequiredDist(
        name="a", version="1.0", source=SourceKind.URL, url=url, hash="sha256:def"
    )
    other_url = RequiredDist(name="a", version="1.0", source=SourceKind.URL, url=url + "?x")
    assert satisfies(current, same)
    assert not satisfies(current, other_hash)
    assert not satisfies(current, other_url)


def test_editable_and_directory_sources() -> None:
    url = "file:///work/proj"
    editable = installed("proj", "0.1", {"url": url, "dir_info": {"editable": True}})
    as_editable = RequiredDist(
        name="proj", version="0.1", source=SourceKind.EDITABLE, url=url, editable=True
    )
    as_copy = RequiredDist(name="proj", version="0.1", source=SourceKind.DIRECTORY, url=url)
    assert editable.editable
    assert satisfies(editable, as_editable)
    assert not satisfies(editable, as_copy)  # --no-editable switches


def test_git_sources_compare_commits() -> None:
    url = "https://git.invalid/repo"
    current = installed("g", "1.0", {"url": url, "vcs_info": {"vcs": "git", "commit_id": "aaa"}})
    same = RequiredDist(name="g", version="1.0", source=SourceKind.GIT, url=url, commit="aaa")
    moved = RequiredDist(name="g", version="1.0", source=SourceKind.GIT, url=url, commit="bbb")
    assert satisfies(current, same)
    assert not satisfies(current, moved)


def test_cache_info_change_reinstalls() -> None:
    url = "file:///work/proj"
    current = InstalledDist(
        name="proj",
        version="0.1",
        dist_info_path=Path("/x"),
        direct_url={"url": url, "dir_info": {"editable": True}},
        cache_info={"key": "old"},
    )
    required = RequiredDist(
        name="proj",
        version="0.1",
        source=SourceKind.EDITABLE,
        url=url,
        editable=True,
        cache_info={"key": "new"},
    )
    assert not satisfies(current, required)


def test_inexact_keeps_extraneous() -> None:
    stray = installed("pip", "24.0")
    plan = make_plan([], env(stray))
    assert plan.extraneous == (stray,)
    assert plan.to_uninstall == ()
    assert plan.is_noop


def test_exact_removes_extraneous() -> None:
    stray = installed("pip", "24.0")
    keep = installed("six", "1.17.0")
    plan = make_plan([RequiredDist(name="six", version="1.17.0")], env(stray, keep), exact=True)
    assert plan.to_uninstall == (stray,)
    assert plan.unchanged == (keep,)


def test_reinstall_all_and_by_name() -> None:
    six = installed("six", "1.17.0")
    idna = installed("idna", "3.10")
    required = [
        RequiredDist(name="six", version="1.17.0"),
        RequiredDist(name="idna", version="3.10"),
    ]
    everything = make_plan(required, env(six, idna), reinstall=True)
    assert everything.reinstalls == (idna, six)
    only_six = make_plan(required, env(six, idna), reinstall={"SIX"})
    assert only_six.reinstalls == (six,)
    assert only_six.unchanged == (idna,)
    missing = make_plan(required, env(idna), reinstall={"six"})
    assert missing.reinstalls == () and [d.name for d in missing.remote] == ["six"]
