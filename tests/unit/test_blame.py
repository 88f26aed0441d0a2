"""Which decisions a failed pin's conflict names (`pyrun.core.blame`), and the search that goes
back to them (`pyrun.core.search`), over in-memory indexes."""

from __future__ import annotations

from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.version import Version

from pyrun.core.blame import Blame
from pyrun.core.provider import resolve
from tests.unit.test_resolver import Index, MemorySource, request, versions


class Info(NamedTuple):
    """A requirement (`p>=2`) and the decision that made it (`c==1`), as resolvelib's
    `RequirementInformation`."""

    requirement: str
    parent: str | None


VERSIONS = {"p": ["p==1", "p==2"], "a": ["a==1"]}


def _node(item: str) -> str:
    return Requirement(item).name if "==" not in item else item.split("==")[0]


def _satisfies(requirement: str, candidate: str) -> bool:
    return Version(candidate.split("==")[1]) in Requirement(requirement).specifier


BLAME: Blame[str, str, str] = Blame(_node, VERSIONS.__getitem__, _satisfies)


def test_a_requirement_admitting_every_version_is_a_bystander() -> None:
    # `a==1` (tried) wants p==1, `c==1` wants p>=2; `t==2` requires `p` at any version.
    causes = [Info("p>=2", "c==1"), Info("p", "t==2"), Info("p==1", "a==1")]
    decided = {"c": "c==1", "t": "t==2", "p": "p==2"}
    assert BLAME.named(causes, decided) == {"a==1", "c==1"}


def test_a_clash_decided_after_the_versions_were_left_out_is_not_named() -> None:
    # `c==1` (decided first) leaves `a==1` no `p`; `l==1` requires p>=2 too, but later: PubGrub's
    # satisfier is `c==1`'s requirement (crewAI's `commitizen` and `litellm` on `packaging`).
    causes = [Info("p>=2", "l==1"), Info("p>=2", "c==1"), Info("p==1", "a==1")]
    decided = {"c": "c==1", "l": "l==1", "p": "p==2"}
    assert BLAME.named(causes, decided) == {"a==1", "c==1"}


def test_a_decision_the_requirements_did_not_force_is_named() -> None:
    # Only `t==2`'s bystander requirement is on `p`: the decision `p==2` took a version the
    # tried `a==1` excludes though `p==1` was left, so the decision clashes.
    causes = [Info("p", "t==2"), Info("p==1", "a==1")]
    decided = {"t": "t==2", "p": "p==2"}
    assert BLAME.named(causes, decided) == {"a==1", "p==2"}


def test_an_emptied_node_names_what_narrowed_it_else_what_required_it() -> None:
    decided = {"c": "c==1", "t": "t==2"}
    assert BLAME.named([Info("p>=2", "c==1"), Info("p", "t==2")], decided) == {"c==1"}
    assert BLAME.named([Info("p", "t==2")], decided) == {"t==2"}


def _bystander() -> Index:
    """The `bystander-not-blamed` scenario: `m 2.0` needs `a`, whose only version pins `p==1`,
    and `c` needs `p>=2`; `t` (decided between them) requires `p` at any version."""
    return {
        "a": {"1.0": ["p==1.0"]},
        "c": {"1.0": ["p>=2"]},
        "h": {"1.0": [], "2.0": []},
        "l": {"1.0": [], "2.0": ["h<2"]},
        "m": {"1.0": [], "2.0": ["a"]},
        "p": {"1.0": [], "2.0": []},
        "t": {"1.0": ["p"], "2.0": ["p"], "3.0": ["h>=2"]},
    }


def test_going_back_moves_the_decision_that_required_the_node_not_a_bystander() -> None:
    # uv moves `m` and keeps `t 2.0`; going back to the newest decision requiring `p` walked
    # `t` down and past 2.0 to 3.0, which took `l` back to 1.0.
    result = versions(resolve(request("c", "l", "m", "t"), MemorySource(_bystander())))
    assert result == {
        "c": ("1.0",),
        "h": ("1.0",),
        "l": ("2.0",),
        "m": ("1.0",),
        "p": ("2.0",),
        "t": ("2.0",),
    }
