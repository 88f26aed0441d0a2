"""`[tool.uv] conflicts`: parsing and validation, the install-time check, and the conflict
markers of the universal resolution (`pyrun.core.conflicts`, `pyrun.core.universal_conflicts`)."""

from __future__ import annotations

import pytest

from pyrun.core.conflicts import (
    conflict_error,
    encode,
    installed_members,
    parse_conflicts,
    workspace_conflicts,
)
from pyrun.core.lockfile import ConflictItem
from pyrun.core.project import ProjectFile, parse_project_file
from pyrun.core.universal import (
    FALSE,
    TRUE,
    assign_conflicts,
    conflict_dnf,
    covers,
    dnf_and,
    dnf_not,
    dnf_or,
    is_disjoint,
    parse_marker,
    pyset_from_specifiers,
    python_dnf,
    render,
    uv_marker,
    without_conflicts,
)
from pyrun.core.universal_conflicts import (
    Activation,
    canonical_fork_markers,
    clash,
    extra_item,
    group_item,
    imbibe,
    simplify_with_inferences,
    split_conflicts,
    widen,
)
from pyrun.errors import PyrunError
from tests.unit.test_conflict_world import world

X1, X2 = "extra-4-proj-x1", "extra-4-proj-x2"
G = "group-4-proj-g"
PY = pyset_from_specifiers(">=3.10")


def extra(name: str, package: str = "proj") -> ConflictItem:
    return ConflictItem(package=package, extra=name)


def group(name: str, package: str = "proj") -> ConflictItem:
    return ConflictItem(package=package, group=name)


def on(item: str) -> tuple:
    return conflict_dnf(item, True)


def off(item: str) -> tuple:
    return conflict_dnf(item, False)


# -- parsing -----------------------------------------------------------------------------------


def test_items_belong_to_the_declaring_project_and_sort_as_uv_does() -> None:
    sets = parse_conflicts(
        [[{"group": "Dev_Tools"}, {"extra": "CPU"}, {"package": "Other", "extra": "x"}]],
        "proj",
        "pyproject.toml",
    )
    # By package, then extras before groups; names normalized.
    assert sets == ((extra("x", "other"), extra("cpu"), group("dev-tools")),)


@pytest.mark.parametrize(
    ("value", "place", "reason"),
    [
        ("x", "`tool.uv.conflicts`", "expected a list, found a string"),
        ([{"extra": "a"}], "`tool.uv.conflicts[0]`", "expected a list, found a table"),
        (
            [[{"extra": "a"}]],
            "`tool.uv.conflicts[0]`",
            "Each set of conflicts must have at least two entries, but found only one",
        ),
        (
            [[{"extra": "a"}, {"extra": "A"}]],
            "`tool.uv.conflicts[0]`",
            "Each set of conflicts must have at least two entries, but found only one",
        ),
        (
            [[]],
            "`tool.uv.conflicts[0]`",
            "Each set of conflicts must have at least two entries, but found none",
        ),
        (
            [[{"extra": "a", "group": "b"}, {"extra": "c"}]],
            "`tool.uv.conflicts[0][0]`",
            "Expected one of `extra` or `group` in conflicting entry, but found both",
        ),
        (
            [[{"extra": "a"}, {}]],
            "`tool.uv.conflicts[0][1]`",
            "Expected `package`, `extra` or `group` field in conflicting entry",
        ),
        (
            [[{"extra": "a", "foo": "b"}, {"extra": "c"}]],
            "`tool.uv.conflicts[0][0]`",
            "unknown field `foo`, expected one of `package`, `extra`, `group`",
        ),
        (
            [[{"extra": 1}, {"extra": "c"}]],
            "`tool.uv.conflicts[0][0]`",
            "`extra` must be a string, found an integer",
        ),
    ],
)
def test_invalid_conflicts_are_parse_errors(value: object, place: str, reason: str) -> None:
    with pytest.raises(PyrunError) as info:
        parse_conflicts(value, "proj", "app/pyproject.toml")
    assert info.value.message == "Failed to parse: `app/pyproject.toml`"
    assert info.value.causes == (f"{place}: {reason}",)
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([[{"group": "docs", "name": "colorama"}, {"extra": "b"}]], "unknown field `name`"),
        ([[{"extra": 1}, {"extra": "c"}]], "`extra` must be a string"),
        ("x", "expected a list"),
    ],
)
def test_a_conflict_entry_uv_cannot_read_fails_when_the_file_is_read(
    value: object, reason: str
) -> None:
    # NeMo-Run's `{ group = "docs", name = "colorama" }`: uv refuses the file itself, so
    # every command fails on it (pyrun's `export --frozen` went on without a look at it).
    data = {"project": {"name": "app"}, "tool": {"uv": {"conflicts": value}}}
    with pytest.raises(PyrunError) as info:
        parse_project_file(data, "/app", "pyproject.toml")
    assert info.value.message == "Failed to parse: `pyproject.toml`"
    assert reason in info.value.causes[0]


