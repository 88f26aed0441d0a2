"""Which Python a run asks for: `--python`, version files, the global pin, `requires-python`."""

from __future__ import annotations

import os

from pyrun.console import Console, display_path
from pyrun.core.pyversions import BadSpecifier, parse_specifier_set, set_contains
from pyrun.core.requests import PythonRequest, parse_request, parse_version_file_with_warnings
from pyrun.errors import PyrunError
from pyrun.settings import user_config_dir

VERSION_FILES = (".python-version", ".python-versions")


class PythonChoice:
    """A request and where it came from, for error messages (a slotted class: a `NamedTuple`
    costs ~0.9 M instructions to create at import, this a seventh)."""

    __slots__ = ("file", "request", "source")

    def __init__(
        self, *, request: PythonRequest | None, source: str, file: str | None = None
    ) -> None:
        self.request = request
        # "explicit" | "version-file" | "global-pin" | "requires-python" | "default"
        self.source = source
        self.file = file


def find_version_file(start: str, *, stop_at: str | None = None) -> str | None:
    """The nearest version file from `start` upward (to `stop_at` inclusive, if given)."""
    current = os.path.abspath(start)
    while True:
        for name in VERSION_FILES:
            path = os.path.join(current, name)
            if os.path.isfile(path):
                return path
        parent = os.path.dirname(current)
        if (stop_at is not None and current == os.path.abspath(stop_at)) or parent == current:
            return None
        current = parent


def read_version_file(path: str, console: Console) -> PythonRequest | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    requests, warnings = parse_version_file_with_warnings(text, path=display_path(path))
    for warning in warnings:
        console.warn(warning)
    return requests[0] if requests else None


def not_utf8(path: str) -> PyrunError:
    return PyrunError(
        f"Failed to read `{display_path(path)}`", causes=["stream did not contain valid UTF-8"]
    )


def global_pin() -> str | None:
    path = os.path.join(user_config_dir(os.environ), ".python-version")
    return path if os.path.isfile(path) else None


def choose_python(
    *,
    explicit: str | None,
    search_from: str | None,
    stop_at: str | None,
    no_config: bool,
    console: Console,
) -> PythonChoice:
    """SPEC §2.5/§2.6: an explicit request, else a version file, else the global pin."""
    if explicit:
        return PythonChoice(request=parse_request(explicit), source="explicit")
    if not no_config and search_from is not None:
        path = find_version_file(search_from, stop_at=stop_at)
        if path is not None:
            request = read_version_file(path, console)
            if request is not None:
                return PythonChoice(request=request, source="version-file", file=path)
    if not no_config:
        pin = global_pin()
        if pin is not None:
            request = read_version_file(pin, console)
            if request is not None:
                return PythonChoice(request=request, source="global-pin", file=pin)
    return PythonChoice(request=None, source="default")


def request_intersects(request: PythonRequest, requires_python: str) -> bool:
    """Whether some CPython 3.x release satisfies both the request and `requires-python`
    (a pin that cannot is skipped, SPEC §2.3/§2.6)."""
    try:
        specifiers = parse_specifier_set(requires_python)
    except BadSpecifier:
        return True
    return any(
        request.matches_version(3, minor, patch) and set_contains(specifiers, f"3.{minor}.{patch}")
        for minor in range(0, 20)
        for patch in range(0, 30)
    )
