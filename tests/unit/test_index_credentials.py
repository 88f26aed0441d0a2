"""Credentials of a named index from `PYRUN_INDEX_<NAME>_USERNAME`/`_PASSWORD` (uv's rule)."""

from __future__ import annotations

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.index_settings import (
    credential_variables,
    index_settings,
    registry_key,
)
from pyrun.options import settle
from pyrun.settings import Settings


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("corp", "PYRUN_INDEX_CORP"),
        ("corp-internal.x", "PYRUN_INDEX_CORP_INTERNAL_X"),
        ("Team_2", "PYRUN_INDEX_TEAM_2"),
    ],
)
def test_variable_names_follow_uv(name: str, prefix: str) -> None:
    assert credential_variables(name) == (f"{prefix}_USERNAME", f"{prefix}_PASSWORD")


def _urls(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *indexes: str) -> list[str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    words = [word for index in indexes for word in ("--index", index)]
    settings = index_settings(settle(parse_argv(["lock", *words]).command_line(), Settings([])))
    return [entry.url for entry in settings.entries]


def test_a_named_index_gets_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"PYRUN_INDEX_CORP_USERNAME": "alice", "PYRUN_INDEX_CORP_PASSWORD": "p@ss/word"}
    urls = _urls(monkeypatch, env, "corp=https://corp.example/simple", "https://other.example/s")
    assert urls == ["https://alice:p%40ss%2Fword@corp.example/simple", "https://other.example/s"]
    # What a lock records, and compares, is still the bare URL.
    assert registry_key(urls[0]) == "https://corp.example/simple"


def test_variables_fill_in_what_the_url_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"PYRUN_INDEX_CORP_PASSWORD": "secret"}
    urls = _urls(monkeypatch, env, "corp=https://token@corp.example/simple")
    assert urls == ["https://token:secret@corp.example/simple"]


def test_without_variables_the_url_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYRUN_INDEX_CORP_USERNAME", raising=False)
    monkeypatch.delenv("PYRUN_INDEX_CORP_PASSWORD", raising=False)
    urls = _urls(monkeypatch, {}, "corp=https://u:p@corp.example/simple")
    assert urls == ["https://u:p@corp.example/simple"]
