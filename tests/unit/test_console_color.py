"""Colour as uv 0.13.9 writes it: the escapes below were captured from uv's own stderr
(`uv sync --color always`, `uv lock --color always`, ...) and are compared byte for byte."""

from __future__ import annotations

import functools

import pytest

from pyrun.console import Console, wants_color
from pyrun.errors import UsageError, render_error, render_warning
from tests.support.terminal import ANSI, install_stderr

UV_ERROR = "\x1b[1m\x1b[31merror\x1b[39m\x1b[0m\x1b[1m:\x1b[0m"
UV_CAUSE = "  \x1b[1m\x1b[31mcause\x1b[39m\x1b[0m\x1b[1m:\x1b[0m"
UV_HINT = "\x1b[36m\x1b[1mhint\x1b[0m\x1b[39m\x1b[1m:\x1b[0m"
UV_WARNING = "\x1b[1m\x1b[33mwarning\x1b[39m\x1b[0m\x1b[1m:\x1b[0m"


@pytest.fixture
def stderr(monkeypatch):
    return functools.partial(install_stderr, monkeypatch)


@pytest.mark.parametrize(
    ("mode", "tty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("always", False, {}, True),
        ("never", True, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("always", True, {"NO_COLOR": "1"}, True),
        ("auto", False, {"FORCE_COLOR": "1"}, True),
        ("auto", False, {"FORCE_COLOR": "0"}, True),  # uv: any non-empty value forces
        ("auto", False, {"FORCE_COLOR": ""}, False),
        ("auto", False, {"CLICOLOR_FORCE": "1"}, True),
        ("auto", False, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR wins
        ("never", False, {"FORCE_COLOR": "1"}, False),
        ("auto", True, {"TERM": "dumb"}, False),
        ("auto", False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ],
)
def test_wants_color_follows_uv(stderr, monkeypatch, mode, tty, environ, expected):
    stderr(tty)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert wants_color(mode) is expected


def test_error_cause_and_hint_labels_are_uv_bytes():
    text = render_error("Failed to spawn: x", ("No such file",), "Try y", color=True)
    assert text == (f"{UV_ERROR} Failed to spawn: x\n{UV_CAUSE} No such file\n\n{UV_HINT} Try y\n")
    plain = render_error("Failed to spawn: x", ("No such file",), "Try y", color=False)
    assert plain == "error: Failed to spawn: x\n  cause: No such file\n\nhint: Try y\n"


def test_warning_text_is_bold_as_in_uv():
    assert render_warning("No `requires-python`.", color=True) == (
        f"{UV_WARNING} \x1b[1mNo `requires-python`.\x1b[0m\n"
    )
    assert render_warning("No `requires-python`.") == "warning: No `requires-python`.\n"


def test_usage_error_head_is_clap_style():
    text = UsageError("unexpected argument '--bogus' found").render(color=True)
    assert text.startswith("\x1b[1m\x1b[31merror:\x1b[0m unexpected argument")


def coloured() -> Console:
    return Console(color="always")


def test_counted_summary_is_uv_bytes():
    assert coloured().counted("Resolved", 14, 0.235) == (
        "\x1b[2mResolved \x1b[1m14 packages\x1b[0m \x1b[2min 235ms\x1b[0m\x1b[0m"
    )
    assert coloured().counted("Installed", 1, 0.001) == (
        "\x1b[2mInstalled \x1b[1m1 package\x1b[0m \x1b[2min 1ms\x1b[0m\x1b[0m"
    )
    assert Console(color="never").counted("Resolved", 14, 0.235) == "Resolved 14 packages in 235ms"
    assert Console(color="never").counted("Checked", 0, 0.5) == "Checked in 500ms"


@pytest.mark.parametrize(
    ("sign", "colour"), [("+", "\x1b[32m"), ("-", "\x1b[31m"), ("~", "\x1b[33m")]
)
def test_change_lines_are_uv_bytes(sign, colour):
    line = coloured().change(sign, "anyio", "==4.16.0")
    assert line == f" {colour}{sign}\x1b[39m \x1b[1manyio\x1b[0m\x1b[2m==4.16.0\x1b[0m"
    assert Console(color="never").change(sign, "anyio", "==4.16.0") == f" {sign} anyio==4.16.0"


def test_paths_and_actions_are_uv_bytes():
    assert coloured().path(".venv") == "\x1b[36m.venv\x1b[39m"
    assert coloured().action("Downloading", "numpy ", "(16.1MiB)") == (
        "\x1b[36m\x1b[1mDownloading\x1b[0m\x1b[39m numpy \x1b[2m(16.1MiB)\x1b[0m"
    )
    assert coloured().action("Built", "p5", " @ file:///p5", done=True) == (
        "\x1b[32m\x1b[1mBuilt\x1b[0m\x1b[39m p5\x1b[2m @ file:///p5\x1b[0m"
    )
    assert Console(color="never").path(".venv") == ".venv"


def test_console_lines_carry_the_colour(stderr):
    fake = stderr(False)
    console = Console(color="always")
    console.warn("careful")
    console.error("broken", ("why",))
    assert fake.getvalue() == (
        f"{UV_WARNING} \x1b[1mcareful\x1b[0m\n{UV_ERROR} broken\n{UV_CAUSE} why\n"
    )


def test_the_warm_path_rebuild_announces_in_the_same_colours(stderr, tmp_path, monkeypatch):
    from pyrun.replay import Recipe, announce

    facts = {
        "root": str(tmp_path),
        "python": str(tmp_path / "python"),
        "display": "CPython 3.12.1",
        "resolved": 3,
        "installed": 2,
        "changes": [" + anyio==4.16.0", " + app==0.1.0 (from file:///app)"],
    }
    monkeypatch.chdir(tmp_path)
    fake = stderr(False)
    announce(Recipe(facts, []), str(tmp_path / ".venv"), sync=True, verbose=False,
             timings=(0.001, 0.25), color="always")  # fmt: skip
    assert fake.getvalue().splitlines()[1:] == [
        "Creating virtual environment at: \x1b[36m.venv\x1b[39m",
        "\x1b[2mResolved \x1b[1m3 packages\x1b[0m \x1b[2min 1ms\x1b[0m\x1b[0m",
        "\x1b[2mInstalled \x1b[1m2 packages\x1b[0m \x1b[2min 250ms\x1b[0m\x1b[0m",
        " \x1b[32m+\x1b[39m \x1b[1manyio\x1b[0m\x1b[2m==4.16.0\x1b[0m",
        " \x1b[32m+\x1b[39m \x1b[1mapp\x1b[0m\x1b[2m==0.1.0 (from file:///app)\x1b[0m",
    ]
    fake.truncate(0)
    fake.seek(0)
    announce(Recipe(facts, []), str(tmp_path / ".venv"), sync=True, verbose=False,
             timings=(0.001, 0.25), color="never")  # fmt: skip
    assert fake.getvalue().splitlines()[-2:] == facts["changes"]


@pytest.mark.parametrize("managed", [False, True])
def test_using_names_a_managed_python_without_its_path_as_uv(
    stderr, tmp_path, monkeypatch, managed
):
    from pyrun.replay import Recipe, announce

    expected = (
        "Using CPython \x1b[36m3.12.1\x1b[39m\x1b[36m\x1b[39m"
        if managed
        else "Using CPython 3.12.1 interpreter at: \x1b[36m/opt/py/bin/python3\x1b[39m"
    )
    console = Console(color="always")
    assert console.using("CPython 3.12.1", "/opt/py/bin/python3", managed=managed) == expected
    plain = Console(color="never").using("CPython 3.12.1", "/opt/py/bin/python3", managed=managed)
    assert plain == ANSI.sub("", expected)
    # The warm path's rebuild says the same, from the fact its recipe recorded.
    facts = {"root": str(tmp_path), "python": "/opt/py/bin/python3", "display": "CPython 3.12.1",
             "managed": managed, "resolved": 1, "installed": 0, "changes": []}  # fmt: skip
    monkeypatch.chdir(tmp_path)
    fake = stderr(False)
    announce(Recipe(facts, []), str(tmp_path / ".venv"), sync=False, verbose=False,
             timings=(0.001, 0.25), color="always")  # fmt: skip
    assert fake.getvalue().splitlines()[0] == expected
