"""`pyrun python install|list|find|dir|pin|uninstall` (SPEC §4.4, §6).

Listings and paths go to stdout; progress and summaries to stderr through the `Console`.
Failures are raised as `PyrunError`s for `cli.main` to render, except a partly failed
`install`, which reports each failed build and returns 1.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyrun.cliparse import Args, parse_subcommand
from pyrun.console import GREEN, Console, display_path, format_duration, plural
from pyrun.errors import EXIT_FAILURE, PyrunError, UsageError, os_error_text
from pyrun.options import Settled

if TYPE_CHECKING:
    from pyrun.core.pydownloads import Download, Host, ManagedKey
    from pyrun.core.requests import PythonRequest
    from pyrun.local.pythons import ManagedInstall, PythonSettings
    from pyrun.net.pythons import InstallReport

NEVER_MESSAGE = (
    'Python downloads are not allowed (`python-downloads = "never"`). '
    'Change to `python-downloads = "manual"` to allow explicit installs.'
)


@dataclass(frozen=True, kw_only=True)
class _Context:
    console: Console
    settings: PythonSettings
    cache_dir: str | None


def main(argv: list[str], settled: Settled, console: Console) -> int:
    """Run `pyrun python <argv…>`; returns the exit code (errors are raised). The global
    options before `python` are settled already; its own words are parsed here (`--help` is
    answered from the option table before this runs)."""
    from pyrun.local.cache import default_cache_dir

    args = parse_subcommand("python", argv)
    context = _Context(
        console=console,
        settings=_settings(args, settled),
        cache_dir=str(default_cache_dir(os.environ, settled.globals.cache_dir)),
    )
    handler: Callable[[Args, _Context], int] = _HANDLERS[args.subcommand]
    return handler(args, context)


def _settings(args: Args, settled: Settled) -> PythonSettings:
    """The settled Python options, with the ones given after `python` on top."""
    from pyrun.local.pythons import python_settings

    preference: str = settled.python.preference
    downloads: str = settled.python.downloads
    offline = settled.globals.offline
    if getattr(args, "managed_python", False):
        preference = "only-managed"
    if getattr(args, "no_managed_python", False):
        preference = "only-system"
    if getattr(args, "no_python_downloads", False):
        downloads = "never"
    return python_settings(
        os.environ,
        downloads=downloads,
        preference=preference,
        offline=offline or getattr(args, "offline", False),
        install_dir=getattr(args, "install_dir", None),
        mirror=getattr(args, "mirror", None),
    )


def _parse_requests(texts: Sequence[str]) -> list[PythonRequest]:
    from pyrun.core.requests import parse_request

    return [parse_request(text, path_exists=os.path.exists) for text in texts]


def _host(settings: PythonSettings) -> Host:
    from pyrun.local.host import host_platform

    return host_platform(settings.libc)


# --- install ------------------------------------------------------------------------------


def _install(args: Args, context: _Context) -> int:
    from pyrun.core.pydownloads import key_matches
    from pyrun.local.pythons import find_installs

    start = time.monotonic()
    settings, console = context.settings, context.console
    requests, implicit = _install_requests(args.targets, console)
    host = _host(settings)
    installed = find_installs(settings.install_dir, "pyrun")
    missing = [
        request
        for request in requests
        if args.reinstall or not any(key_matches(i.key, request, host) for i in installed)
    ]
    if not missing:
        _already_installed(console, requests, implicit)
        return 0
    if settings.downloads == "never":
        console.info(NEVER_MESSAGE)
        return EXIT_FAILURE
    downloads = _choose_downloads(missing, settings, host)
    report = _run_install(downloads, settings, console, reinstall=args.reinstall)
    linked = _link_bins(report.installed + report.reinstalled, settings, console, args)
    _print_install_summary(report, console, time.monotonic() - start, linked)
    if not args.no_bin and (report.installed or report.reinstalled):
        _warn_if_not_on_path(settings.bin_dir, console)
    for error in report.failed:
        console.error(error.message, error.causes, error.hint)
    return EXIT_FAILURE if report.failed else 0


def _install_requests(targets: list[str], console: Console) -> tuple[list[PythonRequest], bool]:
    """The requests given, else those of `.python-version(s)`, else the default (implicit)."""
    if targets:
        return _parse_requests(targets), False
    from pyrun.core.requests import DEFAULT_REQUEST, parse_version_file
    from pyrun.local.pyselect import find_version_file, not_utf8

    path = find_version_file(os.getcwd())
    if path is None:
        return [DEFAULT_REQUEST], True
    console.debug(f"Found Python version file at: {display_path(path)}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PyrunError(f"Failed to read `{display_path(path)}`", causes=[str(exc)]) from exc
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    requests = parse_version_file(text, path=path)
    if not requests:
        return [DEFAULT_REQUEST], True
    return (requests if path.endswith("s") else requests[:1]), False


def _already_installed(console: Console, requests: list[PythonRequest], implicit: bool) -> None:
    if implicit:
        console.info(
            "Python is already installed. "
            "Use `pyrun python install <request>` to install another version."
        )
    elif len(requests) > 1:
        console.info("All requested versions already installed")
    else:
        console.info(f"{requests[0].describe()} is already installed")


def _choose_downloads(
    requests: list[PythonRequest], settings: PythonSettings, host: Host
) -> list[Download]:
    from pyrun.core.pydownloads import require_download

    available = _load_download_list(settings)
    downloads = [require_download(available, request, host) for request in requests]
    unique: dict[str, Download] = {str(download.key): download for download in downloads}
    return list(unique.values())


def _run_install(
    downloads: list[Download], settings: PythonSettings, console: Console, *, reinstall: bool
) -> InstallReport:
    from pyrun.net import interrupt
    from pyrun.net.pythons import install_downloads

    async def install() -> InstallReport:
        return await install_downloads(downloads, settings, console, reinstall=reinstall)

    return interrupt.run(install)


def _link_bins(
    installs: list[ManagedInstall],
    settings: PythonSettings,
    console: Console,
    args: Args,
) -> dict[str, str]:
    """Link each install's `python3.X` into the bin directory; the name linked, by install key."""
    from pyrun.local.pythons import link_into_bin

    linked: dict[str, str] = {}
    if args.no_bin:
        return linked
    for install in installs:
        try:
            result = link_into_bin(install, settings.bin_dir, force=args.force)
        except OSError as exc:
            console.warn(f"Failed to link `{install.key}` into `{settings.bin_dir}`: {exc}")
            continue
        if result is not None and not result.created:
            console.warn(
                f"Executable already exists at `{display_path(str(result.path))}` but is not "
                "managed by pyrun; use `--force` to replace it"
            )
        elif result is not None:
            linked[str(install.key)] = result.path.name
    return linked


