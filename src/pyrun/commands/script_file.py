"""A PEP 723 script as a run target (SPEC §2.3, §2.1): the file (or stdin block, or downloaded
URL) and its metadata block, where its environment and lock live, and how its block's tool
table ranks among the settings files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyrun import stamp
from pyrun.console import display_path
from pyrun.errors import PyrunError
from pyrun.local.cache import Cache
from pyrun.local.target import Target
from pyrun.options import Settled
from pyrun.settings import Settings
from pyrun.stamp import short_hash

if TYPE_CHECKING:
    from pyrun.core.pep723 import ScriptMetadata


@dataclass(frozen=True, kw_only=True)
class Script:
    """A script target with a metadata block."""

    kind: str  # "file" | "stdin" | "url"
    path: str | None  # absolute path of a local script (or of a downloaded one)
    directory: str  # where version files are searched and relative sources resolved
    metadata: ScriptMetadata
    url: str | None = None  # where a remote script came from

    @property
    def lock_path(self) -> str | None:
        """`<script>.lock` (SPEC §1.7); stdin and remote scripts have none."""
        return f"{self.path}.lock" if self.path is not None and self.url is None else None

    @property
    def env_name(self) -> str:
        """`<stem>-<hash of the absolute path>`, the hash of a remote script's URL, or the hash
        of a stdin block (SPEC §2.3)."""
        if self.url is not None:
            return short_hash(self.url)
        if self.path is None:
            return short_hash(self.metadata.raw)
        return stamp.script_env_name(self.path)


def load_script(target: Target, cwd: str, *, url: str | None = None) -> Script | None:
    """The target's PEP 723 script, or None when it is not one (or has no block).

    Errors in the block exit 2 (SPEC §2.3). A missing `--script` file is left to Python, whose
    "can't open file" message uv also shows. `url` names where a downloaded script came from.
    """
    if not target.scriptlike:
        return None
    from pyrun.core.pep723 import parse_script_metadata

    if target.kind == "stdin":
        metadata = parse_script_metadata(target.stdin_text or "", path="-")
        if metadata is None:
            return None
        return Script(kind="stdin", path=None, directory=cwd, metadata=metadata)
    if target.kind not in ("script", "pyfile", "gui"):
        return None
    path = os.path.abspath(os.path.join(cwd, target.name))
    text = _read_script(path, target.name)
    if text is None:
        return None
    metadata = parse_script_metadata(text, path=url or display_path(path))
    if metadata is None:
        return None
    if url is not None:
        return Script(kind="url", path=path, directory=cwd, metadata=metadata, url=url)
    return Script(kind="file", path=path, directory=os.path.dirname(path), metadata=metadata)


def fetch_remote(target: Target, settings: Settled, cache: Cache) -> tuple[Target, str]:
    """Download a remote script into a new temporary directory as `<stem>.py`; returns the
    local target to run and the directory to remove afterwards."""
    import tempfile

    from pyrun.commands.resolve_step import client_options
    from pyrun.net import interrupt
    from pyrun.net.client import run_client

    options = client_options(settings, cache)

    async def fetch() -> bytes:
        async with run_client(options) as http:
            return await http.get_bytes(target.name)

    data = interrupt.run(fetch)
    directory = tempfile.mkdtemp(prefix="pyrun-remote-")
    path = os.path.join(directory, _remote_file_name(target.name))
    with open(path, "wb") as handle:
        handle.write(data)
    return target._replace(kind="script", name=path), directory


def _remote_file_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    stem = name[:-3] if name.endswith(".py") else name
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "script"
    return f"{cleaned}.py"


def load_script_file(path: str, cwd: str, *, require_block: bool = False) -> Script:
    """A script named on the command line (`pyrun lock --script`, `pyrun sync --script`): it
    must exist; without a block it has no dependencies for `lock`, as uv treats it, while
    `sync` (`require_block`) refuses it, as uv does."""
    from pyrun.core.pep723 import parse_metadata_toml, parse_script_metadata

    full = os.path.abspath(os.path.join(cwd, path))
    text = _read_script(full, path)
    if text is None:
        if require_block:
            raise PyrunError(f"Failed to read `{path}` (not found)", code=2)
        raise PyrunError(
            f"failed to read from file `{path}`: No such file or directory (os error 2)"
        )
    shown = display_path(full)
    parsed = parse_script_metadata(text, path=shown)
    if parsed is None and require_block:
        raise PyrunError(
            f"`{path}` does not contain a PEP 723 metadata tag",
            code=2,
            hint="Add a `# /// script` block that lists the script's dependencies",
        )
    metadata = parsed or parse_metadata_toml("", path=shown)
    return Script(kind="file", path=full, directory=os.path.dirname(full), metadata=metadata)


def _read_script(path: str, shown: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PyrunError(
            f"failed to read from file `{shown}`: Is a directory (os error 21)"
        ) from None
    except OSError as exc:
        raise PyrunError(f"failed to read from file `{shown}`", causes=(str(exc),)) from exc
    return data.decode("utf-8", "replace")


def script_settings(files: Settings, script: Script) -> Settings:
    """The block's tool table ranks above every settings file (SPEC §1.4 precedence)."""
    label = script.path or "-"
    return Settings([(label, dict(script.metadata.tool)), *files.layers])
