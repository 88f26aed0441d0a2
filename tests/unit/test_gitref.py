"""Git source URLs: parsing the three spellings and writing the lock's strings as uv does."""

from __future__ import annotations

import pytest

from pyrun.core.gitref import (
    GitRef,
    GitUrl,
    canonical_repository,
    parse_direct,
    parse_locked,
    parse_source_table,
)
from pyrun.errors import PyrunError

SHA = "7fc59da2c4dff919db2095a0f0e47101b657131d"


@pytest.mark.parametrize(
    ("url", "repository", "ref", "subdirectory"),
    [
        ("git+https://github.com/o/r", "https://github.com/o/r", GitRef("default"), None),
        (
            "git+https://github.com/o/r.git@v1",
            "https://github.com/o/r.git",
            GitRef("rev", "v1"),
            None,
        ),
        (
            "git+https://github.com/o/r@main#subdirectory=libs/x&egg=x",
            "https://github.com/o/r",
            GitRef("rev", "main"),
            "libs/x",
        ),
        ("git+https://user:token@host/o/r@v1", "https://host/o/r", GitRef("rev", "v1"), None),
        ("git+ssh://git@github.com/o/r@v2", "ssh://git@github.com/o/r", GitRef("rev", "v2"), None),
        ("git+file:///srv/repo@feature/x", "file:///srv/repo", GitRef("rev", "feature/x"), None),
    ],
)
def test_parse_direct(url: str, repository: str, ref: GitRef, subdirectory: str | None) -> None:
    parsed = parse_direct(url)
    assert (parsed.repository, parsed.ref, parsed.subdirectory) == (repository, ref, subdirectory)


@pytest.mark.parametrize(
    "url",
    [
        "https://host/r",
        "git+ftp://host/r",
        "git+https://host/r@",
        "git+https://h:x/r",
        "git+ssh://git@h:x/r",
        "git+https://[::1/r",
    ],
)
def test_parse_direct_rejects(url: str) -> None:
    with pytest.raises(PyrunError, match="Invalid URL"):
        parse_direct(url)


def test_requirement_and_locked_urls_follow_uv() -> None:
    url = GitUrl(
        repository="https://github.com/o/r", ref=GitRef("branch", "main"), subdirectory="a/b c"
    )
    # Subdirectory first, then the reference; form-encoded as uv's URL library does.
    assert url.requirement_url() == "https://github.com/o/r?subdirectory=a%2Fb+c&branch=main"
    assert url.locked_url(SHA).endswith(f"&branch=main#{SHA}")
    assert GitUrl(repository="https://h/r").locked_url(SHA) == f"https://h/r#{SHA}"
    pinned = parse_direct(f"git+https://github.com/o/r.git@{SHA}")
    assert pinned.locked_url(SHA) == f"https://github.com/o/r.git?rev={SHA}#{SHA}"


def test_parse_locked_round_trips() -> None:
    url = GitUrl(repository="file:///srv/r", ref=GitRef("tag", "v1.0"), subdirectory="x/y")
    assert parse_locked(url.locked_url(SHA)) == (url, SHA)
    assert parse_locked("https://h/r") == (GitUrl(repository="https://h/r"), None)


def test_source_table() -> None:
    url = parse_source_table("x", {"git": "https://h/r", "tag": "v1", "subdirectory": "pkg"})
    assert url.requirement_url() == "https://h/r?subdirectory=pkg&tag=v1"
    assert parse_source_table("x", {"git": "https://h/r"}).ref == GitRef("default")


def test_source_table_with_two_references_is_rejected() -> None:
    with pytest.raises(PyrunError) as caught:
        parse_source_table("x", {"git": "https://h/r", "tag": "v1", "branch": "main"})
    assert caught.value.causes == ("expected at most one of `rev`, `tag`, or `branch`",)


def test_pinned_commit_and_messages() -> None:
    assert GitRef("rev", SHA.upper()).pinned_commit == SHA
    assert GitRef("rev", SHA[:12]).pinned_commit is None
    assert GitRef("tag", SHA).pinned_commit is None
    url = GitUrl(repository="https://h/r", ref=GitRef("tag", "v1"), subdirectory="s")
    assert url.pep508() == "git+https://h/r@v1#subdirectory=s"
    assert url.pinned_pep508(SHA) == f"git+https://h/r@{SHA}#subdirectory=s"
    assert url.direct_url(SHA) == {
        "url": "https://h/r",
        "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "v1"},
        "subdirectory": "s",
    }


def test_one_cache_entry_per_repository() -> None:
    assert canonical_repository("https://GitHub.com/o/r.git/") == "https://github.com/o/r"
    first = parse_direct("git+https://github.com/o/r.git@v1")
    second = parse_source_table("r", {"git": "https://github.com/o/r", "branch": "main"})
    assert first.cache_key == second.cache_key
    assert first.cache_key != parse_direct("git+https://github.com/o/other").cache_key


def test_credentials_fetch_but_never_reach_the_lock() -> None:
    url = parse_direct("git+https://user:s3cret@host/o/r@v1")
    assert url.fetch_url == "https://user:s3cret@host/o/r"
    assert "s3cret" not in url.requirement_url() + url.locked_url(SHA) + url.pep508()
    passed_on = url.requirement_url(credentials=True)
    assert passed_on == "https://user:s3cret@host/o/r?rev=v1"
    again, _ = parse_locked(passed_on)
    assert (again, again.fetch_url) == (url, url.fetch_url)


def test_lfs_sources_are_refused_clearly() -> None:
    with pytest.raises(PyrunError, match="Git LFS"):
        parse_source_table("x", {"git": "https://h/r", "lfs": True})


def test_http_urls_are_written_as_uv_writes_them() -> None:
    url = parse_direct("git+HTTPS://User:Tok@GitHub.COM:443/O/R@v1")
    assert (url.repository, url.credentials) == ("https://github.com/O/R", "User:Tok")
    assert parse_direct("git+http://LocalHost:8080/r").repository == "http://localhost:8080/r"
    assert parse_source_table("x", {"git": "https://h"}).repository == "https://h/"
