"""The git cache against a local repository (`file://`, no network)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyrun.console import Console
from pyrun.core.gitref import GitRef, GitUrl
from pyrun.local.cache import Cache
from pyrun.local.git import GitCache, GitFailure
from pyrun.progress import make_reporter
from tests.support.git_server import commit_all, git, init_repo
from tests.support.terminal import install_stderr

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    commit_all(repo, "first")
    git(repo, "tag", "v1")
    return repo


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def url(repo: Path, ref: GitRef, subdirectory: str | None = None) -> GitUrl:
    return GitUrl(repository=repo.as_uri(), ref=ref, subdirectory=subdirectory)


@pytest.mark.parametrize(
    "ref", [GitRef("default"), GitRef("branch", "main"), GitRef("tag", "v1"), GitRef("rev", "v1")]
)
def test_resolves_each_kind_of_reference(repo: Path, cache: Cache, ref: GitRef) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert GitCache(cache).resolve(url(repo, ref)) == head


def test_abbreviated_commit_and_moved_branch(repo: Path, cache: Cache) -> None:
    first = git(repo, "rev-parse", "HEAD")
    second = commit_all(repo, "second")
    git_cache = GitCache(cache)
    assert git_cache.resolve(url(repo, GitRef("rev", first[:10]))) == first
    assert git_cache.resolve(url(repo, GitRef("branch", "main"))) == second


def test_checkout_is_the_tree_at_the_commit(repo: Path, cache: Cache) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "pkg" / "later.txt").write_text("later")
    commit_all(repo, "second")
    tree = GitCache(cache).checkout(url(repo, GitRef("tag", "v1"), "pkg"), first)
    assert (tree / "pyproject.toml").is_file()
    assert not (tree / "later.txt").exists()
    # A working copy, as uv's: backends that version from git (setuptools-scm) can read it.
    assert git(tree, "rev-parse", "HEAD") == first


def test_known_commit_needs_no_repository(repo: Path, cache: Cache, tmp_path: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    pinned = url(repo, GitRef("rev", commit))
    GitCache(cache).resolve(pinned)
    repo.rename(tmp_path / "gone")
    offline = GitCache(cache, offline=True)
    assert offline.resolve(pinned) == commit
    assert (offline.checkout(pinned, commit) / "pkg").is_dir()


def test_offline_fetches_only_local_repositories(repo: Path, cache: Cache) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    offline = GitCache(cache, offline=True)
    # As with uv, `--offline` forbids the network, not a repository on this machine.
    assert offline.resolve(url(repo, GitRef("tag", "v1"))) == commit
    remote = GitUrl(repository="http://127.0.0.1:9/repo")
    with pytest.raises(GitFailure) as caught:
        offline.checkout(remote, "0123456789abcdef0123456789abcdef01234567")
    assert caught.value.causes[-1] == (
        "Remote Git fetches are not allowed because network connectivity is disabled "
        "(i.e., with `--offline`)"
    )


def test_missing_reference_and_subdirectory(repo: Path, cache: Cache) -> None:
    with pytest.raises(GitFailure, match="failed to fetch tag `nope`"):
        GitCache(cache).resolve(url(repo, GitRef("tag", "nope")))
    commit = git(repo, "rev-parse", "HEAD")
    with pytest.raises(GitFailure, match="subdirectory `missing` does not exist"):
        GitCache(cache).checkout(url(repo, GitRef("default"), "missing"), commit)


@pytest.mark.parametrize("color", ["never", "always"])
def test_reports_fetches_in_uv_words_and_colours(
    repo: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch, color: str
) -> None:
    stderr = install_stderr(monkeypatch, tty=False)
    report = make_reporter(Console(color=color))
    commit = GitCache(cache, report=report).resolve(url(repo, GitRef("tag", "v1")))
    if color == "never":
        assert stderr.getvalue().splitlines() == [
            f"   Updating {repo.as_uri()} (v1)",
            f"    Updated {repo.as_uri()} ({commit})",
        ]
    else:  # escape for escape what uv 0.13.9 writes
        assert stderr.getvalue().splitlines() == [
            f"   \x1b[36m\x1b[1mUpdating\x1b[0m\x1b[39m {repo.as_uri()} (\x1b[2mv1\x1b[0m)",
            f"    \x1b[32m\x1b[1mUpdated\x1b[0m\x1b[39m {repo.as_uri()} (\x1b[2m{commit}\x1b[0m)",
        ]
