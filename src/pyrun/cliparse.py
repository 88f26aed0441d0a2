"""A small command-line parser with uv's (clap's) rules.

argparse cannot express `run`'s rule that the first positional token ends pyrun's options and
everything after it belongs to the command verbatim, and it costs more to import than this whole
module. Values come from the command line first, then from `PYRUN_*` variables, then from uv's
`UV_*` spelling of the same variable; `sources` records where each came from so conflict messages
and `-v` can name the variable as uv does.
"""

from __future__ import annotations

import os

from pyrun.cli_options import (
    COMMANDS,
    CONFLICTS,
    COUNT,
    FLAG,
    MULTI,
    PASSTHROUGH,
    REQUIREMENTS,
    UV_ONLY,
    VALUE,
    Opt,
)
from pyrun.errors import EXIT_USAGE, PyrunError, UsageError

# `typing` costs ~10 ms to import and this module is on the warm path; mypy treats any
# `TYPE_CHECKING` name as true, Python never runs the import.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping
    from typing import Any

    from pyrun.options import CommandLine

TRUE_WORDS = {"1", "y", "yes", "t", "true", "on"}
FALSE_WORDS = {"0", "n", "no", "f", "false", "off"}
# Variables holding several values separated by spaces (SPEC §1.2).
SPACE_SEPARATED = {
    "PYRUN_ENV_FILE",
    "PYRUN_NO_GROUP",
    "PYRUN_INDEX",
    "PYRUN_EXTRA_INDEX_URL",
    "PYRUN_FIND_LINKS",
    "PYRUN_INSECURE_HOST",
    "PYRUN_NO_SOURCES_PACKAGE",
}


# A uv user's `UV_OFFLINE`, `UV_DEFAULT_INDEX` or `UV_INDEX_<NAME>_PASSWORD` must not be ignored
# silently by a drop-in: every `PYRUN_X` falls back to `UV_X`, except these, whose uv variable
# already means something else to pyrun (`UV_PYTHON_INSTALL_DIR` is where pyrun *reads* uv's own
# Pythons, and never writes; SPEC §6.4).
NOT_FROM_UV = {"PYRUN_PYTHON_INSTALL_DIR"}
# uv's cache holds buckets with pyrun's names (`archive-v0`, `builds-v0`) in uv's formats, and each
# tool's `cache prune` treats the other's buckets as stale: pyrun keeps its cache in a directory of
# its own inside uv's (uv's `prune` may drop it, which costs a re-download, never a wrong file).
UV_SUBDIRECTORY = {"PYRUN_CACHE_DIR": "pyrun"}


def uv_variable(name: str) -> str | None:
    """uv's name for pyrun's variable `name` (`PYRUN_OFFLINE` -> `UV_OFFLINE`), if it has one."""
    if not name.startswith("PYRUN_") or name in NOT_FROM_UV:
        return None
    return "UV_" + name.removeprefix("PYRUN_")


