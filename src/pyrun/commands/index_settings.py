"""Which package indexes a run uses (SPEC §1.3 "Index", §1.6 `index`), in uv's order.

Sources, highest precedence first: the command line (`--index`, `--extra-index-url`,
`--default-index`, `-i/--index-url`, each also a `PYRUN_*` variable), then the settings files and
the project's `[[tool.pyrun.index]]`/`[[tool.uv.index]]` tables (lists concatenate across layers,
SPEC §1.6). Within the command line uv puts `--index` before `--extra-index-url`, and treats
`--default-index`/`--index-url` as `default = true` entries. Only the first default counts; a
name used twice keeps its first definition. Without any default the public index is used, as uv
does; `--no-index` drops every index that is not explicit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from pyrun.core.records import Record
from pyrun.errors import PyrunError
from pyrun.options import IndexEntry, Settled

DEFAULT_INDEX_URL = "https://pypi.org/simple"


class IndexSettings(Record):
    """The indexes of a run, in search order, and how to search them.

    `entries` is what was configured (used by the lock freshness check: "are the lock's
    registries among the configured indexes?"); `configured` says whether the user configured
    any index at all, since uv only checks registry URLs then.
    """

    entries: tuple[IndexEntry, ...]
    no_index: bool = False
    strategy: str = "first-index"
    find_links: tuple[str, ...] = ()
    configured: bool = False

    @property
    def searched(self) -> tuple[IndexEntry, ...]:
        """Indexes in search order: configured ones, then the default index last."""
        if self.no_index:
            return tuple(e for e in self.entries if e.explicit)
        ordered = [e for e in self.entries if not e.default]
        default = next((e for e in self.entries if e.default), None)
        if default is None:
            default = IndexEntry(url=DEFAULT_INDEX_URL, default=True)
        return (*ordered, default)

    @property
    def index_urls(self) -> tuple[str, ...]:
        """The searched indexes' URLs but the default one's (`--index`, `[[tool.uv.index]]`)."""
        return tuple(e.url for e in self.searched if not e.default)

    @property
    def default_url(self) -> str:
        return next((e.url for e in self.searched if e.default), DEFAULT_INDEX_URL)

    def url_of(self, name: str) -> str:
        """The URL of the index called `name` (for `sources = { pkg = { index = "name" } }`)."""
        for entry in self.entries:
            if entry.name == name:
                return entry.url
        known = ", ".join(f"`{e.name}`" for e in self.entries if e.name) or "none"
        raise PyrunError(f"Index `{name}` is not defined (known indexes: {known})")

    def allowed_registries(self) -> frozenset[str]:
        """Registry URLs (no trailing slash) a lock may name without being stale."""
        return frozenset(registry_key(e.url) for e in self.searched)


def registry_key(url: str) -> str:
    """A registry URL as uv writes it in a lock: credentials and trailing slash removed."""
    return _without_userinfo(url.strip()).rstrip("/")


_SCHEME_START = "abcdefghijklmnopqrstuvwxyz"
_SCHEME_CHARS = _SCHEME_START + "0123456789+.-"


def _without_userinfo(text: str) -> str:
    """`text` with the `user:password@` after its `scheme://` removed, as
    `re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\\1", text)` (without loading `re` on the
    sync path, which reads every index URL of a run through here)."""
    colon = text.find(":")
    scheme = text[:colon]
    if colon < 1 or scheme[0] not in _SCHEME_START or not text.startswith("://", colon):
        return text
    if any(char not in _SCHEME_CHARS for char in scheme):
        return text
    authority = colon + 3
    stop = min(
        (at for at in (text.find("/", authority), text.find("@", authority)) if at != -1),
        default=-1,
    )
    if stop == -1 or text[stop] != "@":
        return text
    return text[:authority] + text[stop + 1 :]


def index_settings(settled: Settled) -> IndexSettings:
    """The indexes of a run, from the command line, variables and settings files."""
    index = settled.index
    configured = _dedupe([*index.cli_entries, *index.file_entries])
    entries = tuple(_with_env_credentials(e, os.environ) for e in configured)
    return IndexSettings(
        entries=entries,
        no_index=index.no_index,
        strategy=index.strategy,
        find_links=index.find_links,
        configured=bool(entries),
    )


def credential_variables(name: str) -> tuple[str, str]:
    """uv's `UV_INDEX_<NAME>_USERNAME`/`_PASSWORD` for an index called `name`, as pyrun spells
    them: the name upper-cased, every character other than a letter or digit an underscore."""
    key = "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)
    return f"PYRUN_INDEX_{key}_USERNAME", f"PYRUN_INDEX_{key}_PASSWORD"


def _with_env_credentials(entry: IndexEntry, environ: Mapping[str, str]) -> IndexEntry:
    """A named index's credentials from the environment, carried in its URL from here on (the
    HTTP client sends a URL's credentials to its host only, and nothing stores them)."""
    if not entry.name:
        return entry
    user_key, password_key = credential_variables(entry.name)
    user, password = environ.get(user_key), environ.get(password_key)
    if not user and not password:
        return entry
    from urllib.parse import quote, urlsplit, urlunsplit  # named indexes with credentials only

    parts = urlsplit(entry.url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(user if user else parts.username or "", safe="")
    password = quote(password if password else parts.password or "", safe="")
    netloc = f"{user}:{password}@{host}" if password else f"{user}@{host}"
    return IndexEntry(
        url=urlunsplit(parts._replace(netloc=netloc)),
        name=entry.name,
        default=entry.default,
        explicit=entry.explicit,
    )


def _dedupe(entries: Sequence[IndexEntry]) -> tuple[IndexEntry, ...]:
    """First definition wins: per name, per URL, and for `default = true`."""
    seen_names: set[str] = set()
    seen_urls: set[str] = set()
    has_default = False
    kept: list[IndexEntry] = []
    for entry in entries:
        key = registry_key(entry.url)
        if (entry.name and entry.name in seen_names) or key in seen_urls:
            continue
        if entry.default and has_default:
            continue
        has_default = has_default or entry.default
        seen_urls.add(key)
        if entry.name:
            seen_names.add(entry.name)
        kept.append(entry)
    return tuple(kept)
