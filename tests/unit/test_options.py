"""The settled configuration: uv's precedence, merged once, typed and frozen (`pyrun.options`)."""

from __future__ import annotations

import pytest

from pyrun.cliparse import parse_argv
from pyrun.errors import PyrunError
from pyrun.options import IndexEntry, Settled, settle
from pyrun.settings import Settings


def settled(*argv: str, files: list[tuple[str, dict[str, object]]] | None = None) -> Settled:
    return settle(parse_argv(list(argv)).command_line(), Settings(files or []))


@pytest.fixture(autouse=True)
def _no_pyrun_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PYRUN_OFFLINE", "PYRUN_PYTHON_DOWNLOADS", "PYRUN_LINK_MODE", "PYRUN_INDEX"):
        monkeypatch.delenv(name, raising=False)


def test_offline_comes_from_a_flag_a_variable_or_any_settings_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settled("sync").globals.offline is False
    assert settled("sync", "--offline").globals.offline is True
    assert settled("sync", files=[("uv.toml", {"offline": True})]).globals.offline is True
    monkeypatch.setenv("PYRUN_OFFLINE", "1")
    assert settled("sync").globals.offline is True


def test_no_offline_overrides_a_settings_file_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [("uv.toml", {"offline": True})]
    assert settled("sync", "--no-offline", files=files).globals.offline is False
    monkeypatch.setenv("PYRUN_OFFLINE", "1")
    assert settled("sync", "--no-offline").globals.offline is False


def test_an_option_outranks_the_settings_files_and_higher_files_outrank_lower() -> None:
    files = [("pyrun.toml", {"link-mode": "copy"}), ("user.toml", {"link-mode": "symlink"})]
    assert settled("sync", files=files).installer.link_mode == "copy"
    assert settled("sync", "--link-mode", "clone", files=files).installer.link_mode == "clone"
    assert settled("sync", files=files[1:]).installer.link_mode == "symlink"
    assert settled("sync").installer.link_mode == "hardlink"


def test_a_variable_counts_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRUN_LINK_MODE", "copy")
    files = [("pyrun.toml", {"link-mode": "symlink"})]
    assert settled("sync", files=files).installer.link_mode == "copy"


def test_package_lists_concatenate_flags_first_then_files_by_precedence() -> None:
    files = [
        ("pyrun.toml", {"no-build-package": ["b"]}),
        ("user.toml", {"no-build-package": ["c"]}),
    ]
    build = settled("sync", "--no-build-package", "a", files=files).build
    assert build.no_build_package == ("a", "b", "c")


def test_indexes_keep_the_command_line_and_the_files_apart() -> None:
    files = [("uv.toml", {"index": [{"name": "corp", "url": "https://corp/simple"}]})]
    index = settled("lock", "--index", "extra=https://x/simple", files=files).index
    assert index.cli_entries == (IndexEntry(url="https://x/simple", name="extra"),)
    assert index.file_entries == (IndexEntry(url="https://corp/simple", name="corp"),)


def test_an_index_url_with_an_equals_sign_is_not_named() -> None:
    entry = settled("lock", "--index", "https://x/simple?a=b").index.cli_entries[0]
    assert entry == IndexEntry(url="https://x/simple?a=b")


def test_python_downloads_file_then_variable_then_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [("uv.toml", {"python-downloads": "manual"})]
    assert settled("run", files=files).python.downloads == "manual"
    monkeypatch.setenv("PYRUN_PYTHON_DOWNLOADS", "automatic")
    assert settled("run", files=files).python.downloads == "automatic"
    assert settled("run", "--no-python-downloads", files=files).python.downloads == "never"


def test_managed_python_flags_fold_into_the_preference() -> None:
    files = [("uv.toml", {"python-preference": "system"})]
    assert settled("run", files=files).python.preference == "system"
    assert settled("run", "--managed-python", files=files).python.preference == "only-managed"
    assert settled("run", "--no-managed-python").python.preference == "only-system"


def test_per_package_tables_merge_flags_over_files_by_normalised_name() -> None:
    files = [("uv.toml", {"exclude-newer-package": {"Foo_Bar": "2024-01-01", "baz": False}})]
    resolver = settled(
        "lock", "--exclude-newer-package", "foo.bar=2025-01-01", files=files
    ).resolver
    assert resolver.exclude_newer_package == {"baz": False, "foo-bar": "2025-01-01"}


