"""Which shell the user runs and how it puts a directory on `PATH`, as uv's `uv-shell` tells.

`python install` links `python3.X` into a bin directory; when that directory is not on `PATH`,
the warning names the command for the user's own shell (uv's words, less its `update-shell`,
which pyrun does not have).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

# The variables a running shell exports about itself, in uv's order of trust.
_SHELL_VARIABLES = (
    ("NU_VERSION", "nushell"),
    ("FISH_VERSION", "fish"),
    ("BASH_VERSION", "bash"),
    ("ZSH_VERSION", "zsh"),
    ("KSH_VERSION", "ksh"),
    ("PSModulePath", "powershell"),
)
_SHELL_NAMES = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "csh": "csh",
    "ksh": "ksh",
    "powershell": "powershell",
    "powershell_ise": "powershell",
    "pwsh": "powershell",
}


def shell_from_env(environ: Mapping[str, str]) -> str | None:
    """The user's shell: from the variables shells set, else `$SHELL`'s name; None if unknown
    (uv asks the parent process last; pyrun gives the shell-neutral advice instead)."""
    for variable, shell in _SHELL_VARIABLES:
        if variable in environ:
            return shell
    path = environ.get("SHELL")
    if not path:
        return None
    stem = os.path.basename(path).split(".", 1)[0]
    return _SHELL_NAMES.get(stem)


def _backslash_escaped(text: str) -> str:
    return "".join(f"\\{c}" if c in '\\"' else c for c in text)


def _backtick_escaped(text: str) -> str:
    # PowerShell also reads the Unicode double quotes as `"`, and `$` starts a variable.
    return "".join(f"`{c}" if c in '"`$\u201c\u201d\u201e' else c for c in text)


def prepend_path_command(shell: str, directory: str) -> str | None:
    """The command that puts `directory` first on `PATH` in `shell` (none for nushell)."""
    quoted = _backslash_escaped(directory)
    if shell in ("bash", "zsh", "ksh"):
        return f'export PATH="{quoted}:$PATH"'
    if shell == "fish":
        return f'fish_add_path "{quoted}"'
    if shell == "csh":
        return f'setenv PATH "{quoted}:$PATH"'
    if shell == "powershell":
        return f'$env:PATH = "{_backtick_escaped(directory)};$env:PATH"'
    return None


def on_path(directory: str, environ: Mapping[str, str]) -> bool:
    """Whether `directory` is one of `PATH`'s entries (the same file, `~` expanded)."""
    home = os.path.expanduser("~")
    for entry in environ.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        if entry == "~" or entry.startswith("~/"):
            entry = home + entry[1:]
        try:
            if os.path.samefile(directory, entry):
                return True
        except OSError:
            continue
    return False


def not_on_path_warning(
    directory: str, environ: Mapping[str, str], paint: Callable[[str, str], str]
) -> str | None:
    """uv's warning when installed executables in `directory` cannot be found; None when
    `directory` is on `PATH`. `paint(text, "path"|"command")` colours the two parts."""
    if on_path(directory, environ):
        return None
    start = (
        f"`{paint(directory, 'path')}` is not on your PATH. To use installed Python executables, "
    )
    shell = shell_from_env(environ)
    command = prepend_path_command(shell, directory) if shell else None
    if command is None:
        return start + "add the directory to your PATH."
    return start + f"run `{paint(command, 'command')}`."
