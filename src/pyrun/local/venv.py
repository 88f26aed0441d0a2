"""Write, read and remove virtual environments.

pyrun writes venvs itself instead of running `python -m venv`: it takes a few milliseconds instead
of a subprocess, and the layout is exactly uv's (SPEC §2.7), which pip, `python -m venv --upgrade`
and IDEs accept. A venv is assembled in a sibling temporary directory and renamed into place, so
an interrupted creation never leaves a directory that looks like an environment.
"""

from __future__ import annotations

import errno
import os
import sys

from pyrun import __version__
from pyrun.core.interpreter import Interpreter
from pyrun.errors import PyrunError, os_error_text
from pyrun.local.venv_scripts import render_scripts

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pyrun.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)


class BaseInterpreter:
    """What a new venv needs to know about the interpreter it is made from (a slotted class:
    a `NamedTuple` costs ~0.9 M instructions to create at import, this a seventh)."""

    __slots__ = ("executable", "freethreaded", "implementation", "version")

    def __init__(
        self,
        *,
        executable: str,
        version: tuple[int, int, int],
        implementation: str,
        freethreaded: bool = False,
    ) -> None:
        self.executable = executable  # the base (non-venv) interpreter binary
        self.version = version
        self.implementation = implementation  # "CPython", "PyPy", ...
        self.freethreaded = freethreaded

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def lib_dir(self) -> str:
        suffix = "t" if self.freethreaded else ""
        if self.implementation.lower() == "pypy":
            return f"pypy{self.minor}"
        return f"python{self.minor}{suffix}"


def base_interpreter(interpreter: Interpreter) -> BaseInterpreter:
    """The base interpreter a new venv links to (a venv's own base when given a venv)."""
    return BaseInterpreter(
        executable=interpreter.base_executable or interpreter.executable,
        version=(interpreter.major, interpreter.minor, interpreter.patch),
        implementation=interpreter.display().split(" ")[0],
        freethreaded=interpreter.is_freethreaded,
    )


def read_pyvenv_cfg(prefix: str) -> dict[str, str] | None:
    """The key/value pairs of `<prefix>/pyvenv.cfg`, or None if it is missing."""
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip()] = value.strip()
    return config


def venv_python(prefix: str) -> str:
    return os.path.join(prefix, "bin", "python")


def site_packages(prefix: str, base: BaseInterpreter) -> str:
    return os.path.join(prefix, "lib", base.lib_dir, "site-packages")


def create_venv(
    prefix: str,
    base: BaseInterpreter,
    *,
    prompt: str | None = None,
    extra_cfg: dict[str, str] | None = None,
) -> None:
    """Create a venv at `prefix` (absent or empty) from `base`, atomically."""
    prefix = os.path.abspath(prefix)
    parent = os.path.dirname(prefix)
    try:
        os.makedirs(parent, exist_ok=True)
        staging = new_sibling_dir(parent, ".tmp-venv-")
    except OSError as exc:
        raise PyrunError(
            f"Failed to create virtual environment at `{prefix}`", causes=[os_error_text(exc)]
        ) from exc
    try:
        _populate(staging, prefix, base, prompt or os.path.basename(prefix), extra_cfg or {})
        _move_into_place(staging, prefix)
    except OSError as exc:
        _remove_quietly(staging)
        raise PyrunError(
            f"Failed to create virtual environment at `{prefix}`", causes=[os_error_text(exc)]
        ) from exc
    except BaseException:
        _remove_quietly(staging)
        raise


def new_sibling_dir(parent: str, prefix: str) -> str:
    """A new directory `<parent>/<prefix><random>` that no other process has made.

    What `tempfile.mkdtemp` does, without its import (with `random` and `shutil`, ~3 ms that a
    sync from the cache would pay only for this), and made with the umask's mode at once (an
    env is an ordinary directory, as uv makes it; mkdtemp's is private).
    """
    for _ in range(100):
        path = os.path.join(parent, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "No unused temporary directory name found", parent)


def _remove_quietly(directory: str) -> None:
    import shutil

    shutil.rmtree(directory, ignore_errors=True)


def _populate(
    staging: str, final: str, base: BaseInterpreter, prompt: str, extra_cfg: dict[str, str]
) -> None:
    bindir = os.path.join(staging, "bin")
    os.makedirs(os.path.join(staging, "lib", base.lib_dir, "site-packages"))
    os.makedirs(bindir)
    if sys.maxsize > 2**32 and os.name == "posix" and sys.platform != "darwin":
        os.symlink("lib", os.path.join(staging, "lib64"))
    os.symlink(base.executable, os.path.join(bindir, "python"))
    for alias in ("python3", f"python{base.minor}"):
        os.symlink("python", os.path.join(bindir, alias))
    site_rel = os.path.join("..", "lib", base.lib_dir, "site-packages")
    for name, text in render_scripts(final, prompt, site_rel).items():
        _write(os.path.join(bindir, name), text)
    _write(os.path.join(staging, ".gitignore"), "*\n")
    _write(os.path.join(staging, "CACHEDIR.TAG"), CACHEDIR_TAG)
    _write(os.path.join(staging, ".lock"), "")
    _write(os.path.join(staging, "pyvenv.cfg"), _pyvenv_cfg(base, prompt, extra_cfg))


def _pyvenv_cfg(base: BaseInterpreter, prompt: str, extra: dict[str, str]) -> str:
    lines = {
        "home": os.path.dirname(base.executable),
        "implementation": base.implementation,
        "pyrun": __version__,
        "version_info": ".".join(map(str, base.version)),
        "include-system-site-packages": "false",
        "prompt": prompt,
        **extra,
    }
    return "".join(f"{key} = {value}\n" for key, value in lines.items())


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _move_into_place(staging: str, final: str) -> None:
    if os.path.isdir(final) and not os.path.islink(final):
        os.rmdir(final)  # only an empty directory may be replaced (callers checked)
    os.rename(staging, final)


def remove_venv(prefix: str) -> None:
    """Remove a venv: rename it aside first, so a half-removed env is never mistaken for one."""
    prefix = os.path.abspath(prefix)
    if not os.path.lexists(prefix):
        return
    if os.path.islink(prefix) or not os.path.isdir(prefix):
        os.unlink(prefix)
        return
    graveyard = new_sibling_dir(os.path.dirname(prefix), ".tmp-removed-")
    os.rename(prefix, os.path.join(graveyard, "venv"))
    _remove_quietly(graveyard)


def is_empty_dir(path: str) -> bool:
    try:
        return os.path.isdir(path) and not os.listdir(path)
    except OSError:
        return False