@pytest.mark.parametrize(
    ("argv", "files", "message"),
    [
        (["sync", "--link-mode", "move"], [], "invalid value 'move' for '--link-mode <LINK_MODE>'"),
        (
            ["lock"],
            [("uv.toml", {"resolution": "newest"})],
            "invalid value 'newest' for '--resolution <RESOLUTION>'",
        ),
        (
            ["run"],
            [("uv.toml", {"python-preference": "any"})],
            "Invalid value for python-preference: `any`",
        ),
        (["lock"], [("uv.toml", {"index": [{"name": "x"}]})], "Failed to parse the `index`"),
    ],
)
def test_a_bad_value_is_an_error_naming_it(
    argv: list[str], files: list[tuple[str, dict[str, object]]], message: str
) -> None:
    with pytest.raises(PyrunError) as caught:
        settled(*argv, files=files)
    assert caught.value.message.startswith(message)


def test_the_command_line_alone_reads_no_settings_file() -> None:
    alone = settle(parse_argv(["run", "--offline", "python"]).command_line())
    assert alone.globals.offline is True
    assert alone.layers == []
    assert alone.command == ("python",)
    assert alone.subcommand == "run"


def test_flag_names_say_how_the_user_gave_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRUN_FROZEN", "1")
    cli = settled("sync").cli
    assert cli.given("frozen")
    assert cli.flag_name("frozen") == "PYRUN_FROZEN=1"
    monkeypatch.delenv("PYRUN_FROZEN")
    assert settled("sync", "--locked").cli.flag_name("locked") == "--locked"


def test_settled_records_are_frozen_and_compare_by_value() -> None:
    first, second = settled("sync", "--offline"), settled("sync", "--offline")
    assert first.globals == second.globals
    assert first.globals != settled("sync").globals
    with pytest.raises(AttributeError):
        first.globals.offline = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        IndexEntry(link="https://x")  # type: ignore[call-arg]


# -- the project commands' own flags -----------------------------------------------------------


def test_the_dependency_selection_is_settled_from_the_command_line() -> None:
    from pyrun.commands.sync_project import dependency_options
    from pyrun.core.selection import DependencyOptions

    line = settled(
        "sync",
        *("--extra", "a", "--extra", "b", "--no-dev", "--group", "docs"),
        *("--package", "p", "--no-install-project", "--no-editable"),
        *("--no-install-package", "q"),
    )
    chosen = line.selection
    assert (chosen.extras, chosen.groups, chosen.package) == (("a", "b"), ("docs",), "p")
    assert chosen.no_dev and chosen.no_install_project and chosen.no_editable
    assert dependency_options(chosen) == DependencyOptions(
        extras=("a", "b"),
        groups=("docs",),
        no_dev=True,
        no_editable=True,
        no_install_project=True,
        no_install_packages=("q",),
    )
    assert settled("sync").selection.package is None


def test_script_names_a_file_for_lock_and_sync_but_is_a_flag_for_run() -> None:
    assert settled("lock", "--script", "s.py").lock.script == "s.py"
    assert settled("sync", "--script", "s.py", "--dry-run").lock.dry_run is True
    run = settled("run", "--script", "s.py")
    assert run.lock.script is None and run.run.script is True


def test_lock_and_sync_modes_and_the_flag_a_message_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = settled("sync", "--locked", "--inexact", "--check")
    assert (line.lock.locked, line.lock.frozen, line.lock.check) == (True, False, True)
    assert (line.sync.inexact, line.sync.exact) == (True, False)
    monkeypatch.setenv("PYRUN_FROZEN", "1")
    from_variable = settled("sync")
    assert from_variable.lock.frozen is True
    assert from_variable.cli.flag_name("frozen") == "PYRUN_FROZEN=1"


def test_export_options_are_settled_with_their_lists() -> None:
    line = settled(
        "export",
        *("--format", "pylock.toml", "-o", "out.toml", "--no-hashes"),
        *("--no-emit-package", "x", "--prune", "y", "--no-header"),
    )
    options = line.export
    assert (options.format, options.output_file) == ("pylock.toml", "out.toml")
    assert options.no_hashes and options.no_header and not options.no_annotate
    assert (options.no_emit_packages, options.prune) == (("x",), ("y",))
    assert settled("export").export.format is None
