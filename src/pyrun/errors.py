"""pyrun's one error type and its rendering.

Every failure a user can cause is a `PyrunError`: a message, the chain of causes (outermost
first), an optional hint and the exit code. `cli.main` is the one place that catches them and
renders the `error:` / `  cause:` / `hint:` lines (SPEC §1.8). Foreign exceptions are translated
into these at the boundary that raised them, with `raise ... from`.
"""

from __future__ import annotations

import os

# Exit codes (SPEC §1.8): 1 for operation and lockfile-check failures, 2 for usage, discovery,
# settings and Python-selection errors.
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as uv and shells report a Ctrl-C


class PyrunError(Exception):
    """An error with everything needed to explain it to a user."""

    code = EXIT_USAGE
    # The hint with colours of its own (uv paints the names in some cyan), shown instead of
    # `hint` when the output is coloured.
    styled_hint: str | None = None
    # A cause's own hints, which uv shows after the error's hint (a failed build's note).
    cause_hints: tuple[str, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        causes: tuple[str, ...] | list[str] = (),
        hint: str | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.causes = tuple(causes)
        self.hint = hint
        if code is not None:
            self.code = code

    def with_cause(self, cause: str) -> PyrunError:
        self.causes = (*self.causes, cause)
        return self

    def render(self, color: bool = False) -> str:
        hint = self.styled_hint if color and self.styled_hint else self.hint
        return render_error(self.message, self.causes, hint, color, self.cause_hints)


class UsageError(PyrunError):
    """A command line that cannot be parsed; rendered with a usage line (SPEC §1.5), except
    for a bad value, which clap shows with the allowed values instead (`usage=None`)."""

    def __init__(
        self, message: str, *, usage: str | None = "pyrun run [OPTIONS] [COMMAND]"
    ) -> None:
        super().__init__(message, code=EXIT_USAGE)
        self.usage = usage

    def render(self, color: bool = False) -> str:
        # clap's style, as uv's usage errors: the colon inside the colour.
        head = "\x1b[1m\x1b[31merror:\x1b[0m" if color else "error:"
        usage = f"Usage: {self.usage}\n\n" if self.usage is not None else ""
        return f"{head} {self.message}\n\n{usage}For more information, try '--help'.\n"


class FailureError(PyrunError):
    """An operation that failed (resolution, download, build, lock check): exit 1."""

    code = EXIT_FAILURE


def render_error(
    message: str,
    causes: tuple[str, ...] = (),
    hint: str | None = None,
    color: bool = False,
    more_hints: tuple[str, ...] = (),
) -> str:
    lines = [f"{_label('error', _RED, color)} {message}"]
    for cause in causes:
        # Continuation lines of a multi-line cause stay aligned under its first character.
        first, *rest = cause.split("\n")
        lines.append(f"  {_label('cause', _RED, color)} {first}")
        lines.extend("         " + line if line else "" for line in rest)
    for text in (hint, *more_hints):
        if text:
            lines.append("")
            lines.append(f"{_label('hint', _CYAN, color)} {text}")
    return "\n".join(lines) + "\n"


def render_warning(message: str, color: bool = False) -> str:
    if color:
        message = f"\x1b[1m{message}\x1b[0m"  # uv makes a warning's text bold too
    return f"{_label('warning', _YELLOW, color)} {message}\n"


def first_pyrun_error(group: BaseExceptionGroup) -> PyrunError | None:
    """The first `PyrunError` inside `group` (a trio nursery's), nested groups searched in
    order: what the user is told, rather than the group's own text."""
    for exc in group.exceptions:
        if isinstance(exc, PyrunError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = first_pyrun_error(exc)
            if found is not None:
                return found
    return None


def os_error_text(exc: OSError) -> str:
    """Format an OSError as uv does: `No such file or directory (os error 2)`."""
    text = exc.strerror or os.strerror(exc.errno or 0)
    return f"{text} (os error {exc.errno})" if exc.errno else str(exc)


def disk_write_error(exc: OSError, path: object = None) -> PyrunError | None:
    """A write the disk refused (read-only, full, not permitted) as an error naming the path
    (the error's own, else `path`: a failed `write` names none), with what to do next; None
    for other OS errors."""
    import errno  # here: the warm path imports this module and never needs it

    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if not full and exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
        return None
    where = exc.filename or path
    where = f" `{where}`" if where else " to the disk"
    if full:
        hint = (
            "Free some space, or point the cache elsewhere with `--cache-dir` or "
            "`PYRUN_CACHE_DIR` (or use `--no-cache`)"
        )
    else:
        hint = (
            "If this is the cache, use a writable one with `--cache-dir` or `PYRUN_CACHE_DIR`, "
            "or run with `--no-cache`"
        )
    return PyrunError(f"Failed to write{where}", causes=(os_error_text(exc),), hint=hint)


# uv's labels, escape for escape: `error`/`warning`/`cause` bold then coloured, `hint` coloured
# then bold, and a bold colon after each.
_RED = ("\x1b[1m\x1b[31m", "\x1b[39m\x1b[0m")
_YELLOW = ("\x1b[1m\x1b[33m", "\x1b[39m\x1b[0m")
_CYAN = ("\x1b[36m\x1b[1m", "\x1b[0m\x1b[39m")


def _label(word: str, style: tuple[str, str], color: bool) -> str:
    if not color:
        return f"{word}:"
    return f"{style[0]}{word}{style[1]}\x1b[1m:\x1b[0m"