def test_a_virtual_root_must_name_the_package() -> None:
    with pytest.raises(PyrunError) as info:
        parse_conflicts([[{"extra": "a"}, {"extra": "b"}]], None, "pyproject.toml")
    assert info.value.causes == (
        '`tool.uv.conflicts[0][0]`: Expected `package` field in conflicting entry: { extra = "a" }',
    )


def test_workspace_sets_come_root_first_then_members_by_name() -> None:
    def project(name: str | None, conflicts: object) -> ProjectFile:
        return ProjectFile(
            directory=f"/w/{name or 'root'}",
            has_project=name is not None,
            name=name,
            tool={"conflicts": conflicts},
        )

    root = project(None, [[{"package": "b", "extra": "x"}, {"package": "a", "extra": "y"}]])
    members = {
        "b": project("b", [[{"group": "g"}, {"group": "h"}]]),
        "a": project("a", [[{"extra": "p"}, {"extra": "q"}]]),
    }
    assert workspace_conflicts(root, members) == (
        (extra("y", "a"), extra("x", "b")),
        (extra("p", "a"), extra("q", "a")),
        (group("g", "b"), group("h", "b")),
    )


def test_items_encode_as_uv_marker_extras() -> None:
    assert encode(extra("cpu", "my-app")) == "extra-6-my-app-cpu"
    assert encode(group("dev", "my-app")) == "group-6-my-app-dev"
    assert encode(ConflictItem(package="my-app")) == "project-6-my-app"
    assert extra_item("my-app", "cpu") == encode(extra("cpu", "my-app"))
    assert group_item("my-app", "dev") == encode(group("dev", "my-app"))


# -- the install-time check --------------------------------------------------------------------

SETS = ((extra("x1"), extra("x2")), (extra("x1"), group("g")), (group("a"), group("b")))


def check(**kwargs: object) -> str | None:
    options = {"extras": frozenset(), "groups": frozenset(), "prod": True, **kwargs}
    error = conflict_error(SETS, ["proj"], **options)  # type: ignore[arg-type]
    return None if error is None else error.message


def test_one_side_of_each_set_is_fine() -> None:
    assert check(extras=frozenset({"x1"}), groups=frozenset({"a"})) is None
    assert conflict_error(SETS, ["other"], extras=None, groups={"a", "b"}, prod=True) is None


def test_messages_name_the_kind_of_items_chosen() -> None:
    assert check(extras=None) == (
        "Extras `x1` and `x2` are incompatible with the declared conflicts: "
        "{`proj[x1]`, `proj[x2]`}"
    )
    assert check(extras=frozenset({"x1"}), groups=frozenset({"g"})) == (
        "Extra `x1` and group `g` are incompatible with the declared conflicts: "
        "{`proj[x1]`, `proj:g`}"
    )
    assert check(groups=frozenset({"a", "b"}), default_groups={"b"}) == (
        "Groups `a` and `b` (enabled by default) are incompatible with the conflicts: "
        "{`proj:a`, `proj:b`}"
    )


def test_three_items_are_listed_as_uv_lists_them() -> None:
    sets = ((group("a"), group("b"), ConflictItem(package="proj")),)
    error = conflict_error(sets, ["proj"], extras=None, groups={"a", "b"}, prod=True)
    assert error is not None
    assert error.message == (
        "Group `a`, group `b`, and package `proj` are incompatible with the declared "
        "conflicts: {`proj:a`, `proj:b`, proj}"
    )
    only = conflict_error(sets, ["proj"], extras=None, groups={"a", "b"}, prod=False)
    assert only is not None and only.message.startswith("Groups `a` and `b` are")


# -- conflict markers --------------------------------------------------------------------------


def test_conflict_items_render_as_uv_extras_and_read_back() -> None:
    marker = dnf_and(off(X1), parse_marker("sys_platform == 'win32'"))
    text = "sys_platform == 'win32' and extra != 'extra-4-proj-x1'"
    assert render(marker) == "extra != 'extra-4-proj-x1' and sys_platform == 'win32'"
    assert uv_marker(marker, PY) == text
    assert parse_marker(text, conflicts=True) == marker
    # Read as a package's requirement marker, an unknown extra is simply false.
    assert parse_marker("extra == 'extra-4-proj-x1'") == ()
    assert without_conflicts(marker) == parse_marker("sys_platform == 'win32'")


