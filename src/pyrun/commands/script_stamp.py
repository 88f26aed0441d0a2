"""The script environment's stamp (SPEC §2.3): a digest of every input that shaped the env, and
the records that let a warm run prove it current with `stat` and hashing alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pyrun import stamp
from pyrun.commands.script_file import Script
from pyrun.local.pyselect import PythonChoice
from pyrun.options import Settled
from pyrun.stamp import SCRIPT_STAMP_FORMAT as STAMP_FORMAT
from pyrun.stamp import SCRIPT_STAMP_NAME as STAMP_NAME
from pyrun.stamp import sha256_hex

# `<env>/.pyrun-script-stamp`, one record per line, tab-separated:
#
#     pyrun-script-stamp 1
#     key      <digest of everything below plus the parsed settings>   (this module's check)
#     options  <pyrun.stamp.script_options_key of the options>
#     block    <sha256 of the metadata block's TOML text>
#     python   <realpath of the env's bin/python>  <mtime_ns>  <size>
#     file     <path>  <mtime_ns>  <size>  <sha256>    settings, version files, script lock
#     absent   <path>                                  the same kinds of file, not there
#     input    <path>  <mtime_ns>  <size>  (or `-`)    what local dependencies' cache keys read
#
# The records let a warm path that has not parsed any TOML prove the env current with `stat`
# and hashing alone: same options digest, same block digest, and every record still true.

_CONFIG_NAMES = ("pyproject.toml", "pyrun.toml", "uv.toml", ".python-version", ".python-versions")


def env_key(
    script: Script, settings: Settled, choice: PythonChoice, path: str
) -> tuple[str, list[str]]:
    """A digest of everything that decides what the script env must contain, and the stamp
    records that make it checkable without parsing anything."""
    records = [
        f"options\t{options_digest(settings)}",
        f"block\t{stamp.block_digest(script.metadata.raw)}",
        stamp.python_record(path),
        *(stamp.file_record(p) for p in _config_files(script, settings)),
    ]
    parts = [STAMP_FORMAT, path, *map(_content_only, records)]
    parts += [f"layer {origin}: {table!r}" for origin, table in settings.layers]
    request = choice.request.describe() if choice.request is not None else ""
    parts.append(f"python {choice.source} {request} {choice.file or ''}")
    key = sha256_hex("\n".join(parts).encode("utf-8", "surrogateescape"))
    return key, records


def _content_only(record: str) -> str:
    """A `file` record without its stat: touching a file must not change the key."""
    if not record.startswith("file\t"):
        return record
    _, path, _, _, digest = record.split("\t")
    return f"file\t{path}\t{digest}"


def options_digest(settings: Settled) -> str:
    """The options and `PYRUN_*`/location variables that shape a script env."""
    return stamp.script_options_key(dict(settings.cli.values), os.environ)


def _config_files(script: Script, settings: Settled) -> list[str]:
    """Every file whose content or presence can change the settings, the Python request or
    the lock: config and version files from the script's directory up, the user's and the
    system's, `--config-file`, and the script lock."""
    from pyrun.settings import system_config_files, user_config_dir, user_config_files

    files = []
    current = script.directory
    while True:
        files += [os.path.join(current, name) for name in _CONFIG_NAMES]
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    user = user_config_dir(os.environ)
    files += [*user_config_files(os.environ), os.path.join(user, ".python-version")]
    files += system_config_files(os.environ)
    if settings.globals.config_file:
        files.append(os.path.abspath(str(settings.globals.config_file)))
    if script.lock_path is not None:
        files.append(script.lock_path)
    return files


def write_stamp(prefix: str, key: str, records: Sequence[str], inputs: Sequence[str]) -> None:
    """Record the key, its records and the stat of every local input file, atomically."""
    from pyrun.local.cache import atomic_write_bytes

    lines = [STAMP_FORMAT, f"key\t{key}", *records]
    lines += [stamp.input_record(path) for path in sorted(set(inputs))]
    atomic_write_bytes(Path(prefix) / STAMP_NAME, ("\n".join(lines) + "\n").encode())


def stamp_holds(prefix: str, key: str) -> bool:
    """Whether the env was last synced for exactly `key` and no recorded file changed."""
    try:
        with open(os.path.join(prefix, STAMP_NAME), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return False
    if lines[:2] != [STAMP_FORMAT, f"key\t{key}"]:
        return False
    return all(record_holds(line, prefix) for line in lines[2:])


def record_holds(line: str, prefix: str) -> bool:
    kind, _, rest = line.partition("\t")
    return stamp.script_record_holds(kind, rest, prefix)
