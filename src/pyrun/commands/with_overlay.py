"""The per-run overlay of a `--with` layer (SPEC §2.11 step 5): a throw-away venv whose
`site-packages` holds only a `.pth` that adds the with-env's `site-packages` and then the base
env's, with both envs' console scripts re-pointed at it. Neither the project's `.venv` nor the
cached with-env is ever written to, so nothing leaks into other runs.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pyrun.core.interpreter import Interpreter
from pyrun.local.cache import Cache
from pyrun.local.childenv import RunEnv
from pyrun.local.venv import venv_python

OVERLAY_PTH = "_pyrun_ephemeral_overlay.pth"
# What a console script's first lines may name: the interpreter of the env it was installed in.
_SHEBANG_LINES = 3


def make_overlay(
    base: RunEnv, with_prefix: str, interpreter: Interpreter, sites: Sequence[str], cache: Cache
) -> str:
    """A throw-away venv that sees the with-env first, then the base env (SPEC §2.11 step 5)."""
    from pyrun.local.venv import base_interpreter, create_venv, read_pyvenv_cfg, site_packages

    base_prefix = base.venv or interpreter.prefix
    config = (read_pyvenv_cfg(base.venv) if base.venv else None) or {}
    include = config.get("include-system-site-packages", "false")
    overlay = tempfile.mkdtemp(prefix=".tmp", dir=cache.builds)
    try:
        new_base = base_interpreter(interpreter)
        extra = {"extends-environment": base_prefix, "include-system-site-packages": include}
        create_venv(overlay, new_base, prompt="overlay", extra_cfg=extra)
        with_site = site_packages(with_prefix, new_base)
        _write_pth(Path(site_packages(overlay, new_base)), [with_site, *sites])
        envs = [with_prefix, *([base.venv] if base.venv else [])]
        copy_console_scripts(overlay, envs)
        _link_jupyter(overlay, envs)
    except BaseException:
        shutil.rmtree(overlay, ignore_errors=True)
        raise
    return overlay


def overlay_pth_text(site_dirs: Iterable[str]) -> str:
    """One line: import `site` and add each directory, written as bytes so any path survives."""
    calls = "; ".join(f"site.addsitedir(os.fsdecode({_bytes_literal(d)}))" for d in site_dirs)
    return f"import os, site; {calls}\n"


def _bytes_literal(path: str) -> str:
    out = []
    for byte in os.fsencode(path):
        char = chr(byte)
        if char in '"\\' or not 0x20 <= byte < 0x7F:
            out.append(f"\\x{byte:02x}")
        else:
            out.append(char)
    return 'b"' + "".join(out) + '"'


def _write_pth(site: Path, site_dirs: Sequence[str]) -> None:
    (site / OVERLAY_PTH).write_text(overlay_pth_text(site_dirs), encoding="utf-8")


def copy_console_scripts(overlay: str, envs: Sequence[str]) -> None:
    """Console scripts of the with-env, then of the base env, re-pointed at the overlay's
    interpreter, so a tool sees the `--with` packages and the project's (first copy wins)."""
    bindir = os.path.join(overlay, "bin")
    new_python = venv_python(overlay)
    for env in envs:
        old_python = venv_python(env)
        source_dir = os.path.join(env, "bin")
        for name in _listdir(source_dir):
            target = os.path.join(bindir, name)
            if _skipped_script(name) or os.path.lexists(target):
                continue
            _copy_script(os.path.join(source_dir, name), target, old_python, new_python)


def _skipped_script(name: str) -> bool:
    return name.startswith(("python", "activate", "deactivate", "pydoc")) or name == "pyvenv.cfg"


def _copy_script(source: str, target: str, old_python: str, new_python: str) -> None:
    try:
        if not os.path.isfile(source) or os.path.islink(source):
            return
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError:
        return
    if not data.startswith(b"#!"):
        return
    head, sep, rest = _split_lines(data, _SHEBANG_LINES)
    old, new = os.fsencode(old_python), os.fsencode(new_python)
    if old not in head:
        return
    with open(target, "wb") as handle:
        handle.write(head.replace(old, new) + sep + rest)
    mode = os.stat(source).st_mode
    os.chmod(target, stat.S_IMODE(mode))


def _split_lines(data: bytes, count: int) -> tuple[bytes, bytes, bytes]:
    """The first `count` lines, and the rest (the separator kept apart)."""
    index = -1
    for _ in range(count):
        index = data.find(b"\n", index + 1)
        if index < 0:
            return data, b"", b""
    return data[:index], b"\n", data[index + 1 :]


def _link_jupyter(overlay: str, envs: Sequence[str]) -> None:
    """Jupyter looks under `sys.prefix`: link what both envs provide there (first wins)."""
    for relative in (os.path.join("etc", "jupyter"), os.path.join("share", "jupyter")):
        for env in envs:
            source = os.path.join(env, relative)
            if not os.path.isdir(source):
                continue
            destination = os.path.join(overlay, relative)
            os.makedirs(destination, exist_ok=True)
            for name in _listdir(source):
                link = os.path.join(destination, name)
                if not os.path.lexists(link):
                    os.symlink(os.path.join(source, name), link)


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []
