"""Activation scripts for the virtual environments pyrun writes: uv 0.13.9's, byte for byte.

The templates in `pyrun/data/activate/` are the ones uv writes (virtualenv's, MIT-licensed, as
uv ships them), with uv's placeholders. A drop-in must leave the same `bin/` behind: users and
their tools source `activate.nu`/`.ps1`/`.xsh` or run the `.bat` files from a shared checkout,
and uv's own scripts carry fixes (Cygwin paths, `hash -r`, prompt handling) a short rewrite lost.
"""

from __future__ import annotations

import os

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "activate")

# Written in uv's order; `activate_this.py` is stored as `.in` so linters leave the template be.
SCRIPTS = (
    "activate",
    "activate.csh",
    "activate.fish",
    "activate.nu",
    "activate.xsh",
    "activate.ps1",
    "activate.bat",
    "deactivate.bat",
    "pydoc.bat",
    "activate_this.py",
)


def _posix_single_quoted(value: str) -> str:
    """Text safe inside '…' in POSIX shells, fish and csh: a quote closes, is double-quoted, and
    reopens (uv's `escape_posix_for_single_quotes`)."""
    return value.replace("'", "'\"'\"'")


def _bytes_escaped(value: bytes) -> str:
    """`value` as the inside of a Python bytes literal, escaped as Rust's `escape_ascii` does."""
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\", 0x27: "\\'", 0x22: '\\"'}
    return "".join(
        named.get(byte) or (chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}")
        for byte in value
    )


def _values(name: str, venv: str, prompt: str, site_packages_rel: str) -> dict[str, str]:
    # Batch files take the path as it is; uv quotes it for the POSIX-style shells only.
    venv_dir = venv if name.endswith(".bat") else _posix_single_quoted(venv)
    if name == "activate.nu":
        venv_dir = f"'{venv_dir}'"
    shown_prompt = prompt
    if name == "activate.xsh":
        shown_prompt = f'b"{_bytes_escaped(prompt.encode())}".decode("utf-8")'
    return {
        "{{ VIRTUAL_ENV_DIR }}": venv_dir,
        "{{ VIRTUAL_PROMPT }}": shown_prompt,
        "{{ RELATIVE_SITE_PACKAGES }}": site_packages_rel,
    }


def _template(name: str) -> str:
    stored = f"{name}.in" if name.endswith(".py") else name
    with open(os.path.join(TEMPLATE_DIR, stored), encoding="utf-8", newline="") as handle:
        return handle.read()


def render_scripts(venv: str, prompt: str, site_packages_rel: str) -> dict[str, str]:
    """The activation scripts' text, keyed by file name in `bin/`."""
    scripts = {}
    for name in SCRIPTS:
        text = _template(name)
        for placeholder, value in _values(name, venv, prompt, site_packages_rel).items():
            text = text.replace(placeholder, value)
        # uv keeps its batch files with Windows line endings, on every platform.
        scripts[name] = text.replace("\n", "\r\n") if name.endswith(".bat") else text
    return scripts
