"""The uv.lock model: byte-identical round trips of real uv 0.13.9 locks, semantic reading,
precise errors, and the comparison helpers of the freshness check."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pyrun.core.lock_compare import (
    metadata_difference,
    metadata_matches,
    requirement_from_pep508,
    requirement_sets_equal,
    requirements_equal,
)
from pyrun.core.lockfile import (
    Dependency,
    Lock,
    Package,
    PackageMetadata,
    Requirement,
    Source,
    Wheel,
    dumps,
    format_upload_time,
    loads,
)
from pyrun.errors import PyrunError

LOCKS = Path(__file__).parent / "data" / "locks"
FIXTURES = sorted(LOCKS.glob("*/*.lock"))

SIX_URL = (
    "https://files.invalid/packages/b7/ce/149a00dd41f10bc29e5921b496af8b574d8413afcd5e30dfa0ed46c2cc5e/"
    "six-1.17.0-py2.py3-none-any.whl"
)
SIX_HASH = "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"

MINIMAL = f"""\
version = 1
requires-python = ">=3.11"

[[package]]
name = "hand"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "six" }}]

[package.metadata]
requires-dist = [{{ name = "six", specifier = "==1.17.0" }}]

[[package]]
name = "six"
version = "1.17.0"
source = {{ registry = "https://index.invalid/simple" }}
wheels = [{{ url = "{SIX_URL}", hash = "{SIX_HASH}" }}]
"""

# The same lock: `six` first, inline-table keys reordered, other spacing, no hash.
MINIMAL_REORDERED = f"""\
requires-python = '>=3.11'
version = 1

[[package]]
source = {{registry="https://index.invalid/simple"}}
name = "six"
wheels = [ {{hash = "{SIX_HASH}", url = "{SIX_URL}"}} ]
version = "1.17.0"

