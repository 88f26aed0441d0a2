"""Inputs that once escaped a reader as a foreign exception or took minutes, kept as plain
regression tests: each reader (`tests/unit/fuzz_targets.py`) must return or raise `PyrunError`.

Found by the fuzz tests (`test_fuzz_readers.py`) and by running `pyrun lock` over hostile
`pyproject.toml` files (the CLI-level cases are in `tests/integration/test_bad_input.py`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pyrun.errors import PyrunError
from pyrun.net.client import redact_url, strip_credentials
from tests.unit import fuzz_targets

HUGE = "9" * 5000  # past Python's 4,300-digit limit on int(str)
DEEP = "[" * 600 + "]" * 600

TEXT_CASES = [
    ("--python", HUGE, "Invalid version request"),
    ("--python", f"3.{HUGE}", "Invalid version request"),
    ("--python", "/tmp/a\x00b", "contains a NUL byte"),
    ("--python", f"{HUGE}-", "Invalid version request"),
    ("--python", f"cpython-{HUGE}-linux", "Invalid version request"),
    (".python-version", "a\x00b", "contains a NUL byte"),
    (".python-version", HUGE, "Invalid version request"),
    ("uv.lock", f"version = 1\nx = {DEEP}\n", "Failed to parse `uv.lock`"),
    ("uv.lock", f"version = {HUGE}\n", "Failed to parse `uv.lock`"),
    ("uv.lock", ".".join(["a"] * 100_000) + " = 1\n", "Failed to parse `uv.lock`"),
    ("pep723-block", f"dependencies = {DEEP}", "TOML parse error"),
    ("pep723-block", f"requires-python = {HUGE}", "TOML parse error"),
    ("pep723-block", ".".join(["a"] * 100_000) + " = 1", "TOML parse error"),
]

BYTES_CASES = [
    (".python-version-file", b"\xff\xfe3.12\n", "Failed to read"),
    (".env-file", b"A=\xff\n", "stream did not contain valid UTF-8"),
    (
        "json-page",
        b'{"meta": {"api-version": "1.0"}, "files": [], "x": ' + HUGE.encode() + b"}",
        "not valid JSON",
    ),
    ("json-page", b"[" * 100_000, "not valid JSON"),
    ("python-downloads", b"[" * 100_000, "Unable to parse the JSON Python download list"),
    ("pyproject-file", f"[project]\nname = 'x'\nv = {DEEP}\n".encode(), "Failed to parse"),
    ("pyproject-file", f"[project]\nname = 'x'\nv = {HUGE}\n".encode(), "Failed to parse"),
    (
        "pyproject-file",
        b"[project]\nname = 'x'\n" + b".".join([b"a"] * 100_000) + b" = 1\n",
        "Failed to parse",
    ),
    ("pyproject-file", b"[project]\nname = '\xff'\n", None),
]

PROJECT_CASES = [
    ("version", "1.0.0.0.x", "`project.version` is invalid"),
    ("version", HUGE, "`project.version` is invalid"),
    ("requires-python", ">=" + HUGE, "`project.requires-python` is invalid"),
    ("requires-python", ">=x", "`project.requires-python` is invalid"),
]


def _outcome(call: object) -> str | None:
    """None when the reader returned; the error's text when it raised `PyrunError`."""
    started = time.monotonic()
    try:
        call()  # type: ignore[operator]
    except PyrunError as exc:
        text = exc.render()
    else:
        text = None
    assert time.monotonic() - started < 5.0
    return text


@pytest.mark.parametrize(("reader", "text", "message"), TEXT_CASES)
def test_text_regression(reader: str, text: str, message: str) -> None:
    error = _outcome(lambda: fuzz_targets.TEXT_READERS[reader](text))
    assert error is not None and message in error, error


@pytest.mark.parametrize(("reader", "body", "message"), BYTES_CASES)
def test_bytes_regression(reader: str, body: bytes, message: str | None) -> None:
    error = _outcome(lambda: fuzz_targets.BYTES_READERS[reader](body))
    assert (error is None) if message is None else (error is not None and message in error)


@pytest.mark.parametrize(("field", "value", "message"), PROJECT_CASES)
def test_project_regression(tmp_path: Path, field: str, value: str, message: str) -> None:
    error = _outcome(lambda: fuzz_targets.read_project(tmp_path, field, value))
    assert error is not None and message in error, error


@pytest.mark.parametrize(
    ("url", "redacted", "stripped"),
    [
        ("http://[::1", "http://[::1", "http://[::1"),
        (
            "https://u:secret@host:99999/simple",
            "https://u:****@host:99999/simple",
            "https://host:99999/simple",
        ),
        ("https://u:p@[::1/x", "https://u:****@[::1/x", "https://[::1/x"),
        ("https://token@%zz/simple", "https://token@%zz/simple", "https://%zz/simple"),
    ],
)
def test_unparsable_urls_are_redacted_without_raising(
    url: str, redacted: str, stripped: str
) -> None:
    assert redact_url(url) == redacted
    assert strip_credentials(url) == stripped
