# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""Regenerate `src/pyrun/data/python-downloads.json` from uv's list of managed Python builds.

Usage: `python scripts/update_python_downloads.py [PATH_OR_URL | --from-uv UV] [--output PATH]`

pyrun must choose the build the uv release it follows chooses, so the list to ship is the one
compiled into that uv binary (`--from-uv`, e.g. `.dev/venv/bin/uv`, pinned in pyproject.toml).
uv embeds its `download-metadata.json` as one zstd frame; it is found by its magic number and
decompressed with the `zstd` command. `uv python list --all-versions --all-platforms
--only-downloads` prints no hashes, so it only serves as a cross-check: every key it lists must
be in the extracted list. A path or URL of a `download-metadata.json` (SPEC §6.2) works too.

Every entry is validated (types, the key agrees with its fields, a 64-digit hex sha256 or null)
and the whole list is written minified in input order, so running the script twice on the same
input gives byte-identical output and the committed file can be checked by a test.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "python-downloads.json"
DEFAULT_OUTPUT = REPO_ROOT / "src" / "pyrun" / "data" / "python-downloads.json"

FIELDS = ("name", "arch", "os", "libc", "major", "minor", "patch", "prerelease", "url", "sha256")
PRERELEASE = re.compile(r"^(?:(?:a|b|rc)\d+)?$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def read_source(location: str) -> bytes:
    if re.match(r"^https?://", location) or location.startswith("file://"):
        with urllib.request.urlopen(location, timeout=60) as response:
            data: bytes = response.read()
            return data
    return Path(location).read_bytes()


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# The embedded list is a JSON object whose keys are managed-Python keys.
EMBEDDED_START = b'{"cpython-'


def read_uv_binary(uv: str) -> bytes:
    """The download list compiled into the uv binary at `uv`, as JSON bytes."""
    binary = Path(uv).read_bytes()
    start = binary.find(ZSTD_MAGIC)
    while start != -1:
        text = zstd_decompress(binary[start:])
        if text is not None and text.startswith(EMBEDDED_START):
            return text
        start = binary.find(ZSTD_MAGIC, start + 1)
    raise ValueError(f"no embedded download list found in {uv}")


def zstd_decompress(data: bytes) -> bytes | None:
    """The first zstd frame of `data` decompressed, or None when it is not a valid frame.

    `zstd -d` stops with an error at the trailing bytes after the frame, having written the
    frame's content: a non-empty output is the frame even when the exit code is not 0.
    """
    try:
        done = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True)
    except FileNotFoundError as exc:
        raise OSError("the `zstd` command is needed to read a uv binary") from exc
    return done.stdout or None


def listed_keys(uv: str) -> set[str]:
    """The keys `uv python list` shows for every platform (it needs no network)."""
    command = [uv, "python", "list", "--all-versions", "--all-platforms", "--only-downloads"]
    done = subprocess.run(
        [*command, "--output-format", "json"], capture_output=True, text=True, check=True
    )
    return {entry["key"] for entry in json.loads(done.stdout)}


def unlisted(data: dict[str, Any], keys: set[str]) -> list[str]:
    """Keys uv lists but the extracted list lacks. uv shows macOS as `macos` where the data
    says `darwin`, and a CPython build for emscripten as `pyodide`."""
    known = {shown_key(key) for key in data}
    return sorted(key for key in keys if key not in known)


def shown_key(key: str) -> str:
    key = key.replace("-darwin-", "-macos-")
    if "-emscripten-" in key and key.startswith("cpython-"):
        return "pyodide-" + key.removeprefix("cpython-")
    return key


def expected_key(entry: dict[str, Any]) -> str:
    """The key uv derives from an entry's fields: `cpython-3.12.14+debug-linux-x86_64_v2-gnu`."""
    variant = f"+{entry['variant']}" if entry.get("variant") else ""
    arch = entry["arch"]["family"]
    if entry["arch"].get("variant"):
        arch += f"_{entry['arch']['variant']}"
    version = f"{entry['major']}.{entry['minor']}.{entry['patch']}{entry['prerelease']}"
    return f"{entry['name']}-{version}{variant}-{entry['os']}-{arch}-{entry['libc']}"


def entry_problems(key: str, entry: object) -> list[str]:
    """Everything wrong with one entry, each problem naming the entry and the field."""
    if not isinstance(entry, dict):
        return [f"{key}: expected an object, found {type(entry).__name__}"]
    missing = [field for field in FIELDS if field not in entry]
    if missing:
        return [f"{key}: missing field(s) {', '.join(missing)}"]
    problems = [f"{key}.{field}: {text}" for field, text in field_problems(entry)]
    if not problems and expected_key(entry) != key:
        problems.append(f"{key}: the key does not match its fields ({expected_key(entry)})")
    return problems


def field_problems(entry: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for field in ("name", "os", "libc", "url"):
        if not isinstance(entry[field], str) or not entry[field]:
            problems.append((field, "expected a non-empty string"))
    for field in ("major", "minor", "patch"):
        if not isinstance(entry[field], int) or isinstance(entry[field], bool):
            problems.append((field, "expected an integer"))
    arch = entry["arch"]
    if not isinstance(arch, dict) or not isinstance(arch.get("family"), str):
        problems.append(("arch", "expected {family, variant}"))
    elif arch.get("variant") is not None and not isinstance(arch["variant"], str):
        problems.append(("arch.variant", "expected a string or null"))
    if not isinstance(entry["prerelease"], str) or not PRERELEASE.match(entry["prerelease"]):
        problems.append(("prerelease", f"expected '' or aN/bN/rcN, found {entry['prerelease']!r}"))
    sha = entry["sha256"]
    if sha is not None and (not isinstance(sha, str) or not SHA256.match(sha)):
        problems.append(("sha256", "expected 64 hex digits or null"))
    for field in ("variant", "build"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            problems.append((field, "expected a string or null"))
    return problems


def validate(data: object) -> list[str]:
    if not isinstance(data, dict):
        return ["the download list must be a JSON object mapping keys to entries"]
    problems: list[str] = []
    for key, entry in data.items():
        problems.extend(entry_problems(key, entry))
    return problems


def render(data: dict[str, Any]) -> bytes:
    # Minified, input order (json keeps dict order), ASCII-escaped: deterministic bytes.
    return (json.dumps(data, separators=(",", ":")) + "\n").encode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE), help="path or URL")
    parser.add_argument("--from-uv", metavar="UV", help="read the list compiled into this uv")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write")
    args = parser.parse_args(argv)
    source = args.from_uv or args.source
    try:
        raw = read_uv_binary(args.from_uv) if args.from_uv else read_source(args.source)
        data = json.loads(raw)
        missing = unlisted(data, listed_keys(args.from_uv)) if args.from_uv else []
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"error: cannot read the download list at {source}: {exc}", file=sys.stderr)
        return 1
    if missing:
        print(f"error: `uv python list` shows keys missing from {source}:", file=sys.stderr)
        for key in missing:
            print(f"  {key}", file=sys.stderr)
        return 1
    problems = validate(data)
    if problems:
        print(f"error: invalid download list at {source}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(render(data))
    print(f"Wrote {len(data)} entries to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
