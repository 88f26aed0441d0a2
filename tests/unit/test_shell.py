"""The user's shell and its command to put a directory on `PATH`, as uv's `uv-shell` tells."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrun.local.shell import (
    not_on_path_warning,
    on_path,
    prepend_path_command,
    shell_from_env,
)


@pytest.mark.parametrize(
    ("environ", "shell"),
    [
        ({"FISH_VERSION": "3", "BASH_VERSION": "5", "SHELL": "/bin/zsh"}, "fish"),
        ({"BASH_VERSION": "5", "SHELL": "/usr/bin/fish"}, "bash"),
        ({"NU_VERSION": "0.9", "FISH_VERSION": "3"}, "nushell"),
        ({"SHELL": "/usr/bin/zsh"}, "zsh"),
        ({"SHELL": "/opt/pwsh"}, "powershell"),
        ({"SHELL": "/bin/dash"}, None),
        ({}, None),
    ],
)
def test_the_shell_comes_from_its_own_variables_before_SHELL(
    environ: dict[str, str], shell: str | None
) -> None:
    assert shell_from_env(environ) == shell


def test_each_shell_has_its_own_command_with_its_own_escapes() -> None:
    odd = '/home/a "b"\\c$'
    assert prepend_path_command("bash", odd) == 'export PATH="/home/a \\"b\\"\\\\c$:$PATH"'
    assert prepend_path_command("fish", "/x") == 'fish_add_path "/x"'
    assert prepend_path_command("csh", "/x") == 'setenv PATH "/x:$PATH"'
    assert prepend_path_command("powershell", odd) == '$env:PATH = "/home/a `"b`"\\c`$;$env:PATH"'
    assert prepend_path_command("nushell", "/x") is None


def test_on_path_compares_files_and_expands_the_home(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    link = tmp_path / "link"
    link.symlink_to(bin_dir)
    assert on_path(str(bin_dir), {"PATH": f"/nowhere{os.pathsep}{link}"})
    assert not on_path(str(bin_dir), {"PATH": "/nowhere"})
    home = Path(os.path.expanduser("~"))
    assert on_path(str(home), {"PATH": "~"})


def test_the_warning_names_the_command_or_gives_the_neutral_advice(tmp_path: Path) -> None:
    def plain(text: str, part: str) -> str:
        return text

    directory = str(tmp_path)
    assert not_on_path_warning(directory, {"PATH": directory, "SHELL": "/bin/bash"}, plain) is None
    assert not_on_path_warning(directory, {"PATH": "", "SHELL": "/bin/bash"}, plain) == (
        f"`{directory}` is not on your PATH. To use installed Python executables, "
        f'run `export PATH="{directory}:$PATH"`.'
    )
    assert not_on_path_warning(directory, {"PATH": "", "NU_VERSION": "1"}, plain) == (
        f"`{directory}` is not on your PATH. To use installed Python executables, "
        "add the directory to your PATH."
    )
