"""Tests of a sync's own downloads, which a cold sync from a lock leaves to the wheel helper
that starts with the command (`pyrun.commands.wheel_head_start`)."""

from __future__ import annotations

from pathlib import Path


def without_head_start(cache: Path) -> None:
    """Make `cache` hold an unpacked wheel (an empty one): a sync then downloads in its own
    process, as a sync into a cache that is not empty does."""
    (cache / "archive-v0" / ("0" * 32)).mkdir(parents=True)
