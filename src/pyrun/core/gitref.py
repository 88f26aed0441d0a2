"""Git source URLs as uv 0.13.9 writes and reads them (no I/O here).

Three spellings name one git source:

- a PEP 508 direct URL: `name @ git+https://host/repo.git@ref#subdirectory=sub`, where a
  `@ref` is a branch, tag or commit (uv's "rev");
- a `[tool.uv.sources]` table: `{ git = "https://host/repo", tag = "v1", subdirectory = "sub" }`
  with at most one of `rev`, `tag` and `branch`;
- the lock's URL: the repository without credentials, the subdirectory and the reference in
  the query (`?subdirectory=sub&tag=v1`) and, for a package's `source`, the commit as fragment.

`GitUrl` is the parsed form; `requirement_url` and `locked_url` write the lock's strings
byte for byte, `parse_locked` reads them back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit, urlunsplit

from pyrun.core.records import Record
from pyrun.errors import PyrunError

__all__ = [
    "GitRef",
    "GitUrl",
    "is_commit",
    "parse_direct",
    "parse_locked",
    "parse_source_table",
]

RefKind = Literal["branch", "tag", "rev", "default"]

_COMMIT = re.compile(r"[0-9a-fA-F]{40}")
_SCHEMES = ("https", "http", "ssh", "file", "git")


def is_commit(text: str) -> bool:
    """A full (SHA-1) commit id: the only reference that never moves."""
    return bool(_COMMIT.fullmatch(text))


class GitRef(Record):
    """What a requirement asks for: a `branch`, a `tag`, a `rev` (branch, tag or commit, as
    a PEP 508 `@ref` is), or the repository's default branch."""

    kind: RefKind
    value: str = ""

    @property
    def pinned_commit(self) -> str | None:
        """The commit a `rev` names outright (no lookup needed)."""
        return self.value.lower() if self.kind == "rev" and is_commit(self.value) else None

    def display(self) -> str:
        """As uv prints it in `Updating <url> (<ref>)`."""
        return self.value if self.kind != "default" else "HEAD"


DEFAULT_REF = GitRef("default")


@dataclass(frozen=True, kw_only=True)
class GitUrl:
    """A git source: `repository` is the URL without `git+`, credentials, query or fragment."""

    repository: str
    ref: GitRef = DEFAULT_REF
    subdirectory: str | None = None
    # `user:token@` as written, used to fetch but never written to the lock (uv strips it).
    credentials: str = field(default="", compare=False, repr=False)

    @property
    def fetch_url(self) -> str:
        """The repository with its credentials, for `git fetch`."""
        if not self.credentials:
            return self.repository
        parts = urlsplit(self.repository)
        return urlunsplit(parts._replace(netloc=f"{self.credentials}@{parts.netloc}"))

    def requirement_url(self, *, credentials: bool = False) -> str:
        """The lock's `git = …` of a requirement table: `repo?subdirectory=…&tag=…` (with the
        credentials only for passing the source on in memory, never for the lock)."""
        pairs: list[tuple[str, str]] = []
        if self.subdirectory:
            pairs.append(("subdirectory", self.subdirectory))
        if self.ref.kind != "default":
            pairs.append((self.ref.kind, self.ref.value))
        query = "&".join(f"{_form(k)}={_form(v)}" for k, v in pairs)
        repository = self.fetch_url if credentials else self.repository
        return f"{repository}?{query}" if query else repository

    def locked_url(self, commit: str) -> str:
        """The lock's `source = { git = … }`: the requirement URL with `#<commit>`."""
        return f"{self.requirement_url()}#{commit}"

    def pep508(self) -> str:
        """`git+<repo>@<ref>#subdirectory=…`, as uv names the source in messages."""
        text = f"git+{self.repository}"
        if self.ref.kind != "default":
            text += f"@{self.ref.value}"
        if self.subdirectory:
            text += f"#subdirectory={self.subdirectory}"
        return text

    def pinned_pep508(self, commit: str) -> str:
        """`git+<repo>@<commit>#subdirectory=…`: an installed copy's origin, as uv shows it."""
        return GitUrl(
            repository=self.repository, ref=GitRef("rev", commit), subdirectory=self.subdirectory
        ).pep508()

    def direct_url(self, commit: str) -> dict[str, Any]:
        """PEP 610 `direct_url.json` of a distribution built from `commit`, as uv writes it."""
        vcs: dict[str, Any] = {"vcs": "git", "commit_id": commit}
        if self.ref.kind != "default":
            vcs["requested_revision"] = self.ref.value
        data: dict[str, Any] = {"url": self.repository, "vcs_info": vcs}
        if self.subdirectory:
            data["subdirectory"] = self.subdirectory
        return data

    @property
    def cache_key(self) -> str:
        """The git cache's name for the repository: one fetch serves every ref and subdir."""
        return hashlib.sha256(canonical_repository(self.repository).encode()).hexdigest()[:16]