def _print_install_summary(
    report: InstallReport, console: Console, elapsed: float, linked: dict[str, str]
) -> None:
    changed = [(" + ", i.key) for i in report.installed]
    changed += [(" ~ ", i.key) for i in report.reinstalled]
    if not changed:
        return
    # uv says "Installed" for reinstalls too; the ` ~ ` lines tell them apart.
    if len(changed) == 1:
        what = f"Python {changed[0][1].version}"
    else:
        what = plural(len(changed), "version")
    console.info(console.summary("Installed", what, elapsed))
    for sign, key in sorted(changed, key=lambda item: str(item[1])):
        # uv names the executables it linked for the install: ` + cpython-3.12.1-… (python3.12)`.
        name = linked.get(str(key))
        console.info(console.change(sign.strip(), str(key), "") + (f" ({name})" if name else ""))


def _warn_if_not_on_path(bin_dir: Path, console: Console) -> None:
    from pyrun.local.shell import not_on_path_warning

    def paint(text: str, part: str) -> str:
        return console.path(text) if part == "path" else console.paint(text, GREEN)

    warning = not_on_path_warning(str(bin_dir), os.environ, paint)
    if warning is not None:
        console.warn(warning)


# --- list ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Row:
    key: ManagedKey | str
    sort: tuple[object, ...]
    kind: int  # 0 system, 1 managed, 2 download: installed rows first for the same key
    path: Path | None = None
    url: str | None = None


