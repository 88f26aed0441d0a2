"""Wait for the filesystem's clock, for tests that compare file timestamps.

Linux stamps files from a coarse clock (one tick is several milliseconds), so two writes in a row
often share a ctime. A test that needs a later write to look newer waits for the next tick.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def wait_past(path: Path, probe_dir: Path | None = None) -> None:
    """Return once a file written now gets a ctime later than `path`'s. The probe file is
    written in `probe_dir` (default: beside `path`), whose mtime it moves."""
    reference = os.stat(path).st_ctime_ns
    probe = (probe_dir or path.parent) / ".fsclock-probe"
    try:
        while True:
            probe.write_bytes(b"")
            if os.stat(probe).st_ctime_ns > reference:
                return
            time.sleep(0.001)
    finally:
        probe.unlink(missing_ok=True)


def rewrite_keeping_stat(path: Path, text: str) -> None:
    """New bytes of the same size with the old mtime put back (what `cp -p` or a tool that
    restores timestamps leaves): only the ctime tells the file changed."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    wait_past(path)
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
