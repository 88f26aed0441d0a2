"""The git cache: one bare repository per remote, and one checkout per commit.

Layout under the cache's `git-v1/` bucket (keys as `GitUrl.cache_key`, a hash of the canonical
repository URL, so every ref and subdirectory of one repository shares one fetch):

    git-v1/db/<key>/                       bare repository, fetched into
    git-v1/checkouts/<key>/<commit>/       a working copy at that commit (written once)

All git work goes through the `git` command-line tool, as uv does, with the same refspecs:
a branch is fetched into `refs/remotes/origin/<branch>`, a tag into
`refs/remotes/origin/tags/<tag>`, a commit into `refs/commit/<sha>`, the default branch into
`refs/remotes/origin/HEAD`. A commit already in the database is never fetched again, which is
what lets a lock that pins commits install (and `--offline` work) from the cache alone;
offline, git may still fetch from `file://` repositories (`GIT_ALLOW_PROTOCOL=file`, as uv).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pyrun.core.gitref import GitUrl, is_commit
from pyrun.errors import FailureError
from pyrun.local.cache import GIT_BUCKET, Cache

__all__ = ["CheckoutReport", "GitCache", "GitFailure"]


class GitFailure(Exception):
    """A git operation failed; `causes` say what, from the outermost step in."""

    def __init__(self, *causes: str) -> None:
        super().__init__(causes[0] if causes else "git failed")
        self.causes = causes


class CheckoutReport(Protocol):
    """Told of each fetch (`pyrun.progress.Reporter` is one): uv's `Updating <repo> (<ref>)`
    while it runs, `Updated <repo> (<commit>)` once it is done."""

    def checkout_started(self, repository: str, ref: str) -> int: ...

    def checkout_ended(self, checkout: int, repository: str, commit: str) -> None: ...


@dataclass(frozen=True)
class GitCache:
    cache: Cache
    offline: bool = False
    report: CheckoutReport | None = None

    def resolve(self, url: GitUrl) -> str:
        """The commit `url`'s reference names now (fetching unless it is a known commit)."""
        with self.cache.key_lock(GIT_BUCKET, url.cache_key):
            db = self._database(url)
            pinned = url.ref.pinned_commit
            if pinned and _has_commit(db, pinned):
                return pinned
            fetch = self._started(url)
            _fetch(db, url, _refspecs(url), what=_what(url), offline=self.offline)
            commit = pinned or _rev_parse(db, _local_ref(url))
            if commit is None or not _has_commit(db, commit):
                raise GitFailure(f"failed to find {_what(url)} in `{url.repository}`")
            self._ended(fetch, url, commit)
            return commit

    def checkout(self, url: GitUrl, commit: str) -> Path:
        """The repository's tree at `commit` (plus `url`'s subdirectory), fetched if missing."""
        tree = self.cache.bucket(GIT_BUCKET) / "checkouts" / url.cache_key / commit
        if not tree.is_dir():
            with self.cache.key_lock(GIT_BUCKET, url.cache_key):
                if not tree.is_dir():
                    self._ensure_commit(url, commit)
                    _check_out(self._database(url), commit, tree, offline=self.offline)
        directory = (tree / url.subdirectory).resolve() if url.subdirectory else tree
        if not directory.is_relative_to(tree.resolve()):
            raise GitFailure(f"the subdirectory `{url.subdirectory}` is outside the repository")
        if not directory.is_dir():
            raise GitFailure(
                f"the subdirectory `{url.subdirectory}` does not exist at commit `{commit}`"
            )
        return directory

    def _ensure_commit(self, url: GitUrl, commit: str) -> None:
        db = self._database(url)
        if _has_commit(db, commit):
            return
        fetch = self._started(url)
        refspec = f"+{commit}:refs/commit/{commit}"
        try:
            _fetch(db, url, [refspec], what=f"commit `{commit}`", offline=self.offline)
        except GitFailure as by_id:
            # Some servers refuse a commit nobody advertises; it is usually still reachable
            # from a branch or tag, so fetch those before giving up (with the first error).
            try:
                _fetch(db, url, _ALL_REFS, what="branches and tags", offline=self.offline)
            except GitFailure:
                raise by_id from None
            if not _has_commit(db, commit):
                raise by_id from None
        if not _has_commit(db, commit):
            raise GitFailure(f"failed to find commit `{commit}` in `{url.repository}`")
        self._ended(fetch, url, commit)

    def _started(self, url: GitUrl) -> int:
        if self.report is None:
            return 0
        return self.report.checkout_started(url.repository, url.ref.display())

    def _ended(self, fetch: int, url: GitUrl, commit: str) -> None:
        if self.report is not None:
            self.report.checkout_ended(fetch, url.repository, commit)

    def _database(self, url: GitUrl) -> Path:
        db = self.cache.bucket(GIT_BUCKET) / "db" / url.cache_key
        if not (db / "HEAD").is_file():
            db.mkdir(parents=True, exist_ok=True)
            _git(["init", "--bare", "--quiet", str(db)], what="initialize the git cache")
        return db


