"""`entry_points.txt` read without configparser gives configparser's scripts or its refusal."""

from __future__ import annotations

import pytest

from pyrun.local import install

PLAIN = [
    "[console_scripts]\nhttpx = httpx:main\n",
    "[console_scripts]\nfoo=pkg.cli:main\nbar = pkg.cli:Bar.run [extra]\n\n[gui_scripts]\nw=g:m\n",
    "# comment\n[console_scripts]\n; another\n  # indented comment\nfoo = a:b\n",
    "[pytest11]\nplugin = x.y\n\n[console_scripts]\nFoo.Bar = a.b:c\r\n",
    "[console_scripts]\nfoo = a:b  \n\n\n\n[other]\nx = y = z\n",
    "[console_scripts]\n",
    "",
    "[console_scripts]\nfoo =\n",
]
# Each of these takes configparser's path (a continuation line, an indented key, `%`, a
# default section, a duplicate, a line outside any section, a `:` delimiter).
ODD = [
    "[console_scripts]\nfoo = a:b\n  continued\n",
    "[console_scripts]\n  foo = a:b\n",
    "[console_scripts]\nfoo = a%%b:c\n",
    "[console_scripts]\nfoo = a:b%(x)s\n",
    "[DEFAULT]\nfoo = a:b\n[console_scripts]\nbar = c:d\n",
    "[console_scripts]\nfoo = a:b\nfoo = c:d\n",
    "[console_scripts]\nfoo = a:b\n[console_scripts]\nbar = c:d\n",
    "foo = a:b\n[console_scripts]\n",
    "[console_scripts]\nfoo: a:b\n",
    "[console_scripts] trailing\nfoo = a:b\n",
    "[console_scripts]\n= a:b\n",
]


def _script_items(sections: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return [
        item for name in sections if name in install._SCRIPT_SECTIONS for item in sections[name]
    ]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_files_are_read_as_configparser_reads_them(text: str) -> None:
    sections = install._plain_sections(text)
    assert sections is not None
    assert _script_items(sections) == install._configparser_items(text)


@pytest.mark.parametrize("text", ODD)
def test_odd_files_are_left_to_configparser(text: str) -> None:
    assert install._plain_sections(text) is None


def test_scripts_of_a_plain_file() -> None:
    text = "[console_scripts]\nfoo = pkg.cli:main\nbar = pkg.cli:Bar.run [extra]\n"
    assert install.parse_entry_points(text) == [
        ("foo", "pkg.cli", "main"),
        ("bar", "pkg.cli", "Bar.run"),
    ]
    with pytest.raises(ValueError, match="Invalid entry point `foo = `"):
        install.parse_entry_points("[console_scripts]\nfoo =\n")
