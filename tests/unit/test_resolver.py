"""The universal resolver over an in-memory index (no network)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest
import trio

from pyrun.core.provider import CandidateInfo, group_files, resolve, wheel_fits_range
from pyrun.core.resolution import (
    Clash,
    Demand,
    Dependent,
    Edge,
    ForkStrategy,
    LocalPackage,
    NoSolutionError,
    Preference,
    PrereleaseMode,
    Resolution,
    ResolutionMode,
    ResolveRequest,
    Source,
)
from pyrun.core.universal import parse_marker, pyset_from_specifiers, render
from pyrun.errors import FailureError
from pyrun.net.resolve import resolve_async

Index = dict[str, dict[str, list[str]]]


@dataclass(frozen=True)
class File:
    filename: str
    requires_python: str | None = None
    yanked: object = False


@dataclass
class MemorySource:
    """`{name: {version: [requires-dist...]}}` plus per-version Requires-Python and yanks."""

    index: Index
    python: dict[tuple[str, str], str] = field(default_factory=dict)
    yanked: set[tuple[str, str]] = field(default_factory=set)
    requested: list[str] = field(default_factory=list)
    prefetched: list[str] = field(default_factory=list)

    def candidates(self, name: str) -> Sequence[CandidateInfo]:
        self.requested.append(name)
        infos = []
        for version in self.index.get(name, {}):
            rp = self.python.get((name, version))
            yanked = (name, version) in self.yanked
            wheel = File(f"{name}-{version}-py3-none-any.whl", rp, yanked)
            sdist = File(f"{name}-{version}.tar.gz", rp, yanked)
            infos.append(CandidateInfo.from_files(version, [wheel, sdist]))
        return infos

    def requires(self, name: str, version: str) -> Sequence[str]:
        return self.index[name][version]

    def requires_python(self, name: str, version: str) -> str | None:
        return self.python.get((name, version))

    def prefetch(self, names: Iterable[str]) -> None:
        self.prefetched.extend(names)


def project(*deps: str, groups: dict[str, tuple[str, ...]] | None = None) -> LocalPackage:
    return LocalPackage(
        name="proj",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        requires_dist=deps,
        dependency_groups=groups or {},
    )


def request(*deps: str, requires_python: str = ">=3.10", **options: object) -> ResolveRequest:
    groups = options.pop("groups", None)
    return ResolveRequest(
        requires_python=requires_python,
        members=(project(*deps, groups=groups),),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def versions(resolution: Resolution) -> dict[str, tuple[str | None, ...]]:
    """Resolved versions, the project itself left out."""
    result = resolution.versions()
    result.pop("proj", None)
    return result


INDEX: Index = {
    "a": {"1.0": ["b>=1"], "2.0": ["b>=2"]},
    "b": {"1.0": ["c"], "2.0": ["c<2"], "3.0": ["c>=5"]},
    "c": {"1.0": [], "1.5": [], "2.0": []},
}


def test_chain_picks_highest_compatible() -> None:
    result = resolve(request("a"), MemorySource(INDEX))
    # b 3.0 needs c>=5, which does not exist: backtrack to b 2.0.
    assert versions(result) == {"a": ("2.0",), "b": ("2.0",), "c": ("1.5",)}
    (proj,) = result.get("proj")
    assert proj.dependencies == (Edge(name="a"),)
    assert result.get("b")[0].dependencies == (Edge(name="c"),)
    assert result.forks == ()


def test_diamond() -> None:
    index: Index = {
        "left": {"1.0": ["c<2"]},
        "right": {"1.0": ["c>=1.5"]},
        "c": {"1.0": [], "1.5": [], "2.0": []},
    }
    result = resolve(request("left", "right"), MemorySource(index))
    assert versions(result) == {"left": ("1.0",), "right": ("1.0",), "c": ("1.5",)}


def test_registry_source_and_files() -> None:
    result = resolve(request("c"), MemorySource(INDEX))
    (c,) = result.get("c")
    assert c.source == Source(kind="registry", location="https://pypi.org/simple")
    assert [f.filename for f in c.files] == ["c-2.0-py3-none-any.whl", "c-2.0.tar.gz"]


def test_conflict_names_the_culprit() -> None:
    index: Index = {"foo": {"1.0": ["bar>=2"]}, "bar": {"1.0": [], "2.0": []}}
    with pytest.raises(FailureError) as info:
        resolve(request("foo==1.0", "bar<2"), MemorySource(index))
    error = info.value
    assert error.message == "No solution found when resolving dependencies"
    text = " ".join(error.causes)
    # foo's only version: uv says "all versions of foo".
    assert "all versions of foo depend on bar>=2" in text
    assert "your project depends on bar<2" in text
    assert "we can conclude that" in text


def test_the_failure_carries_the_conflict_it_is_rendered_from() -> None:
    index: Index = {"foo": {"1.0": ["bar>=2"]}, "bar": {"1.0": [], "2.0": []}}
    with pytest.raises(NoSolutionError) as info:
        resolve(request("foo==1.0", "bar<2"), MemorySource(index))
    conflict = info.value.conflict
    (clash,) = conflict.clashes
    assert isinstance(clash, Clash) and clash.package == "bar"
    assert [d.text() for d in clash.demands] == [
        "your project depends on bar<2",
        "all versions of foo depend on bar>=2",
    ]
    assert [ref.pinned for ref in clash.excluded] == ["foo==1.0"]
    assert [ref.label for ref in clash.excluded] == ["all versions of foo"]
    assert clash.required_by == Demand(dependent=Dependent(kind="project"), requirement="foo==1.0")
    assert conflict.versioned_names() == {"foo"}
    assert info.value.causes == conflict.causes()
    # A script's failure says whose dependencies they were, from the same data.
    relabelled = info.value.about("script")
    assert relabelled.message == "No solution found when resolving script dependencies"
    assert relabelled.causes == info.value.causes and relabelled.conflict is conflict


@pytest.mark.parametrize(
    ("wanted", "available"),
    [
        ("bar>=3", "only bar<=2.0 is available"),  # newer than any: uv leaves the bottom open
        ("bar>2.0", "only bar<=2.0 is available"),
        ("bar==3.*", "only bar<=2.0 is available"),
        ("bar<1.0", "only bar>=1.0 is available"),
        ("bar>1.0,<2.0", "only bar>=1.0,<=2.0 is available"),
    ],
)
def test_what_is_available_is_worded_as_uv_words_it(wanted: str, available: str) -> None:
    with pytest.raises(NoSolutionError) as info:
        resolve(request(wanted), MemorySource({"bar": {"1.0": [], "2.0": []}}))
    assert info.value.causes[0].startswith(f"Because {available} and ")


def test_missing_package_message() -> None:
    with pytest.raises(FailureError) as info:
        resolve(request("nope"), MemorySource({}))
    assert "nope was not found in the package registry" in info.value.causes[0]


def test_requested_python_in_message() -> None:
    source = MemorySource({"new": {"2.0": []}}, python={("new", "2.0"): ">=3.12"})
    with pytest.raises(FailureError) as info:
        resolve(request("new"), source)
    text = " ".join(info.value.causes)
    assert "the requested Python version (>=3.10) does not satisfy Python>=3.12" in text
    assert "new==2.0 depends on Python>=3.12" in text


def test_requires_python_filters_candidates() -> None:
    source = MemorySource(
        {"lib": {"1.0": [], "2.0": [], "3.0": []}},
        python={("lib", "3.0"): ">=3.12", ("lib", "2.0"): ">=3.9,<4"},
    )
    # As uv: the newest version needs Python 3.12, so the range splits there (the upper
    # part first) and the lower part takes the newest version its Python allows.
    result = resolve(request("lib"), source)
    assert result.forks == ("python_full_version >= '3.12'", "python_full_version < '3.12'")
    assert versions(result) == {"lib": ("2.0", "3.0")}
    fewest = resolve(request("lib", fork_strategy=ForkStrategy.FEWEST), source)
    assert versions(fewest) == {"lib": ("2.0",)}
    # The metadata of an excluded version is never fetched.
    assert versions(resolve(request("lib", requires_python=">=3.12"), source)) == {"lib": ("3.0",)}


def test_yanked_excluded_unless_pinned() -> None:
    source = MemorySource({"y": {"1.0": [], "2.0": []}}, yanked={("y", "2.0")})
    assert versions(resolve(request("y"), source)) == {"y": ("1.0",)}
    assert versions(resolve(request("y==2.0"), source)) == {"y": ("2.0",)}
    with pytest.raises(FailureError) as info:
        resolve(request("y>=2"), source)
    assert "y==2.0 was yanked" in info.value.causes[0]


def test_prerelease_rules() -> None:
    index: Index = {
        "p": {"1.0": [], "2.0b1": []},
        "only": {"1.0a1": []},
        "t": {"1.0": ["p>=2.0b1"]},
    }
    source = MemorySource(index)
    assert versions(resolve(request("p"), source)) == {"p": ("1.0",)}
    # Only pre-releases satisfy: used when necessary.
    assert versions(resolve(request("only"), source)) == {"only": ("1.0a1",)}
    assert versions(resolve(request("p>=2.0b1"), source)) == {"p": ("2.0b1",)}
    allow = request("p", prerelease=PrereleaseMode.ALLOW)
    assert versions(resolve(allow, source)) == {"p": ("2.0b1",)}
    with pytest.raises(FailureError):
        resolve(request("only", prerelease=PrereleaseMode.DISALLOW), source)
    # `explicit`: only first-party requirements that name a pre-release may use one.
    explicit = request("p>=2.0b1", prerelease=PrereleaseMode.EXPLICIT)
    assert versions(resolve(explicit, source)) == {"p": ("2.0b1",)}
    with pytest.raises(FailureError):
        resolve(request("t", prerelease=PrereleaseMode.EXPLICIT), source)


def test_preferences_and_upgrades() -> None:
    source = MemorySource(INDEX)
    locked = {"a": "1.0", "b": "1.0", "c": "1.0"}
    kept = resolve(request("a", preferences=locked), source)
    assert versions(kept) == {"a": ("1.0",), "b": ("1.0",), "c": ("1.0",)}
    everything = resolve(request("a", preferences=locked, upgrade=True), source)
    assert versions(everything) == {"a": ("2.0",), "b": ("2.0",), "c": ("1.5",)}
    one = resolve(request("a", preferences=locked, upgrade=frozenset({"c"})), source)
    assert versions(one) == {"a": ("1.0",), "b": ("1.0",), "c": ("2.0",)}
    # A preference outside the requirement's range is ignored.
    assert versions(resolve(request("c<2", preferences={"c": "2.0"}), source)) == {"c": ("1.5",)}


def test_extras_are_pinned_to_the_base_version() -> None:
    index: Index = {
        "rich": {"1.0": [], "2.0": ["pygments ; extra == 'syntax'", "six"]},
        "pygments": {"1.0": []},
        "six": {"1.0": []},
    }
    result = resolve(request("rich[syntax]"), MemorySource(index))
    assert versions(result) == {"rich": ("2.0",), "pygments": ("1.0",), "six": ("1.0",)}
    (rich,) = result.get("rich")
    assert rich.dependencies == (Edge(name="six"),)
    assert rich.optional_dependencies == {"syntax": (Edge(name="pygments"),)}
    assert result.get("proj")[0].dependencies == (Edge(name="rich", extras=("syntax",)),)


def test_member_extras_and_groups() -> None:
    member = LocalPackage(
        name="proj",
        version="0.1.0",
        source=Source(kind="editable", location="."),
        requires_dist=("six", "tomli>=2 ; python_version < '3.11' and extra == 'toml'"),
        provides_extras=("toml",),
        dependency_groups={"dev": ("packaging",)},
    )
    index: Index = {"six": {"1.0": []}, "tomli": {"2.0": []}, "packaging": {"24.0": []}}
    req = ResolveRequest(requires_python=">=3.10", members=(member,))
    result = resolve(req, MemorySource(index))
    (proj,) = result.get("proj")
    assert proj.source == Source(kind="editable", location=".")
    assert proj.dependencies == (Edge(name="six"),)
    marker = "python_full_version < '3.11'"
    assert proj.optional_dependencies == {"toml": (Edge(name="tomli", marker=marker),)}
    assert proj.dependency_groups == {"dev": (Edge(name="packaging"),)}


def test_workspace_members_depend_on_each_other() -> None:
    def member(name: str, *deps: str) -> LocalPackage:
        source = Source(kind="editable", location=f"packages/{name}")
        return LocalPackage(name=name, version="0.2.0", source=source, requires_dist=deps)

    req = ResolveRequest(
        requires_python=">=3.11",
        members=(member("root", "alpha"), member("alpha", "six"), member("beta", "c")),
    )
    result = resolve(req, MemorySource({**INDEX, "six": {"1.17.0": []}}))
    assert versions(result) == {
        "root": ("0.2.0",),
        "alpha": ("0.2.0",),
        "beta": ("0.2.0",),
        "six": ("1.17.0",),
        "c": ("2.0",),
    }
    assert result.get("root")[0].dependencies == (Edge(name="alpha"),)


def test_platform_markers_are_kept_on_edges() -> None:
    index: Index = {"colorama": {"0.4": []}, "uvloop": {"1.0": []}}
    deps = ("colorama ; sys_platform == 'win32'", "uvloop ; sys_platform != 'win32'")
    result = resolve(request(*deps), MemorySource(index))
    assert versions(result) == {"colorama": ("0.4",), "uvloop": ("1.0",)}
    assert result.get("proj")[0].dependencies == (
        Edge(name="colorama", marker="sys_platform == 'win32'"),
        Edge(name="uvloop", marker="sys_platform != 'win32'"),
    )


def test_markers_impossible_under_requires_python_are_dropped() -> None:
    index: Index = {"old": {"1.0": []}, "new": {"1.0": []}}
    deps = ("old ; python_version < '3.8'", "new ; python_version >= '3.8'")
    result = resolve(request(*deps, requires_python=">=3.11"), MemorySource(index))
    assert versions(result) == {"new": ("1.0",)}
    # `python_version >= '3.8'` always holds under `>=3.11`: no marker on the edge.
    assert result.get("proj")[0].dependencies == (Edge(name="new"),)


def test_fork_on_disjoint_python_markers() -> None:
    index: Index = {"iniconfig": {"1.1.1": [], "2.0.0": []}, "six": {"1.0": []}}
    deps = (
        "iniconfig==1.1.1 ; python_version < '3.12'",
        "iniconfig==2.0.0 ; python_version >= '3.12'",
        "six",
    )
    result = resolve(request(*deps), MemorySource(index))
    high, low = "python_full_version >= '3.12'", "python_full_version < '3.12'"
    assert result.forks == (high, low)
    old, new = result.get("iniconfig")
    assert (old.version, old.resolution_markers) == ("1.1.1", (low,))
    assert (new.version, new.resolution_markers) == ("2.0.0", (high,))
    assert result.get("six")[0].resolution_markers == ()
    assert result.get("proj")[0].dependencies == (
        Edge(name="iniconfig", version="1.1.1", marker=low),
        Edge(name="iniconfig", version="2.0.0", marker=high),
        Edge(name="six"),
    )


def test_fork_versions_propagate_as_preferences() -> None:
    # As uv: the fork solved first (linux) picks bbb 1.0; the darwin fork prefers it.
    index: Index = {"bbb": {"1.0": [], "2.0": []}}
    deps = ("bbb<2 ; sys_platform == 'linux'", "bbb ; sys_platform == 'darwin'")
    result = resolve(request(*deps), MemorySource(index))
    assert result.forks == (
        "sys_platform == 'linux'",
        "sys_platform == 'darwin'",
        "sys_platform != 'darwin' and sys_platform != 'linux'",
    )
    assert versions(result) == {"bbb": ("1.0",)}
    marker = "sys_platform == 'darwin' or sys_platform == 'linux'"
    assert result.get("proj")[0].dependencies == (Edge(name="bbb", marker=marker),)


def test_fork_when_a_marker_raises_the_minimum_python() -> None:
    index: Index = {"ddd": {"1.0": [], "2.0": []}}
    source = MemorySource(index, python={("ddd", "2.0"): ">=3.12"})
    result = resolve(request("ddd ; python_version >= '3.11'"), source)
    # The marker forks at 3.11, then ddd 2.0 (Python >= 3.12) splits the upper fork (as uv).
    assert result.forks == (
        "python_full_version >= '3.12'",
        "python_full_version == '3.11.*'",
        "python_full_version < '3.11'",
    )
    assert versions(result) == {"ddd": ("1.0", "2.0")}


def test_transitive_edges_in_forks_have_no_fork_marker() -> None:
    index: Index = {"bbb": {"1.0": ["ccc<2"], "2.0": ["ccc>=2"]}, "ccc": {"1.0": [], "2.0": []}}
    deps = ("bbb==1.0 ; python_version < '3.12'", "bbb==2.0 ; python_version >= '3.12'")
    result = resolve(request(*deps), MemorySource(index))
    old_bbb = result.get("bbb")[0]
    assert old_bbb.dependencies == (Edge(name="ccc", version="1.0"),)
    assert [p.resolution_markers for p in result.get("ccc")] == [
        ("python_full_version < '3.12'",),
        ("python_full_version >= '3.12'",),
    ]


def test_lowest_and_lowest_direct() -> None:
    source = MemorySource(INDEX)
    lowest = resolve(request("a", resolution=ResolutionMode.LOWEST), source)
    assert versions(lowest) == {"a": ("1.0",), "b": ("1.0",), "c": ("1.0",)}
    direct = resolve(request("a", resolution=ResolutionMode.LOWEST_DIRECT), source)
    assert versions(direct) == {"a": ("1.0",), "b": ("2.0",), "c": ("1.5",)}


def test_constraints_and_overrides() -> None:
    source = MemorySource(INDEX)
    constrained = resolve(request("a", constraints=("c<1.5", "b<9")), source)
    assert versions(constrained) == {"a": ("2.0",), "b": ("2.0",), "c": ("1.0",)}
    # Constraints never add packages.
    assert "zzz" not in versions(resolve(request("c", constraints=("zzz<1",)), source))
    # b 3.0 needs c>=5; the override replaces that with c>=1.
    overridden = resolve(request("a", overrides=("c>=1",)), source)
    assert versions(overridden) == {"a": ("2.0",), "b": ("3.0",), "c": ("2.0",)}


def test_script_requirements_without_members() -> None:
    req = ResolveRequest(requires_python=">=3.11", requirements=("a<2",))
    assert versions(resolve(req, MemorySource(INDEX))) == {
        "a": ("1.0",),
        "b": ("2.0",),
        "c": ("1.5",),
    }


def test_direct_url_package() -> None:
    url = "https://files.invalid/six-1.17.0-py2.py3-none-any.whl"
    six = LocalPackage(name="six", version="1.17.0", source=Source(kind="url", location=url))
    req = request(f"six @ {url}", local_packages=(six,))
    result = resolve(req, MemorySource({}))
    assert result.get("six")[0].source == Source(kind="url", location=url)


def test_prefetch_hints_name_dependencies() -> None:
    source = MemorySource(INDEX)
    resolve(request("a"), source)
    assert {"a", "b", "c"} <= set(source.prefetched)


def test_hundred_packages_resolve_quickly() -> None:
    index: Index = {}
    for i in range(100):
        deps = [f"pkg{j}>=1" for j in range(i + 1, min(i + 4, 100))]
        index[f"pkg{i}"] = {f"{v}.0": deps for v in range(1, 6)}
    # CPU time: a loaded shared machine descheduling the test is not slowness.
    start = time.process_time()
    result = resolve(request("pkg0"), MemorySource(index))
    assert time.process_time() - start < 1.0
    assert len(versions(result)) == 100


def test_wheel_tags_against_the_range() -> None:
    rp = pyset_from_specifiers(">=3.10")
    assert wheel_fits_range("x-1-cp310-cp310-manylinux_2_17_x86_64.whl", rp)
    assert wheel_fits_range("x-1-cp37-abi3-win_amd64.whl", rp)
    assert not wheel_fits_range("x-1-cp39-cp39-win_amd64.whl", rp)
    assert not wheel_fits_range("x-1-py2-none-any.whl", rp)
    assert not wheel_fits_range("x-1-cp312-cp312-win_amd64.whl", pyset_from_specifiers("<3.12"))
    # GraalPy's ABI names the Python it implements after its own version (uv drops these
    # under `~=3.13.0`: keboola's duckdb-transformation lock from scratch).
    graalpy = "x-1-graalpy312-graalpy250_312_native-manylinux2014_x86_64.whl"
    assert not wheel_fits_range(graalpy, pyset_from_specifiers(">=3.13.0, <3.14"))
    assert wheel_fits_range(graalpy, pyset_from_specifiers(">=3.10"))


def test_group_files_by_version() -> None:
    files = [File("six-1.0-py3-none-any.whl"), File("six-1.0.tar.gz"), File("six-2.0.tar.gz")]
    infos = group_files("six", files)
    assert [(i.version, len(i.files)) for i in infos] == [("1.0", 2), ("2.0", 1)]


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("python_version < '3.12'", "python_full_version < '3.12'"),
        ("python_version >= '3.8'", None),
        ("python_version == '3.11'", "python_full_version == '3.11.*'"),
        ("python_version != '3.11'", "python_full_version != '3.11.*'"),
        ("sys_platform == 'win32' and python_version < '3.12'", None),
    ],
)
def test_marker_rendering(marker: str, expected: str | None) -> None:
    rp = pyset_from_specifiers(">=3.10")
    if marker.startswith("sys_platform"):
        expected = "python_full_version < '3.12' and sys_platform == 'win32'"
    assert render(parse_marker(marker), rp) == expected


# --- The trio bridge ------------------------------------------------------------------------


class AsyncMemorySource:
    """An async source whose every fetch takes `delay` seconds; records overlap."""

    def __init__(self, sync: MemorySource, delay: float = 0.05, hang: str | None = None) -> None:
        self.sync = sync
        self.delay = delay
        self.hang = hang
        self.in_flight = 0
        self.max_in_flight = 0
        self.pages: list[str] = []

    async def _fetch(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await trio.sleep(self.delay)
        finally:
            self.in_flight -= 1

    async def async_candidates(self, name: str) -> Sequence[CandidateInfo]:
        if name == self.hang:
            await trio.sleep_forever()
        self.pages.append(name)
        await self._fetch()
        return self.sync.candidates(name)

    async def async_requires(self, name: str, version: str) -> Sequence[str]:
        await self._fetch()
        return self.sync.requires(name, version)

    async def async_requires_python(self, name: str, version: str) -> str | None:
        return self.sync.requires_python(name, version)


def test_bridge_prefetches_concurrently() -> None:
    fanout: Index = {f"dep{i}": {"1.0": []} for i in range(8)}
    index: Index = {"top": {"1.0": sorted(fanout)}, **fanout}
    source = AsyncMemorySource(MemorySource(index))

    async def main() -> Resolution:
        return await resolve_async(request("top"), source)

    start = time.perf_counter()
    result = trio.run(main)
    elapsed = time.perf_counter() - start
    assert len(versions(result)) == 9
    # The eight pages (and their metadata) were fetched together, not one after another.
    assert source.max_in_flight >= 8
    assert elapsed < 8 * 2 * source.delay
    assert sorted(source.pages) == sorted(index)  # each page fetched once


def test_bridge_raises_failures_plainly() -> None:
    source = AsyncMemorySource(MemorySource({}), delay=0)

    async def main() -> Resolution:
        return await resolve_async(request("missing"), source)

    with pytest.raises(FailureError, match="No solution found"):
        trio.run(main)


def test_bridge_cancellation_stops_the_resolver_thread() -> None:
    source = AsyncMemorySource(MemorySource(INDEX), hang="b")

    async def main() -> bool:
        with trio.move_on_after(0.3) as scope:
            await resolve_async(request("a"), source)
        return scope.cancelled_caught

    start = time.perf_counter()
    assert trio.run(main)
    assert time.perf_counter() - start < 2


def test_forks_inherit_decisions_made_before_the_split() -> None:
    # As uv (checked against uv 0.13.9): flask's requirements were added before click split
    # the range at 3.10, so the upper fork still resolves `imd` (marker `< '3.10'`), whose
    # newest version splits it again at 3.11; `imd` is only locked where it is reachable.
    index: Index = {
        "flask": {"1.0": ["click", "imd ; python_version < '3.10'"]},
        "click": {"1.0": [], "2.0": []},
        "imd": {"1.0": [], "2.0": []},
    }
    python = {("click", "2.0"): ">=3.10", ("imd", "2.0"): ">=3.11"}
    result = resolve(request("flask", requires_python=">=3.9"), MemorySource(index, python))
    assert result.forks == (
        "python_full_version >= '3.11'",
        "python_full_version == '3.10.*'",
        "python_full_version < '3.10'",
    )
    assert versions(result) == {"click": ("1.0", "2.0"), "flask": ("1.0",), "imd": ("1.0",)}
    flask = result.get("flask")[0]
    assert Edge(name="imd", marker="python_full_version < '3.10'") in flask.dependencies


def test_lock_forks_and_preferences_per_fork() -> None:
    index: Index = {"lib": {"1.0": [], "2.0": [], "3.0": [], "4.0": []}}
    low, high = "python_full_version < '3.12'", "python_full_version >= '3.12'"
    locked = (Preference(version="2.0", markers=(low,)), Preference(version="3.0", markers=(high,)))
    result = resolve(
        request("lib", forks=(high, low), preferences={"lib": locked}), MemorySource(index)
    )
    # The lock's forks are solved again, each preferring the version locked for it.
    assert result.forks == (high, low)
    assert [(p.version, p.resolution_markers) for p in result.get("lib")] == [
        ("2.0", (low,)),
        ("3.0", (high,)),
    ]
    # Preferences that match the fork equally are tried newest first (uv's `get_preferred`
    # sorts by version), as in a relock of a lock with conflict forks.
    plain = resolve(request("lib", preferences={"lib": ("2.0", "3.0")}), MemorySource(index))
    assert versions(plain) == {"lib": ("3.0",)}


def test_a_failing_fork_is_named_in_the_error() -> None:
    source = MemorySource({"new": {"2.0": []}}, python={("new", "2.0"): ">=3.12"})
    with pytest.raises(FailureError) as info:
        resolve(request("new"), source)
    # As uv 0.13.9 prints it (no colon after a split's name).
    assert info.value.message == (
        "No solution found when resolving dependencies for split (markers: "
        "python_full_version >= '3.10' and python_full_version < '3.12')"
    )


def test_a_dynamic_version_constrains_the_resolution_but_is_not_locked() -> None:
    """A tree whose version only its build knows: requirements on it are checked against the
    built version, and the lock leaves it out (as uv's)."""
    url = "file:///work/sdk"
    sdk = LocalPackage(
        name="sdk",
        version=None,
        dynamic_version="0.4.3",
        source=Source(kind="editable", location="sdk"),
    )
    index: Index = {"api": {"1.0": ["sdk>=0.3"], "2.0": ["sdk>=0.4.4"]}}
    req = request("api", f"sdk @ {url}", local_packages=(sdk,))
    result = resolve(req, MemorySource(index))
    assert versions(result) == {"api": ("1.0",), "sdk": (None,)}


@pytest.mark.parametrize(
    ("required", "reason"),
    [
        (">=0.4.4", "only sdk<0.4.4 is available"),
        (">0.4.3", "only sdk<=0.4.3 is available"),
        ("<0.4", "only sdk>=0.4 is available"),
        ("<=0.4.2", "only sdk>0.4.2 is available"),
        ("==0.4.4", "there is no version of sdk==0.4.4"),
        ("~=0.5", "only sdk==0.4.3 is available"),
    ],
)
def test_a_local_version_that_misses_a_requirement_is_the_reason_given(
    required: str, reason: str
) -> None:
    """uv knows no other version of a tree: what is available is what the requirement leaves
    out (`<0.4.4` for `>=0.4.4`), or none at all for `==`."""
    sdk = LocalPackage(name="sdk", version="0.4.3", source=Source(kind="editable", location="sdk"))
    index: Index = {"api": {"2.0": [f"sdk{required}"]}}
    req = request("api", "sdk @ file:///work/sdk", local_packages=(sdk,))
    with pytest.raises(FailureError) as info:
        resolve(req, MemorySource(index))
    assert info.value.causes[0].startswith(
        f"Because {reason} and all versions of api depend on sdk{required}, we can conclude "
        "that all versions of api cannot be used."
    )