def _what(url: GitUrl) -> str:
    if url.ref.kind == "default":
        return "the default branch"
    if url.ref.pinned_commit:
        return f"commit `{url.ref.value}`"
    return f"{url.ref.kind} `{url.ref.value}`".replace("rev ", "reference ", 1)


def _refspecs(url: GitUrl) -> list[str]:
    kind, value = url.ref.kind, url.ref.value
    if kind == "branch":
        return [f"+refs/heads/{value}:refs/remotes/origin/{value}"]
    if kind == "tag":
        return [f"+refs/tags/{value}:refs/remotes/origin/tags/{value}"]
    if kind == "default":
        return ["+HEAD:refs/remotes/origin/HEAD"]
    if is_commit(value):
        return [f"+{value}:refs/commit/{value.lower()}"]
    # A `rev` may be a branch, a tag or an abbreviated commit: fetch every branch and tag,
    # then let `rev-parse` decide (branches first, as uv does).
    return list(_ALL_REFS)


_ALL_REFS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/remotes/origin/tags/*")


def _local_ref(url: GitUrl) -> str:
    kind, value = url.ref.kind, url.ref.value
    if kind == "branch":
        return f"refs/remotes/origin/{value}"
    if kind == "tag":
        return f"refs/remotes/origin/tags/{value}"
    if kind == "default":
        return "refs/remotes/origin/HEAD"
    return value


def _rev_parse(db: Path, ref: str) -> str | None:
    candidates = [ref]
    if not ref.startswith("refs/"):
        candidates = [f"refs/remotes/origin/{ref}", f"refs/remotes/origin/tags/{ref}", ref]
    for candidate in candidates:
        done = _run(
            ["--git-dir", str(db), "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"]
        )
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def _has_commit(db: Path, commit: str) -> bool:
    done = _run(["--git-dir", str(db), "cat-file", "-e", f"{commit}^{{commit}}"])
    return done.returncode == 0


def _fetch(db: Path, url: GitUrl, refspecs: Sequence[str], *, what: str, offline: bool) -> None:
    remote = url.repository  # as messages show it: never with credentials
    # Offline, git may still fetch from a local repository (`file://`), as uv allows.
    extra = {"GIT_ALLOW_PROTOCOL": "file"} if offline else {}
    command = ["--git-dir", str(db), "fetch", "--force", "--update-head-ok", "--quiet"]
    done = _run([*command, url.fetch_url, *refspecs], extra)
    if done.returncode == 0:
        return
    if offline and "transport '" in done.stderr and "' not allowed" in done.stderr:
        raise GitFailure(
            f"failed to fetch {what} from `{remote}`",
            "Remote Git fetches are not allowed because network connectivity is disabled "
            "(i.e., with `--offline`)",
        )
    # git may echo the URL it was given: never show its credentials.
    shown = done.stderr.replace(url.fetch_url, remote).strip()
    raise GitFailure(f"failed to fetch {what} from `{remote}`", shown)


def _check_out(db: Path, commit: str, tree: Path, *, offline: bool) -> None:
    """Write a working copy at `commit` to `tree`, atomically (a temporary sibling, renamed).

    As uv does: a local clone of the database (hard links, no network), reset to the commit,
    then its submodules. The copy keeps its `.git`, which backends that take the version
    from git (setuptools-scm, hatch-vcs) read.
    """
    staging = tree.with_name(f".tmp-{commit}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    what = f"check out commit `{commit}`"
    try:
        _git(["clone", "--local", "--no-checkout", "--quiet", str(db), str(staging)], what=what)
        _git(["-C", str(staging), "reset", "--hard", "--quiet", commit], what=what)
        if (staging / ".gitmodules").is_file():
            extra = {"GIT_ALLOW_PROTOCOL": "file"} if offline else None
            command = ["-C", str(staging), "submodule", "update", "--init", "--recursive"]
            _git([*command, "--quiet"], what="update the submodules", extra=extra)
        staging.rename(tree)
    except OSError as exc:
        raise GitFailure(f"failed to {what}", str(exc)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _git(argv: list[str], *, what: str, extra: dict[str, str] | None = None) -> None:
    done = _run(argv, extra)
    if done.returncode != 0:
        raise GitFailure(f"failed to {what}", done.stderr.strip())


def _run(argv: list[str], extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *argv], capture_output=True, text=True, env=_environ(extra), check=False
        )
    except FileNotFoundError:
        raise FailureError(
            "Git executable not found",
            hint="Ensure that Git is installed and available on PATH",
        ) from None


def _environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    # Never prompt for credentials: a hidden prompt would hang the run.
    base = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    return {**os.environ, **base, **(extra or {})}
