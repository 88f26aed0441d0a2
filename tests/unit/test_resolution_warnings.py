"""`pyrun.core.resolution_warnings`: which resolved packages uv warns about, and the words."""

from __future__ import annotations

from typing import NamedTuple

from pyrun.core.resolution import Resolution, ResolvedPackage, Source
from pyrun.core.resolution_warnings import resolution_warnings

REGISTRY = Source(kind="registry", location="https://pypi.org/simple")


class File(NamedTuple):
    filename: str
    yanked: bool | str = False


def package(name: str, *files: File, extras: tuple[str, ...] = (), source: Source = REGISTRY):
    return ResolvedPackage(
        name=name,
        version="1.0",
        source=source,
        files=files,
        optional_dependencies={extra: () for extra in extras},
    )


def warn(*packages: ResolvedPackage, provided: dict[str, tuple[str, ...]] | None = None):
    known = provided or {}
    return resolution_warnings(
        Resolution(packages=packages),
        lambda name, version: known.get(name, ()),
        {"loc": ("real",)},
        "/w",
    )


def test_a_version_is_yanked_only_when_every_file_is() -> None:
    partly = package("a", File("a-1.0.tar.gz", "bad"), File("a-1.0-py3-none-any.whl"))
    wholly = package("b", File("b-1.0.tar.gz", "bad"), File("b-1.0-py3-none-any.whl", "worse"))
    silent = package("c", File("c-1.0.tar.gz", True))
    assert warn(partly, wholly, silent) == (
        '`b==1.0` is yanked (reason: "bad")',
        "`c==1.0` is yanked",
    )


def test_an_extra_is_checked_against_the_declared_ones_normalised() -> None:
    found = warn(package("a", extras=("Real_One", "nosuch")), provided={"a": ("real-one",)})
    assert found == ("The package `a==1.0` does not have an extra named `nosuch`",)


def test_a_local_project_is_named_by_its_file_url() -> None:
    local = Source(kind="directory", location="libs/loc")
    found = warn(package("loc", File("x", "yanked?"), extras=("real", "gone"), source=local))
    assert found == ("The package `loc @ file:///w/libs/loc` does not have an extra named `gone`",)


def test_unread_metadata_says_nothing_and_repeats_are_dropped() -> None:
    unread = resolution_warnings(
        Resolution(packages=(package("a", extras=("x",)),) * 2),
        lambda name, version: None,
        {},
        "/w",
    )
    assert unread == ()
