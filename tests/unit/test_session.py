"""One session per command: the settled options, cache, console and interpreter finder."""

from __future__ import annotations

from pathlib import Path

from pyrun.cliparse import parse_argv
from pyrun.commands.session import open_session
from pyrun.console import Console
from pyrun.options import Settled, settle
from pyrun.settings import Settings


def settled(*argv: str, files: list[tuple[str, dict[str, object]]] | None = None) -> Settled:
    return settle(parse_argv(list(argv)).command_line(), Settings(files or []))


def test_the_finder_may_download_only_when_the_run_is_online(tmp_path: Path) -> None:
    online = settled("run", "--cache-dir", str(tmp_path))
    offline = settled("run", "--cache-dir", str(tmp_path), files=[("uv.toml", {"offline": True})])
    with open_session(online, Console(quiet=1)) as session:
        assert session.finder.download is not None
        assert session.finder.cache_dir == str(tmp_path)
    with open_session(offline, Console(quiet=1)) as session:
        assert session.finder.download is None


def test_resettling_follows_a_script_table_into_the_finder(tmp_path: Path) -> None:
    base = settled("run", "--cache-dir", str(tmp_path))
    script = settle(base.cli, Settings([("script.py", {"python-preference": "only-system"})]))
    with open_session(base, Console(quiet=1)) as session:
        moved = session.resettled(script)
        assert moved.settled is script
        assert moved.finder.python.preference == "only-system"
        assert session.finder.python.preference == "managed"
        assert moved.cache is session.cache and moved.console is session.console


def test_a_no_cache_session_removes_its_cache_at_the_end(tmp_path: Path) -> None:
    with open_session(settled("run", "--no-cache"), Console(quiet=1)) as session:
        root = Path(session.cache.root)
        assert root.is_dir()
    assert not root.exists()
