"""The command-line parser: uv's rules for options, the command, variables and conflicts."""

from __future__ import annotations

import pytest

from pyrun import __version__
from pyrun.cliparse import parse_argv, parse_subcommand
from pyrun.console import format_duration, format_size, plural
from pyrun.errors import PyrunError, UsageError, render_error


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("PYRUN_"):
            monkeypatch.delenv(key)


def test_first_positional_ends_options():
    args = parse_argv(["run", "-p", "3.12", "python", "--help", "-p", "3.8"])
    assert args.python == "3.12"
    assert args.command == ["python", "--help", "-p", "3.8"]
    assert args.help is False


def test_double_dash():
    args = parse_argv(["run", "--isolated", "--", "-weird-name", "x"])
    assert args.isolated is True
    assert args.command == ["-weird-name", "x"]


def test_value_forms():
    args = parse_argv(["run", "-p3.11", "--with=a,b", "--with", "c", "-w", "d", "python"])
    assert args.python == "3.11"
    assert args.with_ == ["a", "b", "c", "d"]


def test_counters_and_globals_before_the_subcommand():
    args = parse_argv(["-v", "--offline", "run", "-qq", "python"])
    assert args.verbose == 1 and args.quiet == 2 and args.offline is True


def test_module_flag_takes_the_command_as_module():
    args = parse_argv(["run", "-m", "http.server", "8000"])
    assert args.module is True and args.command == ["http.server", "8000"]


def test_unknown_option_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        parse_argv(["run", "--bogus", "python"])
    text = info.value.render()
    assert text.startswith("error: unexpected argument '--bogus' found")
    assert "Usage: pyrun run [OPTIONS] [COMMAND]" in text
    assert info.value.code == 2


def test_missing_value():
    with pytest.raises(UsageError, match="a value is required for '--python <PYTHON>'"):
        parse_argv(["run", "--python"])


def test_flag_with_a_value_is_an_error():
    with pytest.raises(UsageError, match="unexpected value 'yes' for '--locked'"):
        parse_argv(["run", "--locked=yes", "python"])


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("--locked", "--frozen", "'--locked' cannot be used with '--frozen'"),
        ("--locked", "--upgrade", "'--locked' cannot be used with '--upgrade'"),
        ("-m", "--script", "'--module' cannot be used with '--script'"),
        (
            "--all-packages",
            "--package=x",
            "'--all-packages' cannot be used with '--package <PACKAGE>'",
        ),
        ("--extra=a", "--all-extras", "'--extra <EXTRA>' cannot be used with '--all-extras'"),
        ("--all-extras", "--extra=a", "'--all-extras' cannot be used with '--extra <EXTRA>'"),
        ("--only-dev", "--no-dev", "'--only-dev' cannot be used with '--no-dev'"),
        (
            "--group=a",
            "--only-group=b",
            "'--group <GROUP>' cannot be used with '--only-group <ONLY_GROUP>'",
        ),
    ],
)
def test_conflicts(first, second, message):
    # As clap words it: the option given first first, each by its long name and value's name.
    with pytest.raises(UsageError) as info:
        parse_argv(["run", first, second, "python"])
    assert f"the argument {message}" in str(info.value)


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("PYRUN_PYTHON", "3.10")
    monkeypatch.setenv("PYRUN_NO_SYNC", "yes")
    monkeypatch.setenv("PYRUN_ENV_FILE", "a.env b.env")
    monkeypatch.setenv("PYRUN_ISOLATED", "off")
    args = parse_argv(["run", "python"])
    assert args.python == "3.10"
    assert args.no_sync is True
    assert args.env_file == ["a.env", "b.env"]
    assert args.isolated is False
    assert args.flag_name("no_sync") == "PYRUN_NO_SYNC=1"


def test_option_beats_environment(monkeypatch):
    monkeypatch.setenv("PYRUN_PYTHON", "3.10")
    assert parse_argv(["run", "-p", "3.12", "python"]).python == "3.12"


def test_invalid_boolean_variable(monkeypatch):
    monkeypatch.setenv("PYRUN_FROZEN", "maybe")
    with pytest.raises(PyrunError, match="`PYRUN_FROZEN` with invalid value `maybe`"):
        parse_argv(["run", "python"])


def test_conflict_between_variables(monkeypatch):
    monkeypatch.setenv("PYRUN_LOCKED", "1")
    monkeypatch.setenv("PYRUN_FROZEN", "1")
    with pytest.raises(PyrunError) as info:
        parse_argv(["run", "python"])
    assert str(info.value) == (
        "the argument `PYRUN_LOCKED` (environment variable) cannot be used with "
        "`PYRUN_FROZEN` (environment variable)"
    )


def test_offline_with_refresh():
    with pytest.raises(PyrunError, match="`--offline` cannot be used with `--refresh`"):
        parse_argv(["run", "--offline", "--refresh", "python"])


def test_passthrough_subcommands_keep_their_words():
    args = parse_argv(["python", "install", "3.12", "--reinstall", "-q"])
    assert args.rest == ["install", "3.12", "--reinstall"]
    assert args.quiet == 1


def test_unknown_subcommand():
    with pytest.raises(UsageError, match="unrecognized subcommand 'frobnicate'"):
        parse_argv(["frobnicate"])


