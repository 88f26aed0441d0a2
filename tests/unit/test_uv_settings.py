"""uv's own settings as a fallback: `UV_*` variables beneath `PYRUN_*`, `uv.toml` beneath
pyrun's files (issue 16)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrun.cliparse import adopt_uv_variables, env_lookup, parse_argv
from pyrun.errors import PyrunError
from pyrun.settings import load_settings, system_config_files, user_config_files


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith(("PYRUN_", "UV_", "XDG_CONFIG")):
            monkeypatch.delenv(key)


def test_uv_variable_stands_in_for_pyrun_variable(monkeypatch):
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:1/simple")
    monkeypatch.setenv("UV_OFFLINE", "1")
    args = parse_argv(["sync"])
    assert args.default_index == "http://127.0.0.1:1/simple"
    assert args.offline is True
    assert args.sources["default_index"] == "env:UV_DEFAULT_INDEX"


def test_pyrun_variable_wins_over_uv_variable(monkeypatch):
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://uv.invalid/simple")
    monkeypatch.setenv("PYRUN_DEFAULT_INDEX", "http://pyrun.invalid/simple")
    args = parse_argv(["sync"])
    assert args.default_index == "http://pyrun.invalid/simple"
    assert args.sources["default_index"] == "env:PYRUN_DEFAULT_INDEX"


def test_command_line_wins_over_uv_variable(monkeypatch):
    monkeypatch.setenv("UV_INDEX_URL", "http://uv.invalid/simple")
    args = parse_argv(["lock", "--index-url", "http://cli.invalid/simple"])
    assert args.index_url == "http://cli.invalid/simple"


def test_uv_variable_lists_split_as_pyrun_variables_do(monkeypatch):
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", "http://a.invalid/simple http://b.invalid/simple")
    args = parse_argv(["lock"])
    assert args.extra_index_url == ["http://a.invalid/simple", "http://b.invalid/simple"]


def test_conflict_names_the_uv_variable(monkeypatch):
    monkeypatch.setenv("UV_LOCKED", "1")
    monkeypatch.setenv("UV_FROZEN", "1")
    with pytest.raises(PyrunError) as caught:
        parse_argv(["sync"])
    assert "`UV_LOCKED` (environment variable)" in caught.value.message


def test_bad_uv_boolean_names_the_uv_variable(monkeypatch):
    monkeypatch.setenv("UV_OFFLINE", "maybe")
    with pytest.raises(PyrunError, match="`UV_OFFLINE` with invalid value `maybe`"):
        parse_argv(["sync"])


def test_uv_python_install_dir_is_never_pyrun_install_dir():
    # It already names uv's own Pythons, which pyrun reads but must not install into.
    assert env_lookup("PYRUN_PYTHON_INSTALL_DIR", {"UV_PYTHON_INSTALL_DIR": "/uv"}) is None


def test_uv_cache_dir_gets_a_pyrun_directory_inside_it():
    found = env_lookup("PYRUN_CACHE_DIR", {"UV_CACHE_DIR": "/ci/cache"})
    assert found == (os.path.join("/ci/cache", "pyrun"), "UV_CACHE_DIR")


def test_adopt_sets_only_the_missing_pyrun_variables():
    environ = {
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_OFFLINE": "1",
        "PYRUN_OFFLINE": "0",
        "UV_INDEX_PRIVATE_PASSWORD": "secret",
        "UV_PYTHON_INSTALL_DIR": "/uv/python",
    }
    adopted = adopt_uv_variables(environ)
    assert sorted(adopted) == [
        ("PYRUN_INDEX_PRIVATE_PASSWORD", "UV_INDEX_PRIVATE_PASSWORD"),
        ("PYRUN_PYTHON_DOWNLOADS", "UV_PYTHON_DOWNLOADS"),
    ]
    assert environ["PYRUN_PYTHON_DOWNLOADS"] == "never"
    assert environ["PYRUN_OFFLINE"] == "0"
    assert "PYRUN_PYTHON_INSTALL_DIR" not in environ


# -- settings files ----------------------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def read_toml(path: str) -> dict[str, object]:
    import tomllib

    with open(path, "rb") as file:
        return tomllib.load(file)


def winning(settings, key: str) -> object:
    """The value the highest-precedence layer gives `key` (None: no layer has it)."""
    return next((table[key] for _, table in settings.layers if key in table), None)


def load(project: Path | None = None, **kwargs: object):
    found: list[str] = []
    settings = load_settings(
        config_file=kwargs.get("config_file"),  # type: ignore[arg-type]
        no_config=bool(kwargs.get("no_config")),
        project_root=str(project) if project else None,
        project_tool=None,
        read_toml=read_toml,
        warn=pytest.fail,
        debug=found.append,
    )
    return settings, found


def test_user_and_system_uv_toml_apply_beneath_pyrun_files(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc"))
    pyrun_user = write(tmp_path / "home/pyrun/pyrun.toml", 'resolution = "lowest"\n')
    uv_user = write(tmp_path / "home/uv/uv.toml", 'resolution = "highest"\noffline = true\n')
    uv_system = write(tmp_path / "etc/uv/uv.toml", 'index-url = "http://sys.invalid"\n')
    settings, found = load()
    assert [origin for origin, _ in settings.layers] == [pyrun_user, uv_user, uv_system]
    assert winning(settings, "resolution") == "lowest"
    assert winning(settings, "offline") is True
    assert winning(settings, "index-url") == "http://sys.invalid"
    assert found == [
        f"Found user configuration in: {pyrun_user}",
        f"Found user configuration in: {uv_user}",
        f"Found system configuration in: {uv_system}",
        f"Using `resolution` from `{pyrun_user}`",
        f"Using `offline` from `{uv_user}`",
        f"Using `index-url` from `{uv_system}`",
    ]


def test_project_uv_toml_beats_user_uv_toml(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    write(tmp_path / "home/uv/uv.toml", "offline = true\n")
    project = tmp_path / "project"
    write(project / "uv.toml", "offline = false\n")
    settings, _ = load(project)
    assert winning(settings, "offline") is False


def test_first_system_uv_toml_wins_and_etc_is_the_last_resort(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{first}{os.pathsep}{second}")
    write(second / "uv/uv.toml", "offline = true\n")
    assert [p for p in system_config_files(os.environ) if p.endswith("uv.toml")] == [
        str(first / "uv/uv.toml"),
        str(second / "uv/uv.toml"),
        "/etc/uv/uv.toml",
    ]
    settings, _ = load()
    assert winning(settings, "offline") is True


def test_config_file_and_no_config_skip_uv_toml(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    write(tmp_path / "home/uv/uv.toml", "offline = true\n")
    given = write(tmp_path / "given.toml", "resolution = 'lowest'\n")
    settings, _ = load(config_file=given)
    assert winning(settings, "offline") is None
    settings, _ = load(no_config=True)
    assert settings.layers == []


def test_user_files_name_both_tools(monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", "/cfg")
    assert user_config_files(os.environ) == ["/cfg/pyrun/pyrun.toml", "/cfg/uv/uv.toml"]


def test_verbose_names_the_variable_behind_each_option(monkeypatch, capsys):
    from pyrun import cli

    monkeypatch.setenv("UV_NO_CACHE", "1")
    monkeypatch.setenv("PYRUN_NO_PROGRESS", "1")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setattr(os, "environ", dict(os.environ))  # adoption must not leak
    assert cli.main(["-v", "cache", "--help"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "DEBUG Using `--no-cache` from `UV_NO_CACHE`" in err
    assert "DEBUG Using `--no-progress` from `PYRUN_NO_PROGRESS`" in err
    assert "DEBUG Using uv's `UV_PYTHON_DOWNLOADS` for `PYRUN_PYTHON_DOWNLOADS`" in err
