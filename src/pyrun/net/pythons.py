"""Download and install managed Pythons (SPEC §6.2-§6.4).

One exclusive lock on `<pythons>/.lock` covers download and install. After taking it the target
is checked again, so when several pyrun processes want the same build, one downloads and the
others find it installed. The archive streams through a sha256 hasher into `<pythons>/.temp/`
and is only extracted once the whole body has been read and the digest matches.

Each transfer is reported to the run's progress reporter as uv reports it: a bar named
`<key> (download)` on a terminal, `Downloading <key> (download) (7.2MiB)` and
` Downloaded <key> (download)` in a log. With an archive cache the archive is downloaded into
it first and then read back from it, reported as `<key> (extract)`, as uv does.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import trio

from pyrun.console import Console
from pyrun.core.pydownloads import (
    Download,
    DownloadRequest,
    Host,
    cache_file_name,
    download_urls,
    key_matches,
    parse_download_list,
    prefer_stable,
    request_key_text,
    require_download,
)
from pyrun.errors import EXIT_FAILURE, FailureError, PyrunError, os_error_text
from pyrun.local import pythons as local
from pyrun.local.host import host_platform
from pyrun.local.pythons import ManagedInstall, PythonSettings
from pyrun.net import interrupt
from pyrun.net.alongside import JOBS as _ALONGSIDE
from pyrun.net.alongside import alongside_downloads  # noqa: F401  (re-exported)
from pyrun.net.client import (
    ClientOptions,
    FetchError,
    HttpClient,
    RetriesExhausted,
    redact_url,
    run_client,
)
from pyrun.net.download import TransferProgress, announced_size
from pyrun.progress import DOWNLOAD, EXTRACT, Reporter, Verbs

_CHUNK = 1 << 18


class DownloadFailed(FailureError):
    """A download that failed for a reason another attempt might not have (retries exhausted)."""


# --- the download list --------------------------------------------------------------------


async def load_downloads(settings: PythonSettings, client: HttpClient) -> list[Download]:
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
    except PyrunError as exc:
        raise PyrunError(
            f"Unable to fetch the Python download list at {location}",
            causes=[exc.message, *exc.causes],
        ) from exc
    return parse_download_list(response.content, location)


def new_client(settings: PythonSettings) -> HttpClient:
    """The run's client with the Python settings' retry policy. Python archives are large: its
    timeout bounds the connect and idle-read waits only."""
    options = ClientOptions(retries=settings.retries, timeout=settings.http_timeout)
    return run_client(options)


# --- fetching one archive -----------------------------------------------------------------


def _hash_mismatch(download: Download, computed: str) -> FailureError:
    return FailureError(
        f"Hash mismatch for `{download.key}`\n\nExpected:\n  {download.sha256}\n\n"
        f"Computed:\n  {computed}"
    )


def _check_hash(download: Download, computed: str) -> None:
    if download.sha256 is not None and download.sha256.lower() != computed.lower():
        raise _hash_mismatch(download, computed)


@dataclass(frozen=True)
class _Label:
    """How one transfer of an archive is reported: uv's `<key> (download)` / `<key> (extract)`."""

    report: Reporter | None
    name: str
    verbs: Verbs

    @classmethod
    def of(
        cls, report: Reporter | None, download: Download, direction: str, verbs: Verbs
    ) -> _Label:
        return cls(report, f"{download.key} ({direction})", verbs)

    def start(self, size: int | None) -> TransferProgress:
        if self.report is None:
            return TransferProgress(None)
        started = self.report.download_started(self.name, size, verbs=self.verbs)
        return TransferProgress(self.report, started)


async def fetch_archive(
    download: Download,
    settings: PythonSettings,
    client: HttpClient,
    dest: Path,
    report: Reporter | None = None,
) -> None:
    """Fetch `download` into `dest` (mirror applied), checking its sha256; retry network errors."""
    *mirrors, url = download_urls(download, settings.mirror, settings.pypy_mirror)
    label = _Label.of(report, download, "download", DOWNLOAD)
    if url.startswith("file://") or "://" not in url:
        source = local.file_url_path(url)
        digest = await trio.to_thread.run_sync(_copy_hashing, source, dest, label)
        _check_hash(download, digest)
        return
    if settings.offline:
        raise FailureError(
            f"Failed to download `{url}`",
            causes=[
                "Network connectivity is disabled, but the requested data wasn't found in the "
                f"cache: {url}"
            ],
        )
    digest = await _download_first(client, [*mirrors, url], dest, label)
    _check_hash(download, digest)