def test_render_error_with_causes_and_hint():
    text = render_error("top", ("first\nsecond line", "deeper"), "do this")
    assert text == (
        "error: top\n  cause: first\n         second line\n  cause: deeper\n\nhint: do this\n"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.00008, "0.08ms"), (0.0579, "57ms"), (1.4199, "1.41s"), (62.5, "1m 02s")],
)
def test_durations(seconds, text):
    assert format_duration(seconds) == text


def test_counts_and_sizes():
    assert plural(1, "package") == "1 package"
    assert plural(3, "package") == "3 packages"
    assert format_size(28 * 1024) == "28.0KiB"
    assert format_size(12) == "12.0B"


def test_the_program_flushes_its_output_before_its_fast_exit():
    """`launch` ends with `os._exit`: whatever was printed must still arrive, with the code."""
    import subprocess
    import sys

    version = subprocess.run(
        [sys.executable, "-m", "pyrun", "--version"], capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout) == (0, f"pyrun {__version__}\n")
    bad = subprocess.run(
        [sys.executable, "-m", "pyrun", "bogus"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "unrecognized subcommand 'bogus'" in bad.stderr


def test_placeholders_drop_the_keyword_escape_underscore() -> None:
    # `with` is a Python keyword, so its dest is `with_`; uv shows `--with <WITH>`.
    from pyrun import cli_options

    metavars = {
        opt.metavar
        for table in vars(cli_options).values()
        if isinstance(table, list)
        for opt in table
        if isinstance(opt, cli_options.Opt)
    }
    assert "WITH" in metavars
    assert not any(m.endswith("_") for m in metavars)


def test_subcommand_typo_gets_uvs_tip() -> None:
    from pyrun.cliparse import parse_argv
    from pyrun.errors import UsageError

    with pytest.raises(UsageError) as caught:
        parse_argv(["sycn"])
    assert caught.value.message == (
        "unrecognized subcommand 'sycn'\n\n  tip: a similar subcommand exists: 'sync'"
    )


@pytest.mark.parametrize("argv", [["add", "requests"], ["-v", "tool", "run", "ruff"]])
def test_uv_only_command_says_what_pyrun_covers(argv, capsys) -> None:
    from pyrun import cli

    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: `pyrun {argv[-3] if argv[0] == '-v' else argv[0]}` is not available: pyrun "
        "covers `run`, `lock`, `sync`, `export`, `python` and `cache`\n\n"
        f"hint: use uv for it: `uv {' '.join(argv)}`\n"
    )


def test_bad_value_lists_the_possible_values_as_uv_does(monkeypatch) -> None:
    with pytest.raises(UsageError) as caught:
        parse_argv(["lock", "--color", "sometimes"])
    assert caught.value.render() == (
        "error: invalid value 'sometimes' for '--color <COLOR_CHOICE>'\n"
        "  [possible values: auto, always, never]\n\n"
        "For more information, try '--help'.\n"
    )
    monkeypatch.setenv("UV_RESOLUTION", "newest")
    with pytest.raises(UsageError, match="invalid value 'newest' for '--resolution <RESOLUTION>'"):
        parse_argv(["sync"])


@pytest.mark.parametrize(
    ("given", "meant"),
    [("requirements-txt", "requirements.txt"), ("pylock-toml", "pylock.toml")],
)
def test_a_value_alias_reads_as_the_choice_it_names(given: str, meant: str) -> None:
    """uv's `--format` takes clap value aliases; `--help` lists only the canonical names."""
    assert parse_argv(["export", "--format", given]).format == meant


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("a,b", ["a", "b"]),
        ("alpha>1.0,<2.0", ["alpha>1.0,<2.0"]),
        ("alpha>1.0, <2.0,beta", ["alpha>1.0, <2.0", "beta"]),
        ("psycopg[binary,pool]>=3,!=3.1.1 , rich", ["psycopg[binary,pool]>=3,!=3.1.1", "rich"]),
        ("a,,b,", ["a", "b"]),
        ("a,@b", ["a", "@b"]),  # uv 0.13.9 splits before `@` (and then refuses `@b`)
    ],
)
def test_with_splits_on_the_commas_between_requirements_as_uv(given: str, meant: list[str]) -> None:
    assert parse_argv(["run", "--with", given, "python"]).with_ == meant


def test_python_and_cache_words_are_parsed_with_claps_rules():
    install = parse_subcommand("python", ["install", "-r", "3.12", "pypy"])
    assert (install.subcommand, install.reinstall, install.targets) == (
        "install",
        True,
        ["3.12", "pypy"],
    )
    assert parse_subcommand("python", ["list", "3.12"]).request == "3.12"
    assert parse_subcommand("cache", ["clean", "--force", "a", "b"]).package == ["a", "b"]
    assert parse_subcommand("cache", ["clear"]).subcommand == "clean"  # uv's alias
    # No abbreviations (argparse took `--reinstal` for `--reinstall`).
    with pytest.raises(UsageError) as info:
        parse_subcommand("python", ["install", "--reinstal"])
    assert "tip: a similar argument exists: '--reinstall'" in info.value.message
    assert info.value.usage == "pyrun python install --reinstall [TARGETS]..."
    with pytest.raises(UsageError) as info:
        parse_subcommand("python", ["find", "a", "b"])
    assert info.value.message == "unexpected argument 'b' found"
    with pytest.raises(UsageError) as info:
        parse_subcommand("cache", ["prune", "--bogus"])
    assert info.value.message == "unexpected argument '--bogus' found"  # no `--` tip: no positional