def env_lookup(name: str, environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The value of pyrun's variable `name` and the variable it came from: `name` itself, else
    uv's spelling of it; None when neither is set."""
    raw = environ.get(name)
    if raw is not None:
        return raw, name
    fallback = uv_variable(name)
    raw = environ.get(fallback) if fallback else None
    if fallback is None or raw is None:
        return None
    subdirectory = UV_SUBDIRECTORY.get(name)
    if subdirectory and raw:
        raw = os.path.join(raw, subdirectory)
    return raw, fallback


def adopt_uv_variables(environ: MutableMapping[str, str]) -> list[tuple[str, str]]:
    """Set `PYRUN_X` from `UV_X` wherever only uv's is set; return the (pyrun, uv) pairs.

    Done once, before any sub-command runs, so that every reader of a `PYRUN_*` variable (and the
    stamp, which digests them) sees uv's value without knowing about uv's names.
    """
    adopted = []
    for uv_name in [name for name in environ if name.startswith("UV_")]:
        name = "PYRUN_" + uv_name.removeprefix("UV_")
        if name in environ:
            continue
        found = env_lookup(name, environ)
        if found is not None:
            environ[name] = found[0]
            adopted.append((name, uv_name))
    return adopted


class Args:
    """Parsed options of one sub-command; every option of the command is an attribute."""

    def __init__(self, name: str, options: list[Opt]) -> None:
        self.subcommand = name
        self.command: list[str] = []
        self.rest: list[str] = []
        self.sources: dict[str, str] = {}
        self._options = options
        for opt in options:
            default: object = [] if opt.kind == MULTI else 0 if opt.kind == COUNT else None
            if opt.kind == FLAG:
                default = False
            setattr(self, opt.dest, default)

    def __getattr__(self, name: str) -> Any:
        # Options of other sub-commands read as unset, so shared code can ask for any of them.
        if name.startswith("_"):
            raise AttributeError(name)
        return None

    def option_values(self) -> dict[str, object]:
        """Every option's value, keyed by destination (for the stamp's settings key)."""
        return {opt.dest: getattr(self, opt.dest) for opt in self._options}

    def given(self, dest: str) -> bool:
        return dest in self.sources

    def command_line(self) -> CommandLine:
        """The parse, frozen: what `pyrun.options.settle` reads."""
        from pyrun.options import CommandLine

        return CommandLine(
            subcommand=self.subcommand,
            command=tuple(self.command),
            values=self.option_values(),
            sources=dict(self.sources),
        )

    def long_flag(self, dest: str) -> str:
        """The name `--help` shows for an option (`--with` for `with_`)."""
        opt = next((opt for opt in self._options if opt.dest == dest), None)
        return _long_flag(opt) if opt else "--" + dest.replace("_", "-")

    def flag_name(self, dest: str) -> str:
        """How the user spelt an option: `--frozen`, or `PYRUN_FROZEN=1` from the environment."""
        source = self.sources.get(dest, "")
        if source.startswith("env:"):
            return f"{source[4:]}=1"
        return source or "--" + dest.replace("_", "-")


def _unknown_subcommand(name: str) -> str:
    message = f"unrecognized subcommand '{name}'"
    close = similar(name, [c for c in COMMANDS if c != "help"])
    if close:
        message += f"\n\n  tip: a similar subcommand exists: '{close}'"
    return message


def similar(word: str, candidates: list[str]) -> str | None:
    """clap's suggestion: the candidate most like `word` by Jaro similarity, if above 0.7."""
    scored = [(jaro(word, candidate), candidate) for candidate in candidates]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] > 0.7 else None


