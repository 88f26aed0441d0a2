"""`--help` and `pyrun help`: every command and sub-command, in uv's layout, from the table."""

from __future__ import annotations

import re

import pytest

from pyrun import cli, cli_options
from pyrun.cli_options import COMMANDS, SUBCOMMANDS, Opt
from pyrun.help import _section, help_for

ALL = [[name] for name in COMMANDS] + [
    [name, sub.name] for name, subs in SUBCOMMANDS.items() for sub in subs
]


@pytest.fixture(autouse=True)
def fixed_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")


@pytest.mark.parametrize("words", ALL, ids=" ".join)
def test_every_command_answers_help_both_ways(words, capsys):
    assert cli.main([*words, "--help"]) == 0
    concise = capsys.readouterr().out
    assert cli.main(["help", *words]) == 0
    long = capsys.readouterr().out
    assert f"Usage: pyrun {' '.join(words)} [OPTIONS]" in concise
    assert "Global options:" in concise and "Global options:" in long
    assert long != concise


def test_short_flag_help_and_help_after_globals(capsys):
    assert cli.main(["-q", "cache", "-h"]) == 0
    assert capsys.readouterr().out.startswith("Manage pyrun's cache\n")
    assert cli.main(["python", "--offline", "list", "--help"]) == 0
    assert capsys.readouterr().out.startswith("List the available Python installations\n")


def test_groups_list_their_subcommands(capsys):
    for name in SUBCOMMANDS:
        assert cli.main(["help", name]) == 0
        text = capsys.readouterr().out
        block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        assert [line.split()[0] for line in block.splitlines()] == [
            sub.name for sub in SUBCOMMANDS[name]
        ]


def test_run_help_is_grouped_as_uv_groups_it():
    text = help_for(["run"], long=False, width=100)
    headings = re.findall(r"^([A-Z][a-z]+(?: options)?):$", text, re.MULTILINE)
    # Every heading, in uv's order (`cli_options.HEADINGS` lists them so).
    assert headings == list(cli_options.HEADINGS)
    assert headings[1:3] == ["Index options", "Resolver options"]
    assert "  -w, --with <WITH>\n" in text
    assert "requirement [env: PYRUN_RESOLUTION=] [possible values: highest, lowest,\n" in text
    assert "[env: PYRUN_OFFLINE=]" in text
    assert text.endswith("\nUse `pyrun help run` for more details.\n")
    # Options under their own headings, not repeated, and hidden ones absent.
    assert text.count("      --refresh-package <REFRESH_PACKAGE>\n") == 1
    assert "--python-platform" not in text and "--no_workspace" not in text


def test_long_help_adds_paragraphs_values_and_variables():
    text = help_for(["run"], long=True, width=100)
    assert text.startswith("Run a command or script.\n\nEnsures that the command runs")
    resolution = text.split("      --resolution <RESOLUTION>\n", 1)[1].split("\n\n      --", 1)[0]
    assert resolution.splitlines() == [
        "          The strategy to use when selecting between the different compatible versions for a given",  # noqa: E501
        "          package requirement.",
        "",
        "          By default, pyrun will use the latest compatible version of each package (`highest`).",  # noqa: E501
        "",
        "          Possible values:",
        "          - highest:       Resolve the highest compatible version of each package",
        "          - lowest:        Resolve the lowest compatible version of each package",
        "          - lowest-direct: Resolve the lowest compatible version of any direct dependencies, and the",  # noqa: E501
        "            highest compatible version of any transitive dependencies",
        "",
        "          [env: PYRUN_RESOLUTION=]",
    ]


def test_long_help_follows_the_command_for_shared_options():
    lock = help_for(["lock"], long=True, width=100)
    sync = help_for(["sync"], long=True, width=100)
    assert "changes, but will not write the lockfile to disk." in lock
    assert "changes to both the lockfile and the project environment" in sync


# uv 0.13.9's own blocks, to check the layout rules on uv's text (side by side with a hanging
# wrap, or every option's help on the next line when one of them would wrap).
UV_PYTHON_OPTIONS = """\
Python options:
  -p, --python <PYTHON>      The Python interpreter to use for the run environment. [env:
                             UV_PYTHON=]
      --managed-python       Require use of uv-managed Python versions [env: UV_MANAGED_PYTHON=]
      --no-managed-python    Disable use of uv-managed Python versions [env: UV_NO_MANAGED_PYTHON=]
      --no-python-downloads  Disable automatic downloads of Python. [env: "X"]
"""
UV_CACHE_OPTIONS = """\
Cache options:
  -n, --no-cache
          Avoid reading from or writing to the cache, instead using a temporary directory for the
          duration of the operation [env: UV_NO_CACHE=]
      --cache-dir <CACHE_DIR>
          Path to the cache directory [env: UV_CACHE_DIR=]
      --refresh
          Refresh all cached data
      --refresh-package <REFRESH_PACKAGE>
          Refresh cached data for a specific package
"""


def uv_rows(options: list[Opt]) -> list[tuple[str, list[str], str]]:
    from pyrun.help import _short_help, _spec

    return [(_spec(opt), [], _short_help(opt)) for opt in options]


def test_side_by_side_layout_matches_uv():
    options = [
        Opt(
            "-p --python",
            "value",
            "The Python interpreter to use for the run environment.",
            env="UV_PYTHON",
        ),
        Opt(
            "--managed-python",
            help="Require use of uv-managed Python versions",
            env="UV_MANAGED_PYTHON",
        ),
        Opt(
            "--no-managed-python",
            help="Disable use of uv-managed Python versions",
            env="UV_NO_MANAGED_PYTHON",
        ),
        Opt("--no-python-downloads", help='Disable automatic downloads of Python. [env: "X"]'),
    ]
    assert _section("Python options", uv_rows(options), False, 100, positional=False) == (
        UV_PYTHON_OPTIONS
    )


def test_next_line_layout_matches_uv():
    no_cache = cli_options.CACHE_OPTIONS[0]
    options = [
        Opt("-n --no-cache", help=no_cache.help, env="UV_NO_CACHE"),
        Opt("--cache-dir", "value", "Path to the cache directory", env="UV_CACHE_DIR"),
        *cli_options.REFRESH,
    ]
    assert _section("Cache options", uv_rows(options), False, 100, positional=False) == (
        UV_CACHE_OPTIONS
    )


def test_narrow_terminal_wraps_to_its_width(monkeypatch):
    text = help_for(["lock"], long=False, width=70)
    assert max(len(line) for line in text.splitlines()) <= 70


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["nope"], "There is no command `nope` for `pyrun`. Did you mean one of:\n    run\n"),
        (
            ["python", "nope"],
            "There is no command `nope` for `pyrun python`. Did you mean one of:\n    list\n",
        ),
        (["run", "extra"], "There is no command `extra` for `pyrun run`. Did you mean one of:"),
        (
            ["cache", "dir", "x"],
            "There is no command `x` for `pyrun cache dir`. Did you mean one of:",
        ),
    ],
)
def test_help_for_nothing_says_so_as_uv_does(words, message, capsys):
    assert cli.main(["help", *words]) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")


def test_help_for_a_uv_only_command_points_to_uv(capsys):
    assert cli.main(["help", "add"]) == 2
    assert "hint: use uv for it: `uv add`" in capsys.readouterr().err
