"""One place that turns settings into interpreter discovery calls, and handles "not found"."""

from __future__ import annotations

import os
from collections.abc import Callable

from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.core.requests import PythonRequest
from pyrun.options import PythonOptions

# Downloads a managed Python for a request (None: the default one) and returns its executable;
# raises `NoDownloadError` when no build fits. The command layer wires in the network's.
Downloader = Callable[[PythonRequest | None], str]


STALE_DOWNLOADS_HINT = (
    "pyrun embeds available Python downloads and may require an update to install new "
    "versions. Consider retrying on a newer version of pyrun."
)


class Finder:
    """Find interpreters for a run; `find` raises the standard error when none fits."""

    def __init__(
        self,
        python: PythonOptions,
        *,
        cache_dir: str | None,
        console: Console,
        cwd: str,
        download: Downloader | None,
    ) -> None:
        """`download` is None when this run may not download (offline, `python-downloads`)."""
        self.python = python
        self.cache_dir = cache_dir
        self.console = console
        self.cwd = cwd
        self.download = download

    def find(self, request: PythonRequest | None, *, allow_venvs: bool) -> Interpreter:
        found = self.search(request, allow_venvs=allow_venvs, console=self.console)
        if found is not None:
            return found
        return self._download_or_fail(request, allow_venvs)

    def search(
        self, request: PythonRequest | None, *, allow_venvs: bool, console: Console | None
    ) -> Interpreter | None:
        """The interpreter on this machine that fits `request` (None: none does; nothing is
        downloaded), its search's messages to `console` when given."""
        from pyrun.local import interpreters

        return interpreters.find_interpreter(
            request,
            preference=self.python.preference,
            cwd=self.cwd,
            environ=os.environ,
            allow_venvs=allow_venvs,
            cache_dir=self.cache_dir,
            console=console,
        )

    def find_base(self, request: PythonRequest | None) -> Interpreter:
        return self.find(request, allow_venvs=False)

    def probe(self, path: str) -> Interpreter | None:
        from pyrun.local import interpreters

        return interpreters.probe(path, cache_dir=self.cache_dir, console=self.console)

    def _download_or_fail(self, request: PythonRequest | None, allow_venvs: bool) -> Interpreter:
        from pyrun.local import interpreters

        if self.download is not None and self._may_download(request):
            from pyrun.core.pydownloads import NoDownloadError

            try:
                path = self.download(request)
            except NoDownloadError:
                # As uv words it: nothing was found, and the embedded list may be too old.
                error = interpreters.not_found_error(
                    request, preference=self.python.preference, allow_venvs=allow_venvs
                )
                error.hint = STALE_DOWNLOADS_HINT
                raise error from None
            probed = interpreters.probe(path, cache_dir=self.cache_dir)
            if probed is not None:
                return probed._replace(source=interpreters.MANAGED)
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
            offline=self.download is None,
        )
        return pythons.unused_download_hint(request or DEFAULT_REQUEST, settings)

    def _may_download(self, request: PythonRequest | None) -> bool:
        if self.python.downloads != "automatic" or self.python.preference == "only-system":
            return False
        return request is None or request.kind not in ("path", "executable")