def test_a_set_splits_into_none_and_each_item_solved_last_first() -> None:
    forks = split_conflicts([TRUE], [(X1, X2)], {X1, X2})
    assert [uv_marker(f, PY) for f in forks] == [
        "extra != 'extra-4-proj-x1' and extra == 'extra-4-proj-x2'",
        "extra == 'extra-4-proj-x1' and extra != 'extra-4-proj-x2'",
        "extra != 'extra-4-proj-x1' and extra != 'extra-4-proj-x2'",
    ]


def test_a_set_with_one_possible_item_left_does_not_split() -> None:
    forks = split_conflicts([TRUE], [(X1, X2), (X1, G)], {X1, X2, G})
    # Where x1 is excluded, `g` alone remains of the second set: no split there (as in uv).
    assert [uv_marker(f, PY) for f in forks] == [
        "extra != 'extra-4-proj-x1' and extra == 'extra-4-proj-x2'",
        "extra == 'extra-4-proj-x1' and extra != 'extra-4-proj-x2' and extra != 'group-4-proj-g'",
        "extra != 'extra-4-proj-x1' and extra != 'extra-4-proj-x2'",
    ]
    # An item nothing requires still gets its fork, as in uv (a set naming an undefined extra).
    assert len(split_conflicts([TRUE], [(X1, X2)], {X1})) == 3
    assert split_conflicts([TRUE], [(X1, X2)], set()) == [TRUE]


def test_overlapping_sets_give_each_allowed_selection_one_fork() -> None:
    a, b, c = (f"group-4-proj-{name}" for name in "abc")
    forks = split_conflicts([TRUE], [(a, b), (b, c), (c, a)], {a, b, c})
    for active in ((), (a,), (b,), (c,)):
        values = {item: item in active for item in (a, b, c)}
        holding = [f for f in forks if covers(assign_conflicts(f, values), TRUE)]
        assert len(holding) == 1, active


def test_fork_markers_keep_conflict_parts_only_when_the_rest_overlaps() -> None:
    disjoint = [
        dnf_and(on(X1), parse_marker("sys_platform == 'win32'")),
        dnf_and(off(X1), parse_marker("sys_platform != 'win32'")),
    ]
    assert canonical_fork_markers(disjoint, PY) == [
        "sys_platform == 'win32'",
        "sys_platform != 'win32'",
    ]
    assert canonical_fork_markers([on(X1), off(X1)], PY) == []
    overlapping = [on(X1), dnf_and(off(X1), parse_marker("python_full_version >= '3.11'"))]
    assert canonical_fork_markers(overlapping, PY) == [
        "extra == 'extra-4-proj-x1'",
        "python_full_version >= '3.11' and extra != 'extra-4-proj-x1'",
    ]


def test_imbibe_spells_out_what_the_conflicts_rule_out() -> None:
    sets = [(X1, G)]
    not_x1 = dnf_or(dnf_and(off(X1), off(G)), dnf_and(off(X1), on(G)))
    assert uv_marker(imbibe(not_x1, sets), PY) == (
        "extra != 'extra-4-proj-x1' or extra == 'group-4-proj-g'"
    )
    # In every conflict fork alike: no conflict part at all.
    win = dnf_and(parse_marker("sys_platform == 'win32'"), world(sets))
    assert uv_marker(imbibe(win, sets), PY) == "sys_platform == 'win32'"


def test_a_whole_fork_beside_forks_split_on_requires_python_keeps_the_clash() -> None:
    # uv bounds the parts of a fork split on a `Requires-Python` by `requires-python` and
    # leaves a whole fork unbounded: below 3.10 only the whole `x1` fork holds, so an edge
    # under every fork depends on the conflicts there (issue 13's case g).
    sets = [(X1, X2)]
    split = dnf_and(python_dnf(PY), off(X1))
    whole = dnf_and(python_dnf(PY), dnf_and(on(X1), off(X2)))
    requirement = parse_marker("python_full_version < '3.13'")
    edge = dnf_and(requirement, dnf_or(split, whole))
    raw = dnf_and(requirement, dnf_or(widen(whole, PY), widen(split, PY, [split])))
    clashing = "(extra == 'extra-4-proj-x1' and extra == 'extra-4-proj-x2')"
    assert uv_marker(imbibe(edge, sets, raw=raw), PY) == (
        f"python_full_version < '3.13' or {clashing}"
    )
    # Every fork whole (or split on a marker), or every fork split: the PEP 508 marker alone.
    for floors in ([], [split, whole]):
        raw = dnf_and(requirement, dnf_or(widen(whole, PY, floors), widen(split, PY, floors)))
        assert uv_marker(imbibe(edge, sets, raw=raw), PY) == "python_full_version < '3.13'"
    low = parse_marker("python_full_version < '3.11'")
    assert widen(dnf_and(low, python_dnf(PY)), PY) == low


