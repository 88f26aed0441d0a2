"""Why a locked package is installed (`pyrun.core.derivation`): uv's chain, from a lock.

The lock is the shape uv 0.13.9 writes for `app` (virtual) depending on `gamma`, `omega` and
`zeta; sys_platform == 'win32'`, with extra `x = ["alpha"]` and group `dev = ["delta"]`;
`alpha`, `gamma` and `zeta` depend on `beta`, `omega` and `delta` on `alpha`. Each expected
hint is the one uv printed for that selection when `beta`'s (or `alpha`'s) wheel failed.
"""

from __future__ import annotations

from pyrun.commands.install_step import select_requirements
from pyrun.core.derivation import Step, format_chain, why_included
from pyrun.core.lockfile import Lock, Requirement, loads
from pyrun.core.selection import (
    DependencyOptions,
    GroupChoice,
    Selection,
    SyncTarget,
    select,
)
from tests.unit.test_selection import markers, priorities

DEPENDENCIES = {
    "alpha": ["beta"],
    "beta": [],
    "delta": ["alpha"],
    "gamma": ["beta"],
    "omega": ["alpha"],
    "zeta": ["beta"],
}
APP = """
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "gamma" },
    { name = "omega" },
    { name = "zeta", marker = "sys_platform == 'win32'" },
]

[package.optional-dependencies]
x = [
    { name = "alpha" },
]

[package.dev-dependencies]
dev = [
    { name = "delta" },
]
"""


def lock_text() -> str:
    text = 'version = 1\nrevision = 3\nrequires-python = ">=3.8"\n'
    for name, requires in DEPENDENCIES.items():
        text += (
            f'\n[[package]]\nname = "{name}"\nversion = "1.0.0"\n'
            'source = { registry = "https://i.test/simple" }\n'
        )
        if requires:
            text += "dependencies = [\n"
            text += "".join(f'    {{ name = "{dep}" }},\n' for dep in requires)
            text += "]\n"
        text += (
            f'wheels = [\n    {{ url = "https://i.test/{name}-1.0.0-py3-none-any.whl", '
            f'hash = "sha256:{"0" * 64}" }},\n]\n'
        )
        if name == "alpha":
            text += APP
    return text


def selection(
    *, extras: tuple[str, ...] = (), groups: tuple[str, ...] = ("dev",), only: bool = False
) -> tuple[Lock, Selection]:
    lock = loads(lock_text())
    chosen = select(
        lock,
        root="/work/app",
        target=SyncTarget(members=("app",)),
        groups=GroupChoice(groups=frozenset(groups), only=only),
        extras=frozenset(extras),
        options=DependencyOptions(),
        markers=markers(),
        tag_ranks=priorities(),
        member_names=("app",),
    )
    return lock, chosen


def why(name: str, **choice: object) -> str | None:
    lock, chosen = selection(**choice)  # type: ignore[arg-type]
    assert chosen.origins is not None
    (package,) = lock.find(name)
    found = why_included(chosen.origins, package)
    return found[0] if found else None


def test_the_shortest_chain_from_the_project():
    # `omega -> alpha -> beta` is longer; `zeta -> beta` does not hold on Linux.
    assert why("beta") == (
        "`beta` (v1.0.0) was included because `app` (v0.1.0) depends on `gamma` (v1.0.0) "
        "which depends on `beta`"
    )


def test_equally_short_chains_take_the_edge_uv_added_last():
    # With `x`, `alpha -> beta` is added after `gamma -> beta` and reached first, through the
    # extra rather than through `omega` or `delta`.
    assert why("beta", extras=("x",)) == (
        "`beta` (v1.0.0) was included because `app[x]` (v0.1.0) depends on `alpha` (v1.0.0) "
        "which depends on `beta`"
    )
    assert why("alpha", extras=("x",)) == (
        "`alpha` (v1.0.0) was included because `app[x]` (v0.1.0) depends on `alpha`"
    )


def test_a_group_alone_names_the_group():
    assert why("beta", only=True) == (
        "`beta` (v1.0.0) was included because `app:dev` (v0.1.0) depends on `delta` (v1.0.0) "
        "which depends on `alpha` (v1.0.0) which depends on `beta`"
    )


def test_an_unreached_package_has_no_chain():
    assert why("zeta") is None


def test_the_roots_own_requirements_have_no_chain_and_their_dependencies_one():
    # A script's (or `--with`'s) lock: requirements of the root itself.
    lock = loads(lock_text())
    lock = lock._replace(manifest=lock.manifest._replace(requirements=(Requirement("omega"),)))
    chosen = select_requirements(lock, root="/work/app", interpreter=_Linux())  # type: ignore[arg-type]
    assert chosen.origins is not None
    (omega,) = lock.find("omega")
    (beta,) = lock.find("beta")
    assert why_included(chosen.origins, omega) is None
    found = why_included(chosen.origins, beta)
    assert found is not None
    assert found[0] == (
        "`beta` (v1.0.0) was included because `omega` (v1.0.0) depends on `alpha` (v1.0.0) "
        "which depends on `beta`"
    )
    # uv's colours: every name and version in cyan.
    assert found[1].startswith("`\x1b[36mbeta\x1b[39m` (\x1b[36mv1.0.0\x1b[39m) was included")


class _Linux:
    """What `select_requirements` reads of an interpreter."""

    markers = markers()

    def tag_ranks(self) -> object:
        return priorities()


def test_format_without_versions_and_with_labels():
    chain = [Step("app", None, ("group", "docs")), Step("lib", "2.0", ("extra", "cli"))]
    assert format_chain("tool", None, chain) == (
        "`tool` was included because `app:docs` depends on `lib[cli]` (v2.0) which depends on "
        "`tool`"
    )
