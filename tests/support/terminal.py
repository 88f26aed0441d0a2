"""Run a process with its stderr on a pseudo-terminal, as a user's shell would, and read back
what it drew there."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def run_in_terminal(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    columns: int = 100,
    rows: int = 30,
    timeout: float = 120,
    interrupt_on: str | None = None,
) -> tuple[int, str]:
    """The exit code and everything written to the terminal (escapes included). With
    `interrupt_on`, a Ctrl-C (SIGINT) is sent once that text has been drawn."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([main], [], [], timeout)
            if not ready:
                break
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            output += chunk
            if interrupt_on is not None and interrupt_on in ANSI.sub(
                "", output.decode(errors="replace")
            ):
                process.send_signal(signal.SIGINT)
                interrupt_on = None
        code = process.wait(timeout=timeout)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
    return code, output.decode("utf-8", errors="replace")


def frames(text: str) -> list[str]:
    """Every line ever drawn, escapes removed: a redraw in place is one more entry."""
    return [line for line in re.split(r"[\r\n]", ANSI.sub("", text)) if line.strip()]


class FakeStderr(io.StringIO):
    """A `sys.stderr` stand-in that says whether it is a terminal, for unit tests."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no descriptor")


def install_stderr(monkeypatch: Any, tty: bool) -> FakeStderr:
    """Replace `sys.stderr` with a `FakeStderr`, no colour setting inherited from outside."""
    fake = FakeStderr(tty)
    monkeypatch.setattr(sys, "stderr", fake)
    for name in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    return fake
