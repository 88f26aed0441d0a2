"""Download and install managed Pythons (SPEC §6.2-§6.4).

One exclusive lock on `<pythons>/.lock` covers download and install. After taking it the target
is checked again, so when several pyrun processes want the same build, one downloads and the
others find it installed. The archive streams through a sha256 hasher into `<pythons>/.temp/`
and is only extracted once the whole body has been read and the digest matches.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import trio

from pyrun.console import Console, format_duration
from pyrun.core.pydownloads import (
    Download,
    DownloadRequest,
    Host,
    cache_file_name,
    key_matches,
    parse_download_list,
    prefer_stable,
    request_key_text,
    require_download,
    rewrite_url,
)
from pyrun.errors import EXIT_FAILURE, FailureError, PyrunError, os_error_text
from pyrun.local import pythons as local
from pyrun.local.host import host_platform
from pyrun.local.pythons import ManagedInstall, PythonSettings
from pyrun.net import interrupt

_CHUNK = 1 << 18
# Statuses worth another try: the server may well answer the next request.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class DownloadFailed(FailureError):
    """A download that failed for a reason another attempt might not have (retries exhausted)."""


class _Transient(Exception):
    """A network failure that deserves a retry; carries the causes to show if retries run out."""

    def __init__(self, causes: list[str]) -> None:
        super().__init__(causes[0])
        self.causes = causes


# --- the download list --------------------------------------------------------------------


async def load_downloads(settings: PythonSettings, client: httpx.AsyncClient) -> list[Download]:
    """The bundled list, or `PYRUN_PYTHON_DOWNLOADS_JSON_URL` (a path, file:// or http(s)://)."""
    location = settings.downloads_json_url
    if location is None:
        return await trio.to_thread.run_sync(local.load_bundled_downloads)
    if not local.is_remote(location):
        return await trio.to_thread.run_sync(local.read_local_download_list, location)
    if settings.offline:
        raise PyrunError(
            f"Unable to fetch the Python download list at {location}",
            causes=["Network connectivity is disabled, but a remote file was requested"],
        )
    try:
        response = await client.get(location)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PyrunError(
            f"Unable to fetch the Python download list at {location}", causes=[_http_text(exc)]
        ) from exc
    return parse_download_list(response.content, location)


def _transport_causes(exc: httpx.TransportError, url: str) -> list[str]:
    """uv's wording: `error sending request for url (…)`, then the OS error if there is one."""
    found = _os_error_in(exc)
    detail = os_error_text(found) if found is not None else (str(exc) or type(exc).__name__)
    return [f"error sending request for url ({url})", detail]


def _os_error_in(exc: BaseException | None) -> OSError | None:
    """The first OSError with an errno in a chain or group (trio groups connect failures)."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno:
            return exc
        if isinstance(exc, BaseExceptionGroup):
            inner = (_os_error_in(e) for e in exc.exceptions)
            return next((e for e in inner if e is not None), None)
        exc = exc.__cause__ or exc.__context__
    return None


def _http_text(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response
        return f"HTTP status {status.status_code} {status.reason_phrase} for `{exc.request.url}`"
    cause = exc.__context__ or exc.__cause__
    detail = os_error_text(cause) if isinstance(cause, OSError) else (str(exc) or repr(exc))
    return f"{type(exc).__name__}: {detail}"


def new_client(settings: PythonSettings) -> httpx.AsyncClient:
    # Python archives are large; only the connect and idle-read waits are bounded.
    return httpx.AsyncClient(timeout=settings.http_timeout, follow_redirects=True)


# --- fetching one archive -----------------------------------------------------------------


def _hash_mismatch(download: Download, computed: str) -> FailureError:
    return FailureError(
        f"Hash mismatch for `{download.key}`\n\nExpected:\n  {download.sha256}\n\n"
        f"Computed:\n  {computed}"
    )


def _check_hash(download: Download, computed: str) -> None:
    if download.sha256 is not None and download.sha256.lower() != computed.lower():
        raise _hash_mismatch(download, computed)


async def fetch_archive(
    download: Download, settings: PythonSettings, client: httpx.AsyncClient, dest: Path
) -> None:
    """Fetch `download` into `dest` (mirror applied), checking its sha256; retry network errors."""
    url = rewrite_url(download, settings.mirror, settings.pypy_mirror)
    if url.startswith("file://") or "://" not in url:
        digest = await trio.to_thread.run_sync(_copy_hashing, local.file_url_path(url), dest)
        _check_hash(download, digest)
        return
    if settings.offline:
        raise FailureError(
            f"Failed to download `{url}`",
            causes=["Network connectivity is disabled, but a remote file was requested"],
        )
    digest = await _download_with_retries(client, url, dest, settings.retries)
    _check_hash(download, digest)


def _copy_hashing(source: Path, dest: Path) -> str:
    hasher = hashlib.sha256()
    try:
        with source.open("rb") as reader, dest.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                hasher.update(chunk)
                writer.write(chunk)
    except OSError as exc:
        raise FailureError(
            f"Failed to read `{source}`", causes=[os_error_text(exc)], code=EXIT_FAILURE
        ) from exc
    return hasher.hexdigest()


async def _download_with_retries(
    client: httpx.AsyncClient, url: str, dest: Path, retries: int
) -> str:
    start = trio.current_time()
    attempt = 0
    while True:
        try:
            return await _download_once(client, url, dest)
        except _Transient as transient:
            if attempt >= retries:
                elapsed = format_duration(trio.current_time() - start)
                count = "1 retry" if retries == 1 else f"{retries} retries"
                message = f"Request failed after {count} in {elapsed}"
                raise DownloadFailed(message, causes=transient.causes) from None
            attempt += 1
            await trio.sleep(min(0.2 * 2**attempt, 5.0))


async def _download_once(client: httpx.AsyncClient, url: str, dest: Path) -> str:
    """Stream `url` to `dest`, hashing every chunk; the body is drained to EOF."""
    hasher = hashlib.sha256()
    try:
        async with client.stream("GET", url) as response:
            _raise_for_status(response, url)
            async with await trio.open_file(dest, "wb") as writer:
                async for chunk in response.aiter_bytes(_CHUNK):
                    hasher.update(chunk)
                    await writer.write(chunk)
    except httpx.TransportError as exc:
        raise _Transient([f"Failed to download `{url}`", *_transport_causes(exc, url)]) from exc
    except OSError as exc:
        raise FailureError(f"Failed to write `{dest}`", causes=[os_error_text(exc)]) from exc
    return hasher.hexdigest()


def _raise_for_status(response: httpx.Response, url: str) -> None:
    if response.status_code < 400:
        return
    text = f"HTTP status {response.status_code} {response.reason_phrase} for `{url}`"
    if response.status_code in _TRANSIENT_STATUSES:
        raise _Transient([f"Failed to download `{url}`", text])
    raise FailureError(f"Failed to download `{url}`", causes=[text])


async def fetch_verified(
    download: Download, settings: PythonSettings, client: httpx.AsyncClient
) -> Path:
    """A verified archive on disk: from `PYRUN_PYTHON_CACHE_DIR` if kept there, else fetched.

    Without an archive cache the file is a `.temp/` file the caller removes after installing.
    """
    temp = await trio.to_thread.run_sync(local.new_temp_file, settings.install_dir)
    try:
        await _fill(temp, download, settings, client)
    except BaseException:
        # Failed or cancelled: leave nothing behind (hash mismatch, truncated body, Ctrl-C).
        temp.unlink(missing_ok=True)
        raise
    return temp


async def _fill(
    temp: Path, download: Download, settings: PythonSettings, client: httpx.AsyncClient
) -> None:
    cache = settings.archive_cache_dir
    if cache is None:
        await fetch_archive(download, settings, client, temp)
        return
    kept = cache / cache_file_name(download)
    if kept.is_file():
        digest = await trio.to_thread.run_sync(_copy_hashing, kept, temp)
        if download.sha256 is None or digest == download.sha256.lower():
            return
    await fetch_archive(download, settings, client, temp)
    await trio.to_thread.run_sync(_keep_archive, temp, kept)


def _keep_archive(temp: Path, kept: Path) -> None:
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f".{kept.name}.{os.getpid()}.partial")
    shutil.copyfile(temp, partial)
    os.replace(partial, kept)


# --- installing ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class InstallReport:
    """What `install_downloads` did, for the command's summary lines."""

    installed: list[ManagedInstall] = field(default_factory=list)
    reinstalled: list[ManagedInstall] = field(default_factory=list)
    existing: list[ManagedInstall] = field(default_factory=list)
    failed: list[PyrunError] = field(default_factory=list)


async def acquire_lock(settings: PythonSettings, console: Console) -> local.PythonsLock:
    """Take the `<pythons>` lock without blocking trio (polling), clearing stale temp files."""
    lock = local.PythonsLock(settings.install_dir)
    with trio.move_on_after(settings.lock_timeout):
        if not await trio.to_thread.run_sync(lock.try_acquire):
            console.debug(f"Waiting to acquire lock for `{settings.install_dir}`")
        while not lock.try_acquire():
            await trio.sleep(0.05)
        await trio.to_thread.run_sync(local.clear_temp, settings.install_dir)
        console.debug(f"Acquired lock for `{settings.install_dir}`")
        return lock
    lock.release()
    raise lock.timeout_error(settings.lock_timeout)


async def install_downloads(
    downloads: list[Download],
    settings: PythonSettings,
    console: Console,
    *,
    reinstall: bool = False,
    client: httpx.AsyncClient | None = None,
) -> InstallReport:
    """Download and install `downloads` concurrently under one hold of the `<pythons>` lock."""
    report = InstallReport()
    owned = client is None
    http = client or new_client(settings)
    lock = await acquire_lock(settings, console)
    try:
        async with trio.open_nursery() as nursery:
            for download in downloads:
                nursery.start_soon(_install_one, download, settings, http, reinstall, report)
    finally:
        lock.release()
        if owned:
            await http.aclose()
    return report


async def _install_one(
    download: Download,
    settings: PythonSettings,
    client: httpx.AsyncClient,
    reinstall: bool,
    report: InstallReport,
) -> None:
    target = settings.install_dir / str(download.key)
    existed = target.is_dir()
    if existed and not reinstall:
        # Someone installed it while we waited for the lock.
        report.existing.append(ManagedInstall(key=download.key, path=target, owner="pyrun"))
        return
    try:
        install = await _fetch_and_install(download, settings, client)
    except PyrunError as error:
        report.failed.append(_failed_install(download, error))
        return
    (report.reinstalled if existed else report.installed).append(install)


async def _fetch_and_install(
    download: Download, settings: PythonSettings, client: httpx.AsyncClient
) -> ManagedInstall:
    archive = await fetch_verified(download, settings, client)
    try:
        install = partial(local.install_archive, archive, download, settings.install_dir)
        return await trio.to_thread.run_sync(install)
    except OSError as exc:
        raise FailureError(
            f"Failed to install into `{settings.install_dir}`", causes=[os_error_text(exc)]
        ) from exc
    finally:
        archive.unlink(missing_ok=True)


def _failed_install(download: Download, error: PyrunError) -> FailureError:
    causes = [error.message, *error.causes]
    return FailureError(f"Failed to install {download.key}", causes=causes, hint=error.hint)


# --- the run pipeline's entry point -------------------------------------------------------


def find_installed(
    request: DownloadRequest, settings: PythonSettings, host: Host
) -> ManagedInstall | None:
    """The best managed install (pyrun's, then uv's on a tie) that satisfies `request`."""
    installs = [
        install
        for install in local.installed_pythons(settings)
        if key_matches(install.key, request, host)
    ]
    keys = prefer_stable([install.key for install in installs], request)
    return next((install for install in installs if install.key in keys), None)


async def ensure_python(
    request: DownloadRequest,
    settings: PythonSettings,
    console: Console,
    *,
    client: httpx.AsyncClient | None = None,
) -> Path:
    """The interpreter of a managed build for `request`, downloading one if allowed.

    The run pipeline calls this inside its nursery when discovery found nothing (SPEC §2.5).
    """
    host = host_platform(settings.libc)
    found = find_installed(request, settings, host)
    if found is not None:
        return found.executable
    _check_downloads_allowed(request, settings, host)
    owned = client is None
    http = client or new_client(settings)
    try:
        download = await choose_download(request, settings, http, host)
        console.debug(
            f"Downloading `{download.key}` for request `{request_key_text(request, host)}`"
        )
        report = await install_downloads([download], settings, console, client=http)
    finally:
        if owned:
            await http.aclose()
    if report.failed:
        raise report.failed[0]
    return (report.installed or report.reinstalled or report.existing)[0].executable


def _check_downloads_allowed(
    request: DownloadRequest, settings: PythonSettings, host: Host
) -> None:
    described = request_key_text(request, host)
    if settings.downloads != "automatic":
        raise PyrunError(
            f"No interpreter found for {described} in managed installations",
            hint=f"Automatic Python downloads are disabled (`python-downloads = "
            f'"{settings.downloads}"`); install one with `pyrun python install`',
        )
    if settings.offline:
        raise PyrunError(
            f"No interpreter found for {described} in managed installations",
            hint="A managed Python could be downloaded, but network access is disabled (offline)",
        )


async def choose_download(
    request: DownloadRequest, settings: PythonSettings, client: httpx.AsyncClient, host: Host
) -> Download:
    """The build to download for `request`, or the "No download found" error."""
    return require_download(await load_downloads(settings, client), request, host)


def download_for_run(request: DownloadRequest | None, python: object, console: Console) -> str:
    """Synchronous entry for `pyrun.local.pyfind`: download a build for `request` (None: the
    default request) with the preference, download mode and offline flag of `python`."""
    from pyrun.core.requests import DEFAULT_REQUEST

    settings = local.python_settings(
        os.environ,
        downloads=str(getattr(python, "downloads", "") or "") or None,
        preference=str(getattr(python, "preference", "") or "") or None,
        offline=bool(getattr(python, "offline", False)),
    )
    wanted: DownloadRequest = request if request is not None else DEFAULT_REQUEST
    return str(interrupt.run(partial(ensure_python, wanted, settings, console)))
