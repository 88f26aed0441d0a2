"""pyrun's entry point: parse the command line, dispatch, and render errors.

Only the standard library's cheapest modules and pyrun's L0/L1 modules are imported here; the
full path (`pyrun.app`, `pyrun.commands`) and everything it pulls in load inside the function
that needs them.
"""

from __future__ import annotations

import sys

from pyrun import __version__
from pyrun.cli_options import PASSTHROUGH, SUBCOMMANDS
from pyrun.errors import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PyrunError,
    UsageError,
    disk_write_error,
    first_pyrun_error,
    render_error,
)

# `typing` is not imported on the warm path; mypy treats any `TYPE_CHECKING` name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrun.cliparse import Args

# The stamp-checked shortcut each command may take before the full path (`pyrun.fastpath`).
FAST_PATHS = {"run": "try_fast_path", "lock": "try_lock_fast_path", "sync": "try_sync_fast_path"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-V"], ["--version"]):
        print(f"pyrun {__version__}")
        return 0
    try:
        return _dispatch(argv)
    except PyrunError as exc:
        return _report(exc, argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BaseExceptionGroup as group:  # errors raised inside trio nurseries
        if group.subgroup(KeyboardInterrupt) is not None:
            return EXIT_INTERRUPTED  # Ctrl-C wins over the errors it caused
        inner = first_pyrun_error(group) or _first_disk_error(group)
        if inner is None:
            if not _only_exceptions(group):
                raise
            return _report_bug(group, argv)
        return _report(inner, argv)
    except OSError as exc:
        # A disk that refuses a write somewhere no caller anticipated (a read-only or full
        # cache): say so and what to do, rather than a traceback.
        refused = disk_write_error(exc)
        if refused is None:
            return _report_bug(exc, argv)
        return _report(refused, argv)
    except Exception as exc:  # the last resort: never a bare traceback
        return _report_bug(exc, argv)


def launch() -> None:
    """The `pyrun` program: `main`, then an immediate exit with its code.

    Tearing the interpreter down after a full run (module finalizers, the garbage of a
    resolution) costs ~100 ms and changes nothing a user can see: every file pyrun writes is
    closed by then, its worker threads are done and the child has exited. Only the standard
    streams may still hold output, so they are flushed first.
    """
    import os

    _tune_gc()
    code = main()
    # Loaded by a run that used the network; early page requests may still be answering.
    for name in ("pyrun.net.trust", "pyrun.net.early_pages"):
        writer = sys.modules.get(name)
        if writer is not None:
            try:
                writer.finish_writing()
            except KeyboardInterrupt:  # a second Ctrl-C: end now, as the exit code already says
                pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _tune_gc() -> None:
    """A run allocates objects that mostly live until it ends (parsed options, imported
    modules, a resolution's pages, metadata and state) and makes little cyclic garbage. A young
    collection scans every object allocated since the last one, so each survivor is scanned at
    least once however often it runs: at the default 700 the imports of a full run alone made
    six collections, and at 20,000 a lock from scratch of ~30 packages (~150,000 objects) spent
    ~5% of its CPU in 5-8 collections that freed under 3,000 objects. At 200,000 (mypy's
    choice, for the same reason) such a lock ends before the first; a larger run still collects
    every 200,000 net allocations, which bounds the cyclic garbage kept meanwhile. Set before
    anything is imported."""
    import gc

    gc.set_threshold(200_000, 20, 20)


def _dispatch(argv: list[str]) -> int:
    import os

    from pyrun.cliparse import adopt_uv_variables, parse_argv

    args = parse_argv(argv)
    adopted = adopt_uv_variables(os.environ)
    if args.verbose:
        _describe_variables(args, adopted)
    if args.version:
        print(f"pyrun {__version__}")
        return 0
    # `pyrun python` or `pyrun cache` alone: the help, as a usage error (as `pyrun` alone).
    if (
        args.help
        or args.subcommand in ("", "help")
        or (args.subcommand in SUBCOMMANDS and not args.rest)
    ):
        return _help(args)
    if args.directory:
        _chdir(args.directory)
    from pyrun.options import settle

    settled = settle(args.command_line())
    if args.subcommand in FAST_PATHS:
        from pyrun import fastpath

        code = getattr(fastpath, FAST_PATHS[args.subcommand])(settled)
        if code is not None:
            return code
    from pyrun.app import start_full_run
    from pyrun.commands.route import run_subcommand

    return run_subcommand(args, settled, start_full_run(settled))


def _describe_variables(args: Args, adopted: list[tuple[str, str]]) -> None:
    """At `-v`: each option taken from a variable, and each uv variable standing in for pyrun's."""
    for dest, source in args.sources.items():
        if source.startswith("env:"):
            sys.stderr.write(f"DEBUG Using `{args.long_flag(dest)}` from `{source[4:]}`\n")
    for name, uv_name in adopted:
        sys.stderr.write(f"DEBUG Using uv's `{uv_name}` for `{name}`\n")


def _chdir(directory: str) -> None:
    import os

    from pyrun.errors import os_error_text

    try:
        os.chdir(directory)
    except OSError as exc:
        raise PyrunError(os_error_text(exc)) from exc


def _help(args: Args) -> int:
    """`--help` (concise) anywhere before a command's own words, or `pyrun help WORDS` (long)."""
    from pyrun.help import help_for

    if args.subcommand == "help" and not args.help:
        sys.stdout.write(help_for(args.rest, long=True))
        return 0
    words = [args.subcommand] if args.subcommand else []
    if args.subcommand in PASSTHROUGH:
        words += [word for word in args.rest[:1] if not word.startswith("-")]
    text = help_for(words, long=False)
    if args.help:
        sys.stdout.write(text)
        return 0
    sys.stderr.write(text)  # `pyrun` alone: the help, as a usage error (uv's exit code 2)
    return EXIT_USAGE


def _report(exc: PyrunError, argv: list[str]) -> int:
    quiet = _count_flag(argv, "q", "--quiet")
    if isinstance(exc, UsageError) or quiet < 2:
        sys.stderr.write(exc.render(color=_color(argv)))
    return exc.code


BUG_HINT = "this is a bug in pyrun; please report it with the output of the same command with -v"


def _report_bug(exc: BaseException, argv: list[str]) -> int:
    """An exception no layer translated: one `error:` line naming it, the traceback only
    under `-v` (it is for the bug report, not for the user)."""
    if _verbose(argv):
        import traceback

        sys.stderr.write("".join(traceback.format_exception(exc)))
    detail = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    sys.stderr.write(render_error(f"unexpected {text}", hint=BUG_HINT, color=_color(argv)))
    return EXIT_USAGE


def _verbose(argv: list[str]) -> bool:
    """Whether `-v` was given, before or after the sub-command (not in `run`'s command)."""
    from pyrun.cliparse import parse_argv

    try:
        return bool(parse_argv(argv).verbose)
    except Exception:  # the command line itself may be what failed
        return _count_flag(argv, "v", "--verbose") > 0


def _only_exceptions(group: BaseExceptionGroup) -> bool:
    """Whether the group holds no KeyboardInterrupt/SystemExit, which must keep propagating."""
    return group.split(Exception)[1] is None


def _count_flag(argv: list[str], short: str, long: str) -> int:
    count = 0
    for token in argv:
        if token == "--" or (token and not token.startswith("-")):
            break
        if token == long:
            count += 1
        elif token.startswith("-") and not token.startswith("--") and set(token[1:]) == {short}:
            count += len(token) - 1
    return count


def _color(argv: list[str]) -> bool:
    from pyrun.console import wants_color

    mode = "auto"
    for index, token in enumerate(argv):
        if token.startswith("--color="):
            mode = token.partition("=")[2]
        elif token == "--color" and index + 1 < len(argv):
            mode = argv[index + 1]
    return wants_color(mode)


def _first_disk_error(group: BaseExceptionGroup) -> PyrunError | None:
    found: BaseException | None = group.subgroup(OSError)
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return disk_write_error(found) if isinstance(found, OSError) else None


__all__ = ["launch", "main", "render_error"]
