"""The README and docs/ in a clone: links that resolve, and variables the option table has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyrun.cli_options import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", DOCS, ids=lambda path: path.name)
def test_relative_links_resolve_inside_the_clone(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside the clone: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


def test_readme_starts_with_the_two_first_commands() -> None:
    block = (ROOT / "README.md").read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].split() for line in block.splitlines()]
    assert commands == [["bash", "scripts/example.sh"], ["bash", "scripts/test.sh"]]
    assert all((ROOT / words[1]).is_file() for words in commands)


def test_configuration_names_every_variable_of_the_option_table() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    variables = {
        opt.env for _, options in COMMANDS.values() for opt in options if opt.env and not opt.hidden
    }
    assert sorted(name for name in variables if f"`{name}`" not in text) == []
