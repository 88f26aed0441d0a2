"""Member declarations kept between runs (`declare_workspace(memo=…)`, `DeclarationMemo`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pyrun.commands import lock_memo
from pyrun.commands.lock_memo import DeclarationMemo
from pyrun.core import lock_build
from pyrun.core.lock_build import DeclaredMember, declare_workspace
from pyrun.core.project import ProjectFile, parse_project_file

ROOT = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'


def member(name: str, *requires: str, extra: str = "") -> str:
    deps = ", ".join(f'"{r}"' for r in requires)
    sources = "".join(f"{r} = {{ workspace = true }}\n" for r in requires if r.startswith("m"))
    text = f'[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{deps}]\n{extra}'
    text += '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    return text + (f"\n[tool.uv.sources]\n{sources}" if sources else "")


def parsed(text: str, directory: str) -> ProjectFile:
    return parse_project_file(tomllib.loads(text), directory, f"{directory}/pyproject.toml")


def workspace(**texts: str) -> tuple[ProjectFile, dict[str, ProjectFile]]:
    members = {name: parsed(text, f"/ws/packages/{name}") for name, text in texts.items()}
    return parsed(ROOT, "/ws"), members


class Memo:
    """An in-memory `lock_build.DeclarationMemo`."""

    def __init__(self) -> None:
        self.entries: dict[bytes, DeclaredMember] = {}
        self.hits: list[str] = []

    def declared(self, key: bytes) -> DeclaredMember | None:
        found = self.entries.get(key)
        if found is not None:
            self.hits.append(found.name)
        return found

    def remember(self, key: bytes, member: DeclaredMember) -> None:
        self.entries[key] = member


def declare(
    root: ProjectFile, members: dict[str, ProjectFile], memo: object = None, **kw: object
) -> tuple[DeclaredMember, ...]:
    declared, _, _ = declare_workspace(
        root="/ws",
        root_file=root,
        members=members,
        requires_python=">=3.12",
        index_url_of=lambda n: f"https://{n}.invalid/simple",
        memo=memo,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return declared


TEXTS = {"m1": member("m1", "base"), "m2": member("m2", "base", "m1"), "m3": member("m3", "m2")}


def test_unchanged_members_are_read_back_and_an_edited_one_declared_afresh() -> None:
    memo = Memo()
    first = declare(*workspace(**TEXTS), memo=memo)
    assert memo.hits == []
    edited = {**TEXTS, "m2": member("m2", "base", "m1", "gained")}
    again = declare(*workspace(**edited), memo=memo)
    assert memo.hits == ["m1", "m3"]
    assert again == declare(*workspace(**edited))  # as declared without the memo
    assert again[1] != first[1]
    assert again[1].requires_dist == ("base", "m1", "gained")


def test_a_member_gaining_a_sibling_leaves_the_others_declared() -> None:
    texts = {**TEXTS, "m4": member("m4", "base")}
    memo = Memo()
    declare(*workspace(**texts), memo=memo)
    edited = {**texts, "m1": member("m1", "base", "m4")}  # `m4` is now required by a sibling
    again = declare(*workspace(**edited), memo=memo)
    assert memo.hits == ["m2", "m3", "m4"]
    assert again == declare(*workspace(**edited))


def test_a_member_asked_for_as_a_copy_is_declared_afresh_everywhere() -> None:
    memo = Memo()
    declare(*workspace(**TEXTS), memo=memo)
    copy = member("m3", "m2").replace(
        "{ workspace = true }", "{ workspace = true, editable = false }"
    )
    edited = {**TEXTS, "m3": copy}
    again = declare(*workspace(**edited), memo=memo)
    assert memo.hits == []
    assert again == declare(*workspace(**edited))
    assert not again[1].editable  # `m2` itself is locked as a directory now


@pytest.mark.parametrize(
    "change",
    [
        # `m2` no longer packaged: `m3`'s requirement on it becomes `virtual`.
        {"m2": member("m2", "base", "m1", extra="\n[tool.uv]\npackage = false\n")},
        # A root source for `base`: every member's requirement on it is lowered through it.
        {"root": ROOT + '\n[tool.uv.sources]\nbase = { path = "../base" }\n'},
    ],
    ids=["a member's packaging", "the root's sources"],
)
def test_a_change_to_the_workspace_lowering_declares_every_member_afresh(
    change: dict[str, str],
) -> None:
    memo = Memo()
    declare(*workspace(**TEXTS), memo=memo)
    root, members = workspace(**{**TEXTS, **{k: v for k, v in change.items() if k != "root"}})
    if "root" in change:
        root = parsed(change["root"], "/ws")
    again = declare(root, members, memo=memo)
    assert memo.hits == []
    assert again == declare(root, members)


def test_dynamic_members_and_index_sources_are_never_kept() -> None:
    dynamic = member("m1", "base").replace('version = "0.1.0"', 'dynamic = ["version"]')
    indexed = member("m2", "base") + '\n[tool.uv.sources]\nbase = { index = "mine" }\n'
    memo = Memo()
    declare(*workspace(m1=dynamic, m2=indexed, m3=member("m3")), memo=memo)
    assert [m.name for m in memo.entries.values()] == ["m3"]


def test_built_metadata_is_never_read_from_the_memo() -> None:
    memo = Memo()
    root, members = workspace(**TEXTS)
    declare(root, members, memo=memo)
    built = {"m1": lock_build.parse_built_metadata(b"Name: m1\nRequires-Dist: gained\n\n")}
    again = declare(root, members, memo=memo, built=built)
    assert "m1" not in memo.hits
    assert again[0].requires_dist == ("gained",)


def test_the_memo_file_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = str(tmp_path / "cache")
    stored = DeclarationMemo.load(cache, "/ws")
    first = declare(*workspace(**TEXTS), memo=stored)
    stored.save()
    loaded = DeclarationMemo.load(cache, "/ws")
    assert declare(*workspace(**TEXTS), memo=loaded) == first
    assert loaded.declared(next(iter(loaded._loaded))) in first
    identity = lock_memo._code_identity()
    monkeypatch.setattr(lock_memo, "_code_identity", lambda: (*identity, "lock_build.py edited"))
    assert DeclarationMemo.load(cache, "/ws")._loaded == {}


def test_the_file_is_rewritten_when_a_tenth_of_the_members_are_new(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    texts = {f"m{i}": member(f"m{i}", "base") for i in range(20)}

    def run(edited: dict[str, str]) -> tuple[int, DeclarationMemo]:
        memo = DeclarationMemo.load(cache, "/ws")
        declare(*workspace(**edited), memo=memo)
        memo.save()
        (entry,) = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        return entry.stat().st_mtime_ns, memo

    written, _ = run(texts)  # the first run writes every declaration
    one = {**texts, "m0": member("m0", "gained")}
    assert run(one)[0] == written  # one of twenty declared afresh: not worth a rewrite
    unchanged, memo = run(one)
    assert unchanged == written and memo._fresh == 1  # so it is declared afresh again
    two = {**one, "m1": member("m1", "gained")}
    rewritten, _ = run(two)
    assert rewritten != written
    assert run(two)[1]._fresh == 0