def _list(args: Args, context: _Context) -> int:
    settings = context.settings
    request = _parse_requests([args.request])[0] if args.request else None
    rows: list[_Row] = []
    if not args.only_downloads:
        rows += _managed_rows(settings, request, args.all_platforms)
        rows += _system_rows(context, request)
    if args.only_downloads or (not args.only_installed and settings.downloads == "automatic"):
        rows += _download_rows(settings, request, args)
    # uv lists equal keys by kind (system, managed, download), then by path, descending.
    rows.sort(key=lambda row: str(row.path or ""), reverse=True)
    rows = _dedupe(sorted(rows, key=lambda row: (row.sort, row.kind)), args)
    if args.output_format == "json":
        print(json.dumps([_json_row(row) for row in rows]))
    else:
        _print_rows(rows, args.show_urls)
    return 0


def _managed_rows(
    settings: PythonSettings, request: PythonRequest | None, all_platforms: bool
) -> list[_Row]:
    from pyrun.core.pydownloads import key_matches, newest_first
    from pyrun.core.requests import ANY_REQUEST
    from pyrun.local.pythons import installed_pythons

    if settings.preference == "only-system":
        return []
    host = _host(settings)
    wanted = request or ANY_REQUEST
    return [
        _Row(key=i.key, sort=newest_first(i.key), kind=1, path=_shown_executable(i))
        for i in installed_pythons(settings)
        if all_platforms or key_matches(i.key, wanted, host) or _any_variant(i.key, wanted, host)
    ]


def _shown_executable(install: ManagedInstall) -> Path:
    """As uv shows it: through the minor-version link when that points at the install."""
    from pyrun.local.pythons import minor_link_path

    link = minor_link_path(install)
    executable = install.executable
    return link / "bin" / executable.name if link is not None else executable


def _any_variant(key: ManagedKey, request: PythonRequest, host: Host) -> bool:
    """`list` shows every variant unless the request names one."""
    from dataclasses import replace

    from pyrun.core.pydownloads import key_matches

    return request.variant is None and key_matches(replace(key, variant=""), request, host)


def _system_rows(context: _Context, request: PythonRequest | None) -> list[_Row]:
    """Search-path interpreters from discovery; managed ones come from `_managed_rows`."""
    if context.settings.preference == "only-managed":
        return []
    from pyrun.local import interpreters

    found = interpreters.iter_all_interpreters(
        request,
        preference="only-system",
        environ=os.environ,
        console=context.console,
        cache_dir=context.cache_dir,
    )
    return [_system_row(interpreter.key(), Path(interpreter.path)) for interpreter in found]


def _system_row(key_text: str, path: Path) -> _Row:
    from pyrun.core.pydownloads import ManagedKey, newest_first

    key = ManagedKey.parse(key_text)
    if key is None:
        return _Row(key=key_text, sort=(99, key_text), kind=0, path=path)
    return _Row(key=key, sort=newest_first(key), kind=0, path=path)


def _download_rows(
    settings: PythonSettings, request: PythonRequest | None, args: Args
) -> list[_Row]:
    from pyrun.core.pydownloads import download_urls, matching_downloads, newest_first
    from pyrun.core.requests import ANY_REQUEST

    if settings.preference == "only-system":
        return []
    wanted = request or ANY_REQUEST
    downloads = _load_download_list(settings)
    if not args.all_platforms:
        host = _host(settings)
        requests = _list_requests(wanted)
        downloads = [d for r in requests for d in matching_downloads(downloads, r, host)]
    elif wanted.has_version:
        downloads = [d for d in downloads if _download_version_matches(d, wanted)]
    return [
        _Row(
            key=d.key,
            sort=newest_first(d.key),
            kind=2,
            url=download_urls(d, settings.mirror, settings.pypy_mirror)[0],
        )
        for d in downloads
        if "debug" not in d.key.variant
    ]