async def _download_first(client: HttpClient, urls: list[str], dest: Path, label: _Label) -> str:
    """`_download` from the first URL that answers. As uv, a mirror that fails (blocked,
    unreachable, 404) gets one attempt before the next URL; the last gets the retry policy, so
    a failure names it."""
    single = client.sharing(client.options._replace(retries=0))
    for mirror in urls[:-1]:
        with contextlib.suppress(DownloadFailed):
            return await _download(single, mirror, dest, label)
    return await _download(client, urls[-1], dest, label)


def _copy_hashing(source: Path, dest: Path, label: _Label) -> str:
    hasher = hashlib.sha256()
    try:
        with (
            source.open("rb") as reader,
            dest.open("wb") as writer,
            label.start(os.fstat(reader.fileno()).st_size) as progress,
        ):
            while chunk := reader.read(_CHUNK):
                hasher.update(chunk)
                writer.write(chunk)
                progress.advance(len(chunk))
    except OSError as exc:
        raise FailureError(
            f"Failed to read `{source}`", causes=[os_error_text(exc)], code=EXIT_FAILURE
        ) from exc
    return hasher.hexdigest()


async def _download(client: HttpClient, url: str, dest: Path, label: _Label) -> str:
    """Stream `url` to `dest`, hashing every chunk; retried from scratch by the client (with a
    new bar)."""

    async def consume(response: httpx.Response) -> str:
        hasher = hashlib.sha256()
        with label.start(announced_size(response)) as progress:
            async with await trio.open_file(dest, "wb") as writer:
                async for chunk in response.aiter_bytes(_CHUNK):
                    hasher.update(chunk)
                    await writer.write(chunk)
                    progress.advance(len(chunk))
        return hasher.hexdigest()

    try:
        return await client.stream(url, consume)
    except OSError as exc:
        raise FailureError(f"Failed to write `{dest}`", causes=[os_error_text(exc)]) from exc
    except PyrunError as exc:
        raise _download_failure(exc, url) from exc


def _download_failure(exc: PyrunError, url: str) -> DownloadFailed:
    """The client's error in uv's words for a Python download: `Failed to download `<url>``
    where the client says `Failed to fetch: <url>`."""
    download = f"Failed to download `{redact_url(url)}`"
    if isinstance(exc, FetchError):
        return DownloadFailed(download, causes=exc.causes, hint=exc.hint)
    if isinstance(exc, RetriesExhausted) and isinstance(exc.last, FetchError):
        causes = [download, *exc.last.causes]
        return DownloadFailed(exc.message, causes=causes, hint=exc.hint)
    return DownloadFailed(exc.message, causes=exc.causes, hint=exc.hint)


async def fetch_verified(
    download: Download,
    settings: PythonSettings,
    client: HttpClient,
    report: Reporter | None = None,
) -> Path:
    """A verified archive on disk: from `PYRUN_PYTHON_CACHE_DIR` if kept there, else fetched.

    The file is a `.temp/` file the caller removes after installing.
    """
    temp = await trio.to_thread.run_sync(local.new_temp_file, settings.install_dir)
    try:
        await _fill(temp, download, settings, client, report)
    except BaseException:
        # Failed or cancelled: leave nothing behind (hash mismatch, truncated body, Ctrl-C).
        temp.unlink(missing_ok=True)
        raise
    return temp


async def _fill(
    temp: Path,
    download: Download,
    settings: PythonSettings,
    client: HttpClient,
    report: Reporter | None,
) -> None:
    cache = settings.archive_cache_dir
    if cache is None:
        await fetch_archive(download, settings, client, temp, report)
        return
    # As uv: the archive goes into the cache, then is read back from it (`(extract)`).
    kept = cache / cache_file_name(download)
    extract = _Label.of(report, download, "extract", EXTRACT)
    if not kept.is_file():
        await _fetch_kept(download, settings, client, kept, report)
    digest = await trio.to_thread.run_sync(_copy_hashing, kept, temp, extract)
    if download.sha256 is None or digest == download.sha256.lower():
        return
    # The kept copy no longer matches its listed hash (damaged): fetch it anew.
    await _fetch_kept(download, settings, client, kept, report)
    digest = await trio.to_thread.run_sync(_copy_hashing, kept, temp, extract)
    _check_hash(download, digest)