def test_the_clash_of_the_sets_is_the_worlds_negation() -> None:
    # Overlapping sets, as `include-group` makes them: the negation is built pair by pair, and
    # imbibing with it writes what negating the world writes.
    sets = [(X1, X2, G), (X2, "group-4-proj-h"), (X1, "group-4-proj-h")]
    knowledge = world(sets)
    denial = clash(sets)
    assert covers(denial, dnf_not(knowledge)) and covers(dnf_not(knowledge), denial)
    assert is_disjoint(denial, knowledge)
    not_x1 = dnf_or(dnf_and(off(X1), off(G)), dnf_and(off(X1), on(G)))
    assert uv_marker(imbibe(not_x1, sets, denial), PY) == uv_marker(imbibe(not_x1, sets), PY)
    assert clash([(X1,)]) == FALSE


def test_edges_below_an_extra_assume_it() -> None:
    activation = Activation([(X1, X2)])
    root, base, node, lib = ("root",), ("proj",), ("proj[x1]",), ("lib",)
    for source, target, item in ((root, base, None), (root, node, X1), (node, lib, None)):
        activation.add_node(target, item)
        activation.add_edge(source, target)
    marker = imbibe(dnf_and(on(X1), off(X2)), [(X1, X2)])
    # Every path to `proj[x1]` and `lib` activates x1 (and so not x2).
    assert simplify_with_inferences(marker, activation.inferences(node)) == TRUE
    assert simplify_with_inferences(marker, activation.inferences(lib)) == TRUE
    # `proj` itself is reached without x1: the marker stays.
    assert uv_marker(simplify_with_inferences(marker, activation.inferences(base)), PY) == (
        "extra == 'extra-4-proj-x1'"
    )


def test_an_item_and_its_negation_cover_everything() -> None:
    assert dnf_not(on(X1)) == off(X1)
    assert uv_marker(dnf_or(on(X1), off(X1)), PY) is None


def test_installed_members_follow_dependencies_extras_and_groups() -> None:
    from pyrun.core.lockfile import Dependency, Lock, Manifest, Package, Source

    def package(name: str, **fields: object) -> Package:
        source = Source(kind="editable", value=name)
        return Package(name=name, version="1.0", source=source, **fields)  # type: ignore[arg-type]

    lock = Lock(
        requires_python=">=3.12",
        manifest=Manifest(members=("app", "slim", "extra-only", "group-only", "alone")),
        packages=(
            package(
                "app",
                dependencies=(Dependency(name="slim", extra=("x",)),),
                optional_dependencies={"opt": (Dependency(name="extra-only"),)},
                dev_dependencies={"dev": (Dependency(name="group-only"),)},
            ),
            package("slim", optional_dependencies={"x": (Dependency(name="lib"),)}),
            package("extra-only"),
            package("group-only"),
            package("alone"),
            Package(name="lib", version="1.0", source=Source(kind="registry", value="u")),
        ),
    )
    found = installed_members(lock, ["app"], extras=(), groups=(), prod=True)
    assert found == {"app", "slim"}
    everything = installed_members(lock, ["app"], extras=None, groups={"dev"}, prod=True)
    assert everything == {"app", "slim", "extra-only", "group-only"}
    only_group = installed_members(lock, ["app"], extras=None, groups={"dev"}, prod=False)
    assert only_group == {"app", "group-only"}


def test_a_failing_conflict_fork_is_named_as_uv_names_it() -> None:
    from pyrun.core.universal_conflicts import describe_fork

    universe = parse_marker("python_full_version >= '3.10'")
    fork = dnf_and(universe, dnf_and(on(X1), off(group_item("proj", "dev"))))
    assert describe_fork(fork, universe) == "included: proj[x1]; excluded: proj[group:dev]"
    narrower = dnf_and(fork, parse_marker("sys_platform == 'win32'"))
    # The marker that split it, without the `requires-python` bound (uv 0.13.9's
    # `for split (markers: sys_platform == 'win32')`).
    assert describe_fork(narrower, universe) == (
        "markers: sys_platform == 'win32'; included: proj[x1]; excluded: proj[group:dev]"
    )