def _download_version_matches(download: Download, request: PythonRequest) -> bool:
    key = download.key
    return request.matches_version(key.major, key.minor, key.patch, key.prerelease)


def _list_requests(request: PythonRequest) -> list[PythonRequest]:
    """`list` shows every implementation and the default and free-threaded builds unless the
    request names them (downloads for installs default to CPython instead)."""
    implementations = [request.implementation] if request.implementation else _IMPLEMENTATIONS
    variants = [request.variant] if request.variant else [None, "freethreaded"]
    return [
        request._replace(implementation=implementation, variant=variant)
        for implementation in implementations
        for variant in variants
    ]


_IMPLEMENTATIONS = ["cpython", "pypy", "graalpy"]


def _load_download_list(settings: PythonSettings) -> list[Download]:
    from pyrun.net import interrupt
    from pyrun.net.pythons import load_downloads, new_client

    async def load() -> list[Download]:
        async with new_client(settings) as client:
            return await load_downloads(settings, client)

    return interrupt.run(load)


def _dedupe(rows: list[_Row], args: Args) -> list[_Row]:
    """uv's rules: each path once; downloads only for the newest patch of a minor version."""
    seen_paths: set[Path] = set()
    seen_minor: set[tuple[object, ...]] = set()
    seen_patch: set[tuple[object, ...]] = set()
    kept = []
    for row in rows:
        if row.path is not None:
            if row.path in seen_paths:
                continue
            seen_paths.add(row.path)
        if (
            row.kind != 0
            and not isinstance(row.key, str)
            and _skip(row, args, seen_minor, seen_patch)
        ):
            continue
        kept.append(row)
    return kept


def _skip(
    row: _Row,
    args: Args,
    seen_minor: set[tuple[object, ...]],
    seen_patch: set[tuple[object, ...]],
) -> bool:
    key = row.key
    assert not isinstance(key, str)
    platform = (key.os if args.all_platforms else None, key.full_arch if args.all_arches else None)
    line = (platform, key.implementation, key.major, key.minor, key.variant, key.libc)
    new_minor = line not in seen_minor
    seen_minor.add(line)
    patch = (*line, key.patch, key.prerelease)
    new_patch = patch not in seen_patch
    seen_patch.add(patch)
    if row.kind != 2:
        return False
    return not new_patch or (not new_minor and not args.all_versions)


def _print_rows(rows: list[_Row], show_urls: bool) -> None:
    width = max((len(str(row.key)) for row in rows), default=0)
    for row in rows:
        print(f"{row.key!s:{width}}    {_location(row, show_urls)}")


def _location(row: _Row, show_urls: bool) -> str:
    if row.path is None:
        return (row.url or "") if show_urls else "<download available>"
    shown = display_path(str(row.path))
    if row.path.is_symlink():
        return f"{shown} -> {os.readlink(row.path)}"
    return shown


def _json_row(row: _Row) -> dict[str, object]:
    """uv's JSON fields, in uv's order."""
    key = row.key
    path = row.path
    data: dict[str, object] = {"key": str(key)}
    if not isinstance(key, str):
        data["version"] = key.version
        data["version_parts"] = {"major": key.major, "minor": key.minor, "patch": key.patch}
    data["path"] = display_path(str(path)) if path else None
    data["symlink"] = os.readlink(path) if path and path.is_symlink() else None
    data["url"] = row.url
    if not isinstance(key, str):
        data["os"] = key.os
        data["variant"] = key.variant or "default"
        data["implementation"] = key.implementation
        data["arch"] = key.full_arch
        data["libc"] = key.libc
    return data


# --- find, dir ----------------------------------------------------------------------------