def canonical_repository(url: str) -> str:
    """The repository's identity: scheme and host lower-cased, no credentials, no trailing
    `/` or `.git` (so `…/repo.git` and `…/repo/` share one cache entry, as in uv)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = parts.path.rstrip("/").removesuffix(".git")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def parse_direct(url: str) -> GitUrl:
    """A PEP 508 `git+…` URL (the `git+` prefix required); raises `PyrunError` if invalid."""
    if not url.startswith("git+"):
        raise PyrunError(f"Invalid URL: `{url}`", causes=("a git URL must start with `git+`",))
    rest, _, fragment = url[len("git+") :].partition("#")
    parts = _split(url, rest)
    _check_scheme(url, parts.scheme)
    path, ref = parts.path, GitRef("default")
    if "@" in path:
        path, _, value = path.rpartition("@")
        if not value:
            raise PyrunError(f"Invalid URL: `{url}`", causes=("the git reference is empty",))
        ref = GitRef("rev", unquote(value))
    subdirectory = dict(parse_qsl(fragment)).get("subdirectory") or None
    repository, credentials = _split_credentials(urlunsplit(parts._replace(path=path, fragment="")))
    return GitUrl(
        repository=repository, ref=ref, subdirectory=subdirectory, credentials=credentials
    )


def parse_source_table(name: str, entry: Mapping[str, Any]) -> GitUrl:
    """A `[tool.uv.sources]` git table, validated as uv does."""
    url = str(entry["git"])
    given = [key for key in ("rev", "tag", "branch") if key in entry]
    if len(given) > 1:
        raise PyrunError(
            f"Failed to parse entry `{name}` in `tool.uv.sources`",
            causes=("expected at most one of `rev`, `tag`, or `branch`",),
        )
    for key in (*given, "subdirectory"):
        if key in entry and not isinstance(entry[key], str):
            raise PyrunError(
                f"Failed to parse entry `{name}` in `tool.uv.sources`",
                causes=(f"`{key}` must be a string",),
            )
    if entry.get("lfs") is True:
        raise PyrunError(
            f"Failed to lock `{name}`: Git LFS sources (`lfs = true`) are not supported by pyrun",
            hint="Remove `lfs = true`, or lock this project with uv",
        )
    if url.startswith("git+"):
        url = url[len("git+") :]
    parts = _split(url, url)
    _check_scheme(url, parts.scheme)
    ref = GitRef(given[0], entry[given[0]]) if given else GitRef("default")  # type: ignore[arg-type]
    subdirectory = entry.get("subdirectory") or None
    repository, credentials = _split_credentials(urlunsplit(parts._replace(query="", fragment="")))
    return GitUrl(
        repository=repository, ref=ref, subdirectory=subdirectory, credentials=credentials
    )


def parse_locked(value: str) -> tuple[GitUrl, str | None]:
    """A lock's git URL (`repo?query#commit`) as a `GitUrl` and its commit, if any."""
    base, _, commit = value.partition("#")
    written, _, query = base.partition("?")
    repository, credentials = _split_credentials(written)
    ref, subdirectory = GitRef("default"), None
    for key, item in parse_qsl(query):
        if key in ("branch", "tag", "rev"):
            ref = GitRef(key, item)  # type: ignore[arg-type]
        elif key == "subdirectory":
            subdirectory = item
    url = GitUrl(repository=repository, ref=ref, subdirectory=subdirectory, credentials=credentials)
    return url, commit or None


def _split(written: str, url: str) -> SplitResult:
    """`urlsplit`, with a malformed host or port an error naming the URL as `written`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily: a bad port only raises when read
    except ValueError as exc:
        raise PyrunError(f"Invalid URL: `{written}`", causes=(str(exc),)) from None
    return parts


def _check_scheme(url: str, scheme: str) -> None:
    if scheme not in _SCHEMES:
        raise PyrunError(
            f"Invalid URL: `{url}`",
            causes=(f"unsupported git URL scheme `{scheme or '(none)'}`",),
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split_credentials(url: str) -> tuple[str, str]:
    """The URL without `user:password@`, and that part (empty when there is none); an
    `http(s)` host lower-cased and its default port dropped, as uv's URL parser writes it."""
    parts = urlsplit(url)
    if parts.scheme in _DEFAULT_PORTS and parts.hostname:
        userinfo = parts.netloc.rpartition("@")[0]
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        try:
            port = parts.port
        except ValueError as exc:
            raise PyrunError(f"Invalid URL: `{url}`", causes=(str(exc),)) from None
        if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
            host += f":{port}"
        netloc = f"{userinfo}@{host}" if userinfo else host
        parts = parts._replace(netloc=netloc, path=parts.path or "/")
        url = urlunsplit(parts)
    # `ssh://git@host/…`: the user is part of the address, not a secret (uv keeps it too).
    if "@" not in parts.netloc or parts.scheme == "ssh":
        return url, ""
    credentials, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=host)), credentials


def _form(text: str) -> str:
    """`application/x-www-form-urlencoded`, as uv's URL library encodes query pairs."""
    return quote(text, safe="*-._ ").replace(" ", "+").replace("~", "%7E")