def jaro(first: str, second: str) -> float:
    """The Jaro similarity of two strings (0: nothing alike, 1: equal), as `strsim` computes it."""
    if first == second:
        return 1.0
    if not first or not second:
        return 0.0
    window = max(max(len(first), len(second)) // 2 - 1, 0)
    taken = [False] * len(second)
    matched: list[str] = []
    for index, char in enumerate(first):
        for other in range(max(0, index - window), min(len(second), index + window + 1)):
            if not taken[other] and second[other] == char:
                taken[other] = True
                matched.append(char)
                break
    if not matched:
        return 0.0
    in_second = [char for char, hit in zip(second, taken, strict=True) if hit]
    transpositions = sum(a != b for a, b in zip(matched, in_second, strict=True)) / 2
    count = len(matched)
    return (count / len(first) + count / len(second) + (count - transpositions) / count) / 3


def left_to_uv(name: str, argv: list[str]) -> PyrunError:
    import shlex

    covered = [f"`{command}`" for command in COMMANDS if command != "help"]
    return PyrunError(
        f"`pyrun {name}` is not available: pyrun covers {', '.join(covered[:-1])} and "
        f"{covered[-1]}",
        hint=f"use uv for it: `uv {shlex.join(argv)}`",
        code=EXIT_USAGE,
    )


def parse_argv(argv: list[str]) -> Args:
    """Split `argv` (without the program name) into a sub-command and its options."""
    top = Args("", COMMANDS["help"][1])
    index = _parse_options(argv, 0, top, COMMANDS["help"][1], stop_at_positional=True)
    if index >= len(argv):
        top.subcommand = ""
        _apply_env(top)
        return top
    name = argv[index]
    if name in UV_ONLY:
        raise left_to_uv(name, argv)
    if name not in COMMANDS:
        raise UsageError(_unknown_subcommand(name), usage="pyrun [OPTIONS] <COMMAND>")
    options = COMMANDS[name][1]
    args = Args(name, options)
    _carry_globals(top, args)
    if name in PASSTHROUGH:
        args.rest = _take_globals(argv[index + 1 :], args, options)
    else:
        _parse_options(argv, index + 1, args, options, stop_at_positional=(name == "run"))
    _apply_env(args)
    _check_conflicts(args)
    return args


def _take_globals(words: list[str], args: Args, options: list[Opt]) -> list[str]:
    """Consume global options anywhere among a pass-through command's words; keep the rest."""
    table = {flag: opt for opt in options for flag in opt.flags}
    rest: list[str] = []
    index = 0
    while index < len(words):
        token = words[index]
        name = token.partition("=")[0]
        if token == "--":
            return rest + words[index:]
        if name in table:
            index = _take_option(words, index, args, table, keep_unknown=False)
        elif token.startswith("-") and not token.startswith("--") and _all_counters(token, table):
            index = _take_short(words, index, args, table, keep_unknown=False)
        else:
            rest.append(token)
            index += 1
    return rest


def _all_counters(token: str, table: dict[str, Opt]) -> bool:
    opts = [table.get("-" + char) for char in token[1:]]
    return bool(opts) and all(opt is not None and opt.kind == COUNT for opt in opts)


def _carry_globals(top: Args, args: Args) -> None:
    for dest, source in top.sources.items():
        setattr(args, dest, getattr(top, dest))
        args.sources[dest] = source


def _parse_options(
    argv: list[str],
    index: int,
    args: Args,
    options: list[Opt],
    *,
    stop_at_positional: bool,
    keep_unknown: bool = False,
) -> int:
    """Consume options from `argv[index:]`; return the index of the first unconsumed token."""
    table = {flag: opt for opt in options for flag in opt.flags}
    while index < len(argv):
        token = argv[index]
        if token == "--":
            args.command = argv[index + 1 :]
            return len(argv)
        if token == "-" or not token.startswith("-"):
            if stop_at_positional:
                if args.subcommand == "run":
                    args.command = argv[index:]
                    return len(argv)
                return index
            raise UsageError(f"unexpected argument '{token}' found", usage=_usage(args))
        index = _take_option(argv, index, args, table, keep_unknown)
    return index


def _take_option(
    argv: list[str], index: int, args: Args, table: dict[str, Opt], keep_unknown: bool
) -> int:
    token = argv[index]
    if token.startswith("--"):
        name, eq, inline = token.partition("=")
        opt = table.get(name)
        if opt is None:
            return _unknown(argv, index, args, token, keep_unknown)
        if opt.kind in (FLAG, COUNT):
            if eq:
                raise UsageError(
                    f"unexpected value '{inline}' for '{name}' found; no more were expected",
                    usage=_usage(args),
                )
            _store(args, opt, None, name)
            return index + 1
        if eq:
            _store(args, opt, inline, name)
            return index + 1
        return _store_next(argv, index, args, opt, name)
    return _take_short(argv, index, args, table, keep_unknown)


def _take_short(
    argv: list[str], index: int, args: Args, table: dict[str, Opt], keep_unknown: bool
) -> int:
    token = argv[index]
    for pos in range(1, len(token)):
        flag = "-" + token[pos]
        opt = table.get(flag)
        if opt is None:
            return _unknown(argv, index, args, flag, keep_unknown)
        if opt.kind in (FLAG, COUNT):
            _store(args, opt, None, flag)
            continue
        value = token[pos + 1 :].removeprefix("=")
        if value:
            _store(args, opt, value, flag)
            return index + 1
        return _store_next(argv, index, args, opt, flag)
    return index + 1


def _unknown(argv: list[str], index: int, args: Args, token: str, keep: bool) -> int:
    if keep:
        args.rest.append(argv[index])
        return index + 1
    raise UsageError(
        f"unexpected argument '{token}' found\n\n  tip: to pass '{token}' as a value, use "
        f"'-- {token}'",
        usage=_usage(args),
    )


def _store_next(argv: list[str], index: int, args: Args, opt: Opt, flag: str) -> int:
    if index + 1 >= len(argv):
        long = opt.flags[-1]
        raise UsageError(
            f"a value is required for '{long} <{opt.metavar}>' but none was supplied",
            usage=_usage(args),
        )
    _store(args, opt, argv[index + 1], flag)
    return index + 2


def _check_choice(opt: Opt, value: str) -> str:
    """`value`, or the choice an alias of it means; a value outside the choices is an error."""
    if not opt.choices or value in opt.choices:
        return value
    if value in opt.aliases:
        return opt.aliases[value]
    message = (
        f"invalid value '{value}' for '{_long_flag(opt)} <{opt.metavar}>'\n"
        f"  [possible values: {', '.join(opt.choices)}]"
    )
    close = similar(value, list(opt.choices))
    if close:
        message += f"\n\n  tip: a similar value exists: '{close}'"
    raise UsageError(message, usage=None)


def _long_flag(opt: Opt) -> str:
    return next((flag for flag in opt.flags if flag.startswith("--")), opt.flags[0])


def _store(args: Args, opt: Opt, value: str | None, flag: str) -> None:
    if value is not None:
        value = _check_choice(opt, value)
    args.sources[opt.dest] = flag
    if opt.kind == FLAG:
        setattr(args, opt.dest, True)
    elif opt.kind == COUNT:
        setattr(args, opt.dest, getattr(args, opt.dest) + 1)
    elif opt.kind == VALUE:
        setattr(args, opt.dest, value)
    else:
        assert value is not None
        values = _split(value, opt.split)
        getattr(args, opt.dest).extend(values)


def _split(value: str, how: bool | str) -> list[str]:
    """A value as the list it stands for: whole, split on commas, or (`REQUIREMENTS`) split on
    the commas that separate requirements, as uv splits `--with`: not inside `[extras]`, and
    not before a version operator (`a>=1,<2` is one requirement)."""
    if not how:
        return [value]
    if how != REQUIREMENTS:
        return [v for v in value.split(",") if v]
    parts, depth, start = [], 0, 0
    for index, char in enumerate(value):
        if char in "[]":
            depth = depth + 1 if char == "[" else max(depth - 1, 0)
        elif char == "," and depth == 0 and value[index + 1 :].lstrip()[:1] not in tuple("!=<>~"):
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


def _apply_env(args: Args) -> None:
    for opt in args._options:
        if not opt.env or opt.dest in args.sources:
            continue
        found = env_lookup(opt.env)
        if found is None or (found[0] == "" and opt.kind != VALUE):
            continue
        raw, variable = found
        if opt.kind == FLAG:
            if not parse_bool_env(variable, raw):
                continue
            setattr(args, opt.dest, True)
        elif opt.kind == VALUE:
            setattr(args, opt.dest, _check_choice(opt, raw))
        else:
            parts = raw.split() if opt.env in SPACE_SEPARATED else [raw]
            getattr(args, opt.dest).extend(parts)
        args.sources[opt.dest] = "env:" + variable


def parse_bool_env(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise PyrunError(
        f"Failed to parse environment variable `{name}` with invalid value `{raw}`: "
        "expected a boolean (true/false, yes/no, on/off, 1/0)"
    )


def _check_conflicts(args: Args) -> None:
    for first, second in CONFLICTS:
        if _is_set(args, first) and _is_set(args, second):
            a, b = args.sources[first], args.sources[second]
            if a.startswith("env:") and b.startswith("env:"):
                raise PyrunError(
                    f"the argument `{a[4:]}` (environment variable) cannot be used with "
                    f"`{b[4:]}` (environment variable)"
                )
            raise UsageError(
                f"the argument '{_spell(a)}' cannot be used with '{_spell(b)}'",
                usage=f"pyrun {args.subcommand} {_spell(a)} "
                + ("[COMMAND]" if args.subcommand == "run" else ""),
            )
    if _is_set(args, "offline") and _is_set(args, "refresh"):
        raise PyrunError("the argument `--offline` cannot be used with `--refresh`")


def _is_set(args: Args, dest: str) -> bool:
    return dest in args.sources and bool(getattr(args, dest))


def _spell(source: str) -> str:
    return source[4:] if source.startswith("env:") else source


def _usage(args: Args) -> str:
    if args.subcommand == "run":
        return "pyrun run [OPTIONS] [COMMAND]"
    if args.subcommand:
        return f"pyrun {args.subcommand} [OPTIONS]"
    return "pyrun [OPTIONS] <COMMAND>"