async def _fetch_kept(
    download: Download,
    settings: PythonSettings,
    client: HttpClient,
    kept: Path,
    report: Reporter | None,
) -> None:
    """Fetch into the archive cache: a partial file renamed into place once verified."""
    await trio.to_thread.run_sync(partial(kept.parent.mkdir, parents=True, exist_ok=True))
    part = kept.with_name(f".{kept.name}.{os.getpid()}.partial")
    try:
        await fetch_archive(download, settings, client, part, report)
        os.replace(part, kept)
    finally:
        part.unlink(missing_ok=True)


# --- installing ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class InstallReport:
    """What `install_downloads` did, for the command's summary lines."""

    installed: list[ManagedInstall] = field(default_factory=list)
    reinstalled: list[ManagedInstall] = field(default_factory=list)
    existing: list[ManagedInstall] = field(default_factory=list)
    errors: list[tuple[Download, PyrunError]] = field(default_factory=list)

    @property
    def failed(self) -> list[FailureError]:
        """`python install`'s words for each failure: `Failed to install <key>`, then why."""
        return [_failed_install(download, error) for download, error in self.errors]


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
    client: HttpClient | None = None,
) -> InstallReport:
    """Download and install `downloads` concurrently under one hold of the `<pythons>` lock."""
    report = InstallReport()
    owned = client is None
    http = client or new_client(settings)
    lock = await acquire_lock(settings, console)
    progress = console.reporter()
    try:
        with progress.transferring():
            async with trio.open_nursery() as nursery:
                for download in downloads:
                    job = partial(_install_one, download, settings, http, reinstall, report)
                    nursery.start_soon(job, progress)
    finally:
        lock.release()
        if owned:
            await http.aclose()
    return report


async def _install_one(
    download: Download,
    settings: PythonSettings,
    client: HttpClient,
    reinstall: bool,
    report: InstallReport,
    progress: Reporter,
) -> None:
    target = settings.install_dir / str(download.key)
    existed = target.is_dir()
    if existed and not reinstall:
        # Someone installed it while we waited for the lock.
        report.existing.append(ManagedInstall(key=download.key, path=target, owner="pyrun"))
        return
    try:
        install = await _fetch_and_install(download, settings, client, progress)
    except PyrunError as error:
        report.errors.append((download, error))
        return
    (report.reinstalled if existed else report.installed).append(install)


async def _fetch_and_install(
    download: Download, settings: PythonSettings, client: HttpClient, progress: Reporter
) -> ManagedInstall:
    archive = await fetch_verified(download, settings, client, progress)
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
    client: HttpClient | None = None,
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
    if report.errors:
        # `run` reports the download's own error, not `Failed to install <key>`, and exits 2,
        # as uv does.
        _, error = report.errors[0]
        raise PyrunError(error.message, causes=error.causes, hint=error.hint) from error
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
    request: DownloadRequest, settings: PythonSettings, client: HttpClient, host: Host
) -> Download:
    """The build to download for `request`, or the "No download found" error."""
    return require_download(await load_downloads(settings, client), request, host)


async def _ensure_alongside(
    request: DownloadRequest,
    settings: PythonSettings,
    console: Console,
    jobs: tuple[Callable[[], Awaitable[None]], ...],
) -> Path:
    failure: BaseException | None = None
    async with trio.open_nursery() as nursery:
        for job in jobs:
            nursery.start_soon(job)
        try:
            return await ensure_python(request, settings, console)
        except BaseException as exc:  # re-raised below, as itself, not in a group
            failure = exc
            nursery.cancel_scope.cancel()
    assert failure is not None
    raise failure


def download_for_run(
    request: DownloadRequest | None, settings: PythonSettings, console: Console
) -> str:
    """Synchronous entry for the interpreter finder (`pyrun.local.pyfind.Finder`, wired in by
    the command layer): download a build for `request` (None: the default request), and
    meanwhile the work registered with `alongside_downloads`."""
    from pyrun.core.requests import DEFAULT_REQUEST

    wanted: DownloadRequest = request if request is not None else DEFAULT_REQUEST
    return str(interrupt.run(_ensure_alongside, wanted, settings, console, _ALONGSIDE.get()))