[[package]]
version = "0.1.0"
name = "hand"
source = {{ virtual = "." }}
dependencies = [
  {{ name = "six" }}
]
unknown-key = "ignored"
[package.metadata]
requires-dist = [{{ specifier = "==1.17.0", name = "six" }}]
"""


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.parent.name)
def test_uv_locks_round_trip_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert dumps(loads(text)) == text


def test_fixtures_cover_the_shapes() -> None:
    names = {path.parent.name for path in FIXTURES}
    assert {"fork", "workspace", "script", "options", "manifest", "conflicts", "large"} <= names
    assert sum(path.stat().st_size for path in LOCKS.rglob("*")) < 2_000_000


def test_loads_models_the_fork_fixture() -> None:
    lock = loads((LOCKS / "fork" / "uv.lock").read_text())
    assert lock.revision == 5
    assert lock.resolution_markers == (
        "python_full_version >= '3.12'",
        "python_full_version < '3.12'",
    )
    assert [p.version for p in lock.find("iniconfig")] == ["1.1.1", "2.0.0"]
    root = lock.find("rich-demo")[0]
    assert root.source == Source(kind="virtual", value=".")
    iniconfig_edges = [d for d in root.dependencies if d.name == "iniconfig"]
    assert iniconfig_edges[0] == Dependency(
        name="iniconfig",
        version="1.1.1",
        source=Source(kind="registry", value="https://pypi.org/simple"),
        marker="python_full_version < '3.12'",
    )
    assert root.optional_dependencies["toml"][0].marker == "python_full_version < '3.11'"
    assert root.metadata.provides_extras == ("toml",)
    assert root.metadata.requires_dev == {"dev": (Requirement(name="packaging"),)}
    localpkg = next(r for r in root.metadata.requires_dist if r.name == "localpkg")
    assert localpkg.editable == "libs/localpkg"
    six = lock.find("six")[0]
    assert six.source.kind == "url"
    assert six.wheels[0].hash is not None


def test_loads_reads_dynamic_versions_options_and_paths() -> None:
    dynamic = loads((LOCKS / "dynamic" / "uv.lock").read_text())
    assert dynamic.find("dyn")[0].version is None
    options = loads((LOCKS / "options" / "uv.lock").read_text()).options
    assert options.resolution_mode == "lowest-direct"
    assert options.exclude_newer == "2025-06-01T00:00:00Z"
    relative = loads((LOCKS / "options-rel" / "uv.lock").read_text()).options
    assert relative.exclude_newer_span == "P1W"
    assert relative.exclude_newer_package["six"].timestamp == "2024-01-01T00:00:00Z"
    paths = loads((LOCKS / "paths" / "uv.lock").read_text())
    assert paths.find("six")[0].wheels == (
        Wheel(
            filename="six-1.16.0-py2.py3-none-any.whl",
            hash="sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
        ),
    )
    assert paths.find("localdir")[0].source == Source(kind="directory", value="vendor/localdir")


def test_script_lock_has_manifest_requirements() -> None:
    lock = loads((LOCKS / "script" / "s.py.lock").read_text())
    names = [r.name for r in lock.manifest.requirements]
    assert names == ["iniconfig", "rich"]
    assert lock.manifest.requirements[1].extras == ("jupyter",)


def test_minimal_lock_loads() -> None:
    lock = loads(MINIMAL)
    assert lock.revision == 0
    assert [p.name for p in lock.packages] == ["hand", "six"]
    assert lock.find("six")[0].sdist is None
    assert lock.find("six")[0].wheels[0].size is None


def test_reordered_lock_loads_to_an_equal_model() -> None:
    assert loads(MINIMAL_REORDERED) == loads(MINIMAL)


def test_minimal_lock_without_hash_is_valid() -> None:
    text = MINIMAL.replace(f', hash = "{SIX_HASH}"', "")
    assert loads(text).find("six")[0].wheels[0].hash is None


def test_dumps_writes_uv_layout_for_a_minimal_lock() -> None:
    text = dumps(loads(MINIMAL))
    assert text.startswith(
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "hand"\n'
    )
    assert 'dependencies = [\n    { name = "six" },\n]\n' in text
    assert 'requires-dist = [{ name = "six", specifier = "==1.17.0" }]\n' in text
    assert text.endswith(f'wheels = [\n    {{ url = "{SIX_URL}", hash = "{SIX_HASH}" }},\n]\n')
    assert dumps(loads(text)) == text


def test_dumps_sorts_packages_edges_and_requirements() -> None:
    lock = Lock(
        revision=5,
        requires_python=">=3.11",
        packages=(
            Package(name="zeta", version="1.0", source=Source(kind="registry", value="r")),
            Package(
                name="app",
                version="0.1.0",
                source=Source(kind="virtual", value="."),
                dependencies=(Dependency(name="zeta"), Dependency(name="alpha")),
                metadata=PackageMetadata(
                    requires_dist=(
                        Requirement(name="zeta", marker="extra == 'b'"),
                        Requirement(name="zeta", marker="extra == 'a'"),
                        Requirement(name="alpha"),
                    ),
                    provides_extras=("b", "a"),
                ),
            ),
            Package(name="alpha", version="2.0", source=Source(kind="registry", value="r")),
        ),
    )
    text = dumps(lock)
    assert [line for line in text.splitlines() if line.startswith("name = ")] == [
        'name = "alpha"',
        'name = "app"',
        'name = "zeta"',
    ]
    assert '    { name = "alpha" },\n    { name = "zeta" },\n' in text
    assert (
        'requires-dist = [\n    { name = "alpha" },\n'
        '    { name = "zeta", marker = "extra == \'a\'" },\n'
        '    { name = "zeta", marker = "extra == \'b\'" },\n]\n'
    ) in text
    assert 'provides-extras = ["b", "a"]\n' in text
    assert loads(text) == loads(dumps(loads(text)))


def test_dumps_escapes_strings_like_toml_edit() -> None:
    lock = Lock(
        requires_python=">=3.11",
        packages=(
            Package(name="a", version="1", source=Source(kind="path", value="C:\\wheels\\a.whl")),
            Package(name="b", version="1", source=Source(kind="directory", value='we"ird')),
        ),
    )
    text = dumps(lock)
    assert "source = { path = 'C:\\wheels\\a.whl' }\n" in text
    assert 'source = { directory = "we\\"ird" }\n' in text
    assert loads(text) == lock


def test_dumps_writes_revision_and_options() -> None:
    text = (LOCKS / "options-rel" / "uv.lock").read_text()
    assert "# This has no effect" in dumps(loads(text))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 10, 6, 22, 48, 38, 76000, tzinfo=UTC), "2026-10-06T22:48:38.076Z"),
        (datetime(2026, 10, 7, 12, 22, 59, 200999, tzinfo=UTC), "2026-10-07T12:22:59.2Z"),
        (datetime(2026, 11, 1, 11, 20, 7, 999, tzinfo=UTC), "2026-11-01T11:20:07Z"),
        (
            datetime(2026, 11, 1, 13, 20, 7, tzinfo=timezone(timedelta(hours=2))),
            "2026-11-01T11:20:07Z",
        ),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),  # naive: taken as UTC
        (datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "999-01-02T03:04:05.006Z"),  # strftime's
    ],
)
def test_format_upload_time(moment: datetime, expected: str) -> None:
    assert format_upload_time(moment) == expected


def _error(text: str) -> PyrunError:
    with pytest.raises(PyrunError) as info:
        loads(text, filename="uv.lock")
    return info.value


def test_unsupported_version_is_an_error() -> None:
    error = _error('version = 2\nrequires-python = ">=3.11"\n')
    assert error.message == "Failed to parse `uv.lock`"
    assert error.causes == ("unsupported lockfile schema version (v2, but only v1 is supported)",)


def test_bad_source_names_entry_and_field() -> None:
    packages = "".join(
        f'\n[[package]]\nname = "p{i}"\nversion = "1"\nsource = {{ registry = "r" }}\n'
        for i in range(3)
    )
    six = '\n[[package]]\nname = "six"\nsource = "pypi"\n'
    text = f'version = 1\nrequires-python = ">=3.11"\n{packages}{six}'
    assert _error(text).causes == (
        "package[3] (`six`): `source`: expected a table with one of "
        "registry, virtual, editable, directory, path, url, git",
    )


PKG_A = '[[package]]\nname = "a"\nsource = { registry = "r" }\n'


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (
            '[[package]]\nversion = "1"\nsource = { virtual = "." }\n',
            "package[0]: missing field `name`",
        ),
        ('[[package]]\nname = "a"\nversion = "1"\n', "package[0] (`a`): missing field `source`"),
        (
            PKG_A + 'wheels = [{ url = "u", size = "x" }]\n',
            "package[0] (`a`): `wheels[0]`: `size`: expected an integer",
        ),
        (
            PKG_A + 'dependencies = [{ version = "1" }]\n',
            "package[0] (`a`): `dependencies[0]`: missing field `name`",
        ),
        (
            PKG_A + "[package.metadata]\nrequires-dist = [{ name = 3 }]\n",
            "package[0] (`a`): `metadata`: `requires-dist[0]`: `name`: expected a string",
        ),
        # The fast readers of edges, requirements and string lists leave errors to the checks.
        (
            PKG_A + 'dependencies = [{ name = "b", extra = ["x", 1] }]\n',
            "package[0] (`a`): `dependencies[0]`: `extra[1]`: expected a string",
        ),
        (
            PKG_A + 'dependencies = [{ name = "b", marker = 1 }]\n',
            "package[0] (`a`): `dependencies[0]`: `marker`: expected a string",
        ),
        (
            PKG_A + '[package.metadata]\nrequires-dist = [{ name = "b", extras = "x" }]\n',
            "package[0] (`a`): `metadata`: `requires-dist[0]`: `extras`: expected an array",
        ),
        (
            PKG_A + '[package.metadata]\nrequires-dist = [{ name = "b", url = 2 }]\n',
            "package[0] (`a`): `metadata`: `requires-dist[0]`: `url`: expected a string",
        ),
        (
            PKG_A + 'resolution-markers = ["x", 2]\n',
            "package[0] (`a`): `resolution-markers[1]`: expected a string",
        ),
    ],
)
def test_malformed_entries_give_precise_causes(body: str, cause: str) -> None:
    text = f'version = 1\nrequires-python = ">=3.11"\n\n{body}'
    assert _error(text).causes == (cause,)


def test_unknown_requirement_keys_are_ignored_as_before() -> None:
    table = '{ name = "b", extras = ["x"], future = 1 }'
    body = f"{PKG_A}[package.metadata]\nrequires-dist = [{table}]\n"
    lock = loads(f'version = 1\nrequires-python = ">=3.11"\n\n{body}')
    (requirement,) = lock.packages[0].metadata.requires_dist
    assert (requirement.name, requirement.extras, requirement.url) == ("b", ("x",), None)


def test_missing_requires_python_and_bad_toml() -> None:
    assert _error("version = 1\n").causes == ("missing field `requires-python`",)
    assert _error("version = 1\n[[").causes[0].startswith("TOML parse error at line 2, column 3\n")


def test_loads_matches_tomllib_when_falling_back() -> None:
    # Escaped strings are outside the fast reader's subset; the result must not change.
    text = MINIMAL.replace('"hand"', '"h\\u0061nd"')
    assert tomllib.loads(text)["package"][0]["name"] == "hand"
    assert loads(text) == loads(MINIMAL)


def test_loads_a_large_lock_quickly() -> None:
    text = (LOCKS / "large" / "uv.lock").read_text()
    lock = loads(text)
    assert len(lock.packages) > 150
    # CPU time, best of three: a loaded shared machine descheduling the test is not slowness.
    # ~20-40 ms on the dev machine; the bound is generous.
    assert _best_cpu_seconds(lambda: loads(text)) < 0.25


def _best_cpu_seconds(work: Callable[[], object], runs: int = 3) -> float:
    timings = []
    for _ in range(runs):
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return min(timings)


# --- lock_compare -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "specifier"),
    [("b>=1,<3", ">=1,<3"), ("b<3, >=1", ">=1,<3"), ("b >=1.0, !=1.5, <3.0", ">=1.0,!=1.5,<3.0")],
)
def test_multiple_specifiers_are_joined_as_uv_0_13_writes_them(text: str, specifier: str) -> None:
    """uv 0.13.9 writes `specifier = ">=1,<3"` in `[package.metadata]`: sorted, no space."""
    assert requirement_from_pep508(text).specifier == specifier


def test_requirement_from_pep508_matches_uv_tables() -> None:
    lock = loads((LOCKS / "fork" / "uv.lock").read_text())
    locked = lock.find("rich-demo")[0].metadata.requires_dist
    declared = [
        requirement_from_pep508("iniconfig==1.1.1 ; python_version < '3.12'"),
        requirement_from_pep508("iniconfig==2.0.0 ; python_version >= '3.12'"),
        requirement_from_pep508("colorama ; sys_platform == 'win32'"),
        requirement_from_pep508(
            "pywin32 ; platform_system == 'Windows' and platform_machine == 'AMD64'"
        ),
        requirement_from_pep508(
            "exceptiongroup ; python_version < '3.11' or implementation_name == 'pypy'"
        ),
        requirement_from_pep508("tomli>=2 ; python_version < '3.11'", extra="toml"),
        requirement_from_pep508(f"six @ {locked[6].url}"),
        Requirement(name="localpkg", editable="libs/localpkg"),
    ]
    by_name = {(r.name, r.marker): r for r in locked}
    for req in declared:
        assert by_name[(req.name, req.marker)] == req
    assert requirement_sets_equal(declared, locked)


def test_requirements_compare_semantically() -> None:
    a = Requirement(name="Six_X", marker="python_version < '3.12'", specifier=">=1,<2")
    b = Requirement(name="six-x", marker="python_full_version < '3.12'", specifier="<2, >=1")
    assert requirements_equal(a, b)
    assert not requirements_equal(a, Requirement(name="six-x", specifier=">=1,<2"))
    assert not requirements_equal(
        Requirement(name="iniconfig", specifier=">=2"),
        Requirement(name="iniconfig", specifier=">=1"),
    )
    assert requirements_equal(
        Requirement(name="x", editable="./libs/x"), Requirement(name="x", editable="libs/x")
    )


def test_metadata_difference_names_the_field() -> None:
    locked = PackageMetadata(
        requires_dist=(Requirement(name="six"),),
        provides_extras=("a", "b"),
        requires_dev={"dev": (Requirement(name="pytest"),), "empty": ()},
    )
    same = PackageMetadata(
        requires_dist=(Requirement(name="Six"),),
        provides_extras=("a", "b"),
        requires_dev={"Dev": (Requirement(name="pytest"),), "empty": ()},
    )
    assert metadata_matches(same, locked)
    assert metadata_difference(PackageMetadata(), locked) == "requires-dist"
    extras_reordered = PackageMetadata(
        requires_dist=locked.requires_dist,
        provides_extras=("b", "a"),
        requires_dev=locked.requires_dev,
    )
    # uv 0.13.9 compares `provides-extras` as a set: reordering extras keeps the lock.
    assert metadata_difference(extras_reordered, locked) is None
    extra_added = extras_reordered._replace(provides_extras=("a", "b", "c"))
    assert metadata_difference(extra_added, locked) == "provides-extras"
    no_empty_group = PackageMetadata(
        requires_dist=locked.requires_dist,
        provides_extras=locked.provides_extras,
        requires_dev={"dev": (Requirement(name="pytest"),)},
    )
    assert metadata_difference(no_empty_group, locked) == "requires-dev"


def test_requirement_sort_key_covers_every_source_field_in_order() -> None:
    from pyrun.core.lockfile import _REQUIREMENT_SOURCE_KEYS, _requirement_key

    values = {key: f"{index}-{key}" for index, key in enumerate(_REQUIREMENT_SOURCE_KEYS)}
    key = _requirement_key(Requirement(name="a", **values))
    # The specifier is compared as uv compares it (`specifier-order` fixture), not as text.
    assert tuple(getattr(part, "_raw", part) for part in key[4]) == tuple(values.values())
    ranks = [
        _requirement_key(Requirement(name="a", **source))[3]
        for source in ({}, {"url": "u"}, {"git": "g"}, {"path": "p"}, {"editable": "e"})
    ]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
