"""What the last successful sync saw, so the next run can prove nothing changed.

A stamp lists every input file discovery and locking read (with its size, mtime and content
hash) and every file whose *absence* mattered, the settings that shape the environment, and the
environment's identity (its `pyvenv.cfg`, interpreter and `site-packages`). If all of it still
holds, the environment is exactly what a full run would produce, and the command can start
without parsing TOML, resolving or importing any of the heavy libraries.

This module is on the warm path: standard library only, and only its cheapest corner. The stamp
is a small line-oriented text file (JSON would cost more to import than the check itself).
"""

from __future__ import annotations

import os

FORMAT = "pyrun-stamp 2"
BUCKET = "stamps-v1"

# Options that never change the environment: output, the target and the child's variables.
NEUTRAL_OPTIONS = {
    "quiet",
    "verbose",
    "color",
    "no_progress",
    "directory",
    "project",
    "help",
    "module",
    "script",
    "gui_script",
    "env_file",
    "no_env_file",
    "max_recursion_depth",
    "show_resolution",
    "no_active",
}
# Variables that never change the environment (VIRTUAL_ENV is checked on its own).
NEUTRAL_VARIABLES = {
    "PYRUN_RUN_RECURSION_DEPTH",
    "PYRUN_NO_PROGRESS",
    "PYRUN_ENV_FILE",
    "PYRUN_NO_ENV_FILE",
    "PYRUN_SHOW_RESOLUTION",
    "PYRUN_RUN_MAX_RECURSION_DEPTH",
}
# Variables without an option that decide where things are looked up.
LOCATION_VARIABLES = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "UV_PYTHON_INSTALL_DIR",
)


def sha256_hex(data: bytes) -> str:
    # The builtin module avoids hashlib's OpenSSL import (~5 ms): `_sha2` since 3.12.
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256
    return sha256(data).hexdigest()


def settings_key(options: dict[str, object], environ: dict[str, str] | os._Environ[str]) -> str:
    """A digest of everything in the command line and environment that shapes the env."""
    parts = [f"{name}={options[name]!r}" for name in sorted(options) if name not in NEUTRAL_OPTIONS]
    for name in sorted(environ):
        if name.startswith("PYRUN_") and name not in NEUTRAL_VARIABLES:
            parts.append(f"${name}={environ[name]}")
    parts += [f"${name}={environ.get(name, '')}" for name in LOCATION_VARIABLES]
    return sha256_hex("\n".join(parts).encode())[:32]


def stamp_path(cache_dir: str, project_dir: str, key: str) -> str:
    name = sha256_hex(f"{project_dir}\0{key}".encode())[:32]
    return os.path.join(cache_dir, BUCKET, name)


# -- recording ------------------------------------------------------------------------------


def file_record(path: str) -> str:
    """`file <path> <mtime_ns> <size> <sha256>`, or `absent <path>`."""
    try:
        info = os.stat(path)
        with open(path, "rb") as handle:
            digest = sha256_hex(handle.read())
    except FileNotFoundError:
        return f"absent\t{path}"
    except OSError:
        return f"unreadable\t{path}"
    return f"file\t{path}\t{info.st_mtime_ns}\t{info.st_size}\t{digest}"


def dir_record(path: str) -> str:
    """A directory whose listing matters (workspace member globs): its mtime changes with it."""
    try:
        return f"dir\t{path}\t{os.stat(path).st_mtime_ns}"
    except OSError:
        return f"absent\t{path}"


def write_stamp(
    path: str,
    *,
    key: str,
    env: str,
    python: str,
    site_packages: str,
    files: list[str],
    dirs: list[str],
    strict: list[str] | None = None,
) -> None:
    """Record the state after a successful sync; written atomically (temp file + rename).

    `strict` files count as changed when their mtime changes even if their bytes do not: uv keys
    an editable build on `pyproject.toml`'s mtime, so `touch pyproject.toml` must rebuild.
    """
    lines = [FORMAT, f"key\t{key}", f"env\t{env}", f"python\t{python}"]
    strict = strict or []
    lines += [file_record(f) for f in dict.fromkeys(files) if f not in strict]
    lines += [file_record(f).replace("file\t", "strict\t", 1) for f in dict.fromkeys(strict)]
    lines += [dir_record(d) for d in dict.fromkeys(dirs)]
    lines += [dir_record(site_packages), file_record(os.path.join(env, "pyvenv.cfg"))]
    lines.append(_interpreter_record(python))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def _interpreter_record(python: str) -> str:
    """The interpreter the env links to; an in-place upgrade changes its size or mtime."""
    real = os.path.realpath(python)
    try:
        info = os.stat(real)
    except OSError:
        return f"absent\t{real}"
    return f"binary\t{real}\t{info.st_mtime_ns}\t{info.st_size}"


def remove_stamp(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- verifying -------------------------------------------------------------------------------


class Stamp:
    __slots__ = ("env", "key", "lines", "python")

    def __init__(self, key: str, env: str, python: str, lines: list[str]) -> None:
        self.key = key
        self.env = env
        self.python = python
        self.lines = lines


def read_stamp(path: str) -> Stamp | None:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    if len(lines) < 4 or lines[0] != FORMAT:
        return None
    fields = dict(line.split("\t", 1) for line in lines[1:4] if "\t" in line)
    if set(fields) != {"key", "env", "python"}:
        return None
    return Stamp(fields["key"], fields["env"], fields["python"], lines[4:])


def first_change(stamp: Stamp) -> str | None:
    """The first recorded input that no longer holds (a path and what changed), or None."""
    for line in stamp.lines:
        reason = _check(line.split("\t"))
        if reason is not None:
            return reason
    return None


def _check(fields: list[str]) -> str | None:
    kind, path = fields[0], fields[1] if len(fields) > 1 else ""
    if kind == "absent":
        return f"`{path}` was created" if os.path.lexists(path) else None
    try:
        info = os.stat(path)
    except OSError:
        return f"`{path}` was removed"
    if kind == "dir":
        return None if str(info.st_mtime_ns) == fields[2] else f"`{path}` changed"
    if kind == "binary":
        same = str(info.st_mtime_ns) == fields[2] and str(info.st_size) == fields[3]
        return None if same else f"the interpreter `{path}` changed"
    if kind == "file":
        return _check_file(path, info, fields)
    if kind == "strict":
        same = str(info.st_mtime_ns) == fields[2] and str(info.st_size) == fields[3]
        return None if same else f"`{path}` was modified"
    return f"`{path}` could not be read"


def _check_file(path: str, info: os.stat_result, fields: list[str]) -> str | None:
    if str(info.st_mtime_ns) == fields[2] and str(info.st_size) == fields[3]:
        return None
    # Touched but maybe not changed (a checkout, an editor saving the same bytes): compare
    # contents, so that only a real change sends the run down the slow path.
    try:
        with open(path, "rb") as handle:
            same = sha256_hex(handle.read()) == fields[4]
    except OSError:
        return f"`{path}` could not be read"
    return None if same else f"`{path}` changed"
