"""One place that turns settings into interpreter discovery calls, and handles "not found"."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.core.requests import PythonRequest
from pyrun.errors import PyrunError

PREFERENCES = ("only-managed", "managed", "system", "only-system")
DOWNLOAD_MODES = ("automatic", "manual", "never")


@dataclass(frozen=True, kw_only=True)
class PythonSettings:
    preference: str = "managed"
    downloads: str = "automatic"
    cache_dir: str | None = None
    offline: bool = False


def python_settings(args: object, settings: object, cache_dir: str | None) -> PythonSettings:
    """Preference and download mode from flags, variables and settings files."""
    preference = _preference(args, settings)
    downloads = str(settings.file_value("python-downloads", "automatic"))  # type: ignore[attr-defined]
    env_downloads = os.environ.get("PYRUN_PYTHON_DOWNLOADS")
    if env_downloads:
        downloads = env_downloads
    if getattr(args, "no_python_downloads", False):
        downloads = "never"
    if downloads not in DOWNLOAD_MODES:
        raise PyrunError(
            f"Invalid value for python-downloads: `{downloads}` (expected one of "
            f"{', '.join(DOWNLOAD_MODES)})"
        )
    offline = bool(getattr(args, "offline", False))
    return PythonSettings(
        preference=preference, downloads=downloads, cache_dir=cache_dir, offline=offline
    )


def _preference(args: object, settings: object) -> str:
    if getattr(args, "managed_python", False):
        return "only-managed"
    if getattr(args, "no_managed_python", False):
        return "only-system"
    value = getattr(args, "python_preference", None) or settings.file_value(  # type: ignore[attr-defined]
        "python-preference", "managed"
    )
    if value not in PREFERENCES:
        raise PyrunError(
            f"Invalid value for python-preference: `{value}` (expected one of "
            f"{', '.join(PREFERENCES)})"
        )
    return str(value)


STALE_DOWNLOADS_HINT = (
    "pyrun embeds available Python downloads and may require an update to install new "
    "versions. Consider retrying on a newer version of pyrun."
)


class Finder:
    """Find interpreters for a run; `find` raises the standard error when none fits."""

    def __init__(self, python: PythonSettings, console: Console, cwd: str) -> None:
        self.python = python
        self.console = console
        self.cwd = cwd

    def find(self, request: PythonRequest | None, *, allow_venvs: bool) -> Interpreter:
        from pyrun.local import interpreters

        found = interpreters.find_interpreter(
            request,
            preference=self.python.preference,
            cwd=self.cwd,
            environ=os.environ,
            allow_venvs=allow_venvs,
            cache_dir=self.python.cache_dir,
            console=self.console,
        )
        if found is not None:
            return found
        return self._download_or_fail(request, allow_venvs)

    def find_base(self, request: PythonRequest | None) -> Interpreter:
        return self.find(request, allow_venvs=False)

    def probe(self, path: str) -> Interpreter | None:
        from pyrun.local import interpreters

        return interpreters.probe(path, cache_dir=self.python.cache_dir, console=self.console)

    def _download_or_fail(self, request: PythonRequest | None, allow_venvs: bool) -> Interpreter:
        from pyrun.local import interpreters

        if self._may_download(request):
            from pyrun.core.pydownloads import NoDownloadError
            from pyrun.net.pythons import download_for_run

            try:
                path = download_for_run(request, self.python, self.console)
            except NoDownloadError:
                # As uv words it: nothing was found, and the embedded list may be too old.
                error = interpreters.not_found_error(
                    request, preference=self.python.preference, allow_venvs=allow_venvs
                )
                error.hint = STALE_DOWNLOADS_HINT
                raise error from None
            probed = interpreters.probe(path, cache_dir=self.python.cache_dir)
            if probed is not None:
                return probed
        error = interpreters.not_found_error(
            request, preference=self.python.preference, allow_venvs=allow_venvs
        )
        error.hint = self._unused_download_hint(request)
        raise error

    def _unused_download_hint(self, request: PythonRequest | None) -> str | None:
        from pyrun.core.requests import DEFAULT_REQUEST
        from pyrun.local import pythons

        settings = pythons.python_settings(
            os.environ,
            downloads=self.python.downloads,
            preference=self.python.preference,
            offline=self.python.offline,
        )
        return pythons.unused_download_hint(request or DEFAULT_REQUEST, settings)

    def _may_download(self, request: PythonRequest | None) -> bool:
        if self.python.downloads != "automatic" or self.python.offline:
            return False
        if self.python.preference == "only-system":
            return False
        return request is None or request.kind not in ("path", "executable")
