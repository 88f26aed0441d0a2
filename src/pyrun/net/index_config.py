"""Which indexes a run reads, in which order, and by which strategy (uv's).

Configuration only: the reading itself is `pyrun.net.index` (trio) or, for a lock that needs
nothing more, `pyrun.net.threaded_lock` (threads); both search as `searched_indexes` says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from pyrun.core.index import ProjectPage
from pyrun.core.records import Record
from pyrun.errors import PyrunError
from pyrun.net.urls import strip_credentials

DEFAULT_INDEX_URL = "https://pypi.org/simple"


class IndexStrategy(StrEnum):
    FIRST_INDEX = "first-index"
    UNSAFE_FIRST_MATCH = "unsafe-first-match"
    UNSAFE_BEST_MATCH = "unsafe-best-match"


# Records here are named tuples, not frozen dataclasses: Python 3.12 compiles each generated
# dataclass method separately (~0.5-1 ms per class at import, on every command that locks).
class IndexConfig(Record):
    """One `[[tool.uv.index]]` entry (or `--index`, `--default-index`, …)."""

    url: str
    name: str | None = None
    default: bool = False
    # Used only for packages pinned to it with `sources = { pkg = { index = "<name>" } }`.
    explicit: bool = False

    @property
    def key(self) -> str:
        """The URL without trailing slash or credentials: identity for dedupe and the cache."""
        return strip_credentials(self.url).rstrip("/")


class IndexPlan(Record):
    """The indexes of a run, already ordered (first the searched ones, default last)."""

    indexes: tuple[IndexConfig, ...]
    strategy: IndexStrategy = IndexStrategy.FIRST_INDEX
    pinned: Mapping[str, str] = {}


class IndexedPage(Record):
    index: IndexConfig  # type: ignore[assignment]  # hides `tuple.index`, which nothing calls
    page: ProjectPage


def order_indexes(
    configs: Sequence[IndexConfig], default_url: str, no_index: bool
) -> tuple[IndexConfig, ...]:
    """Configured indexes first (duplicates dropped, first wins), then the default index."""
    if no_index:
        return ()
    seen: set[str] = set()
    ordered: list[IndexConfig] = []
    default: IndexConfig | None = None
    for config in configs:
        if config.key in seen:
            continue
        seen.add(config.key)
        if config.default and default is None:
            default = config
        else:
            ordered.append(config)
    if default is None and default_url.rstrip("/") not in seen:
        default = IndexConfig(url=default_url, default=True)
    if default is not None:
        ordered.append(default)
    return tuple(ordered)


def named_index(indexes: Sequence[IndexConfig], name: str) -> IndexConfig:
    """The index called `name` (`sources = { pkg = { index = "name" } }`)."""
    for index in indexes:
        if index.name == name:
            return index
    known = ", ".join(f"`{i.name}`" for i in indexes if i.name) or "none"
    raise PyrunError(f"Index `{name}` is not defined (known indexes: {known})")


def searched_indexes(
    indexes: Sequence[IndexConfig], pinned: str | None = None
) -> tuple[IndexConfig, ...]:
    """The indexes searched for a package (pinned to index `pinned`, if given): explicit ones
    only for the packages pinned to them."""
    if pinned is not None:
        return (named_index(indexes, pinned),)
    return tuple(index for index in indexes if not index.explicit)