def _find(args: Args, context: _Context) -> int:
    from pyrun.local import interpreters

    request = _parse_requests([args.request])[0] if args.request else None
    found = interpreters.find_interpreter(
        request,
        preference=context.settings.preference,
        cwd=os.getcwd(),
        environ=os.environ,
        allow_venvs=not args.system,
        cache_dir=context.cache_dir,
        console=context.console,
    )
    if found is None:
        raise interpreters.not_found_error(
            request, preference=context.settings.preference, allow_venvs=not args.system
        )
    print(os.path.abspath(str(found.executable)))
    return 0


def _pin(args: Args, context: _Context) -> int:
    from pyrun.cliparse import parse_bool_env
    from pyrun.commands.python_pin import PinOptions, pin

    no_project_env = os.environ.get("PYRUN_NO_PROJECT")
    options = PinOptions(
        request=args.request,
        resolved=args.resolved,
        no_project=args.no_project
        or (no_project_env is not None and parse_bool_env("PYRUN_NO_PROJECT", no_project_env)),
        global_=args.global_,
        rm=args.rm,
        preference=context.settings.preference,
        cache_dir=context.cache_dir,
    )
    return pin(options, context.console, os.getcwd())


def _dir(args: Args, context: _Context) -> int:
    settings = context.settings
    print(settings.bin_dir if args.bin else settings.install_dir)
    return 0


# --- uninstall ----------------------------------------------------------------------------


def _uninstall(args: Args, context: _Context) -> int:
    from pyrun.local.pythons import locked

    if not args.targets and not args.all:
        raise UsageError(
            "the following required arguments were not provided:\n  <TARGETS>...",
            usage="pyrun python uninstall <TARGETS>...",
        )
    if args.targets and args.all:
        raise UsageError(
            "the argument '--all' cannot be used with '[TARGETS]...'",
            usage="pyrun python uninstall --all <TARGETS>...",
        )
    start = time.monotonic()
    settings, console = context.settings, context.console
    requests = None if args.all else _parse_requests(args.targets)
    if requests is None:
        console.info("Searching for Python installations")
    else:
        described = ", ".join(request.describe() for request in requests)
        console.info(f"Searching for Python versions matching: {described}")
    with locked(settings.install_dir, settings.lock_timeout):
        removed = _remove_matches(requests, settings, console)
    if not removed:
        console.info("No Python installations found matching the requests")
        return 0
    elapsed = format_duration(time.monotonic() - start)
    if len(removed) == 1:
        console.info(f"Uninstalled Python {removed[0].version} in {elapsed}")
    else:
        console.info(f"Uninstalled {plural(len(removed), 'version')} in {elapsed}")
    for key in sorted(removed, key=str):
        console.info(f" - {key}")
    return 0


def _remove_matches(
    requests: list[PythonRequest] | None, settings: PythonSettings, console: Console
) -> list[ManagedKey]:
    from pyrun.core.pydownloads import key_matches
    from pyrun.local.pythons import find_installs

    host = _host(settings)
    installs = find_installs(settings.install_dir, "pyrun")
    if requests is None:
        chosen = installs
    else:
        chosen = []
        for request in requests:
            found = [i for i in installs if key_matches(i.key, request, host)]
            if not found:
                console.info(f"No existing installations found for: {request.describe()}")
            chosen += [i for i in found if i not in chosen]
    for install in chosen:
        _remove(install, settings)
    return [install.key for install in chosen]


def _remove(install: ManagedInstall, settings: PythonSettings) -> None:
    from pyrun.local.pythons import uninstall

    try:
        uninstall(install, settings.bin_dir)
    except OSError as exc:
        raise PyrunError(
            f"Failed to uninstall {install.key}", causes=[os_error_text(exc)], code=EXIT_FAILURE
        ) from exc


_HANDLERS: dict[str, Callable[[Args, _Context], int]] = {
    "install": _install,
    "list": _list,
    "find": _find,
    "dir": _dir,
    "pin": _pin,
    "uninstall": _uninstall,
}
