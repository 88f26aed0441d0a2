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
    SUBCOMMANDS,
    UV_ONLY,
    VALUE,
    Opt,
    Sub,
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

    def __init__(
        self, name: str, options: list[Opt], *, path: str = "", arguments: str = ""
    ) -> None:
        self.subcommand = name
        self.command: list[str] = []
        self.rest: list[str] = []
        self.sources: dict[str, str] = {}
        self._options = options
        # How usage lines name the command (`python install`) and its positional arguments
        # (`[TARGETS]...`); clap's `run` has none: its command is an external sub-command.
        self._path = path or name
        self._arguments = arguments
        # The options given on the command line, in order, then those taken from variables:
        # clap's usage lines after a conflict show both.
        self._given: list[Opt] = []
        self._from_env: list[Opt] = []
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


def _unknown_subcommand(name: str, names: list[str]) -> str:
    message = f"unrecognized subcommand '{name}'"
    close = all_similar(name, names)
    if len(close) == 1:
        message += f"\n\n  tip: a similar subcommand exists: '{close[0]}'"
    elif close:
        quoted = ", ".join(f"'{candidate}'" for candidate in close)
        message += f"\n\n  tip: some similar subcommands exist: {quoted}"
    return message


def all_similar(word: str, candidates: list[str]) -> list[str]:
    """clap's suggestions: every candidate whose Jaro similarity to `word` is above 0.7, the
    most similar last (a stable sort, so equals keep the candidates' order)."""
    scored = [(jaro(word, candidate), candidate) for candidate in candidates]
    return [candidate for score, candidate in sorted(scored, key=lambda x: x[0]) if score > 0.7]


def similar(word: str, candidates: list[str]) -> str | None:
    """clap's suggestion: the candidate most like `word` by Jaro similarity, if above 0.7."""
    close = all_similar(word, candidates)
    return close[-1] if close else None


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
        commands = [command for command in COMMANDS if command != "help"]
        raise UsageError(_unknown_subcommand(name, commands), usage="pyrun [OPTIONS] <COMMAND>")
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
    positional: bool = False,
) -> int:
    """Consume options from `argv[index:]`; return the index of the first unconsumed token.

    With `positional`, words that are not options are collected in `args.command` (and every
    word after `--`); without, `--` ends the options and the first such word is an error.
    """
    table = {flag: opt for opt in options for flag in opt.flags}
    while index < len(argv):
        token = argv[index]
        if token == "--":
            args.command = [*args.command, *argv[index + 1 :]] if positional else argv[index + 1 :]
            return len(argv)
        if positional and (token == "-" or not token.startswith("-")):
            args.command.append(token)
            index += 1
            continue
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
                    usage=_smart_usage(args, [*args._given, opt]),
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
    message = f"unexpected argument '{token}' found"
    close = _similar_option(token, args._options) if token.startswith("--") else None
    if close is not None:
        opt, long = close
        message += f"\n\n  tip: a similar argument exists: '{long}'"
        # A suggested alias (`lock --locked` for `--check`) is a hidden option to clap.
        used = [*args._given, opt] if long == _long_flag(opt) else args._given
        raise UsageError(message, usage=_smart_usage(args, used))
    if args._arguments:
        # clap offers `--` only where a positional argument could take the word.
        message += f"\n\n  tip: to pass '{token}' as a value, use '-- {token}'"
    raise UsageError(message, usage=_usage(args))


def _similar_option(token: str, options: list[Opt]) -> tuple[Opt, str] | None:
    """clap's "did you mean" for a long option: the most similar long name (hidden ones and
    aliases too), with the option it names."""
    longs = {flag[2:]: opt for opt in options for flag in opt.flags if flag.startswith("--")}
    close = similar(token[2:], list(longs))
    return (longs[close], f"--{close}") if close is not None else None


def _store_next(argv: list[str], index: int, args: Args, opt: Opt, flag: str) -> int:
    if index + 1 >= len(argv):
        message = f"a value is required for '{_shown(opt)}' but none was supplied"
        if opt.choices:
            message += f"\n  [possible values: {', '.join(opt.choices)}]"
        raise UsageError(message, usage=None)
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
    # An alias counts as an option of its own (`lock --check --locked` is accepted, as by uv).
    if (
        opt in args._given
        and opt.kind in (FLAG, VALUE)
        and _named(opt, flag) == _named(opt, args.sources[opt.dest])
    ):
        raise UsageError(
            f"the argument '{_shown(opt, flag)}' cannot be used multiple times", usage=_usage(args)
        )
    args._given.append(opt)
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
        if opt.kind != FLAG:
            # uv reads most of its boolean variables outside clap (`UV_OFFLINE`): only values
            # count as used in clap's usage lines (`--no-cache`, `--no-config` are exceptions).
            args._from_env.append(opt)


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
            raise _conflict_error(args, first, second)
    if _is_set(args, "offline") and _is_set(args, "refresh"):
        raise PyrunError("the argument `--offline` cannot be used with `--refresh`")


def _is_set(args: Args, dest: str) -> bool:
    return dest in args.sources and bool(getattr(args, dest))


def _conflict_error(args: Args, first: str, second: str) -> UsageError:
    """clap's words for two options that cannot be combined: the one given first first, each
    as typed with its value's name (`'--all-extras' cannot be used with '--extra <EXTRA>'`)."""
    given = [opt.dest for opt in args._given]
    if second in given and (first not in given or given.index(second) < given.index(first)):
        first, second = second, first
    return UsageError(
        f"the argument '{_spelt(args, first)}' cannot be used with '{_spelt(args, second)}'",
        usage=_conflict_usage(args, second),
    )


def _spelt(args: Args, dest: str) -> str:
    source = args.sources[dest]
    if source.startswith("env:"):
        return source[4:]
    opt = next(opt for opt in args._options if opt.dest == dest)
    return _shown(opt, source)


def _usage(args: Args) -> str:
    if args.subcommand == "run":
        return "pyrun run [OPTIONS] [COMMAND]"
    if args.subcommand:
        return f"pyrun {args._path} [OPTIONS]" + (f" {args._arguments}" if args._arguments else "")
    return "pyrun [OPTIONS] <COMMAND>"


def _smart_usage(args: Args, used: list[Opt]) -> str:
    """clap's usage once options were given: those used (not hidden), then the positional
    arguments (`<TARGETS>...` once some were given); the plain usage when none show."""
    shown = [_shown(opt) for opt in dict.fromkeys(used) if not _hidden(args, opt)]
    if not shown:
        return _usage(args)
    arguments = args._arguments
    if arguments and args.command:
        arguments = "<" + arguments.removeprefix("[").replace("]", ">", 1)
    return " ".join(["pyrun", args._path, *shown, *([arguments] if arguments else [])])


def _conflict_usage(args: Args, other: str) -> str:
    """The usage clap shows for two options that conflict: what was used, less the second."""
    used = [*args._given, *args._from_env]
    return _smart_usage(args, [opt for opt in used if opt.dest != other])


def _hidden(args: Args, opt: Opt) -> bool:
    """Hidden from usage lines: a hidden option, or one given by a hidden alias (to clap, a
    hidden option of its own)."""
    typed = args.sources.get(opt.dest, "")
    return opt.hidden or (typed.startswith("--") and typed != _long_flag(opt))


def _named(opt: Opt, flag: str) -> str:
    """The option a flag names to clap: a long alias is one of its own, a short flag is not."""
    return flag if flag.startswith("--") else _long_flag(opt)


def _shown(opt: Opt, typed: str = "") -> str:
    """An option as clap names it in errors: `--python <PYTHON>`, `--offline`; by the long
    name it was `typed` with, when that is one (an alias is an option of its own to clap)."""
    long = typed if typed.startswith("--") else _long_flag(opt)
    return f"{long} <{opt.metavar}>" if opt.kind in (VALUE, MULTI) else long


# --- `pyrun python …` and `pyrun cache …` ---------------------------------------------------


def parse_subcommand(family: str, words: list[str]) -> Args:
    """`pyrun python|cache WORDS…` with clap's rules and words: the sub-command's options, and
    its positional arguments (stored as `targets`, `request`, `package`)."""
    subs = {name: sub for sub in SUBCOMMANDS[family] for name in (sub.name, *sub.aliases)}
    usage = f"pyrun {family} [OPTIONS] <COMMAND>"
    name = words[0]
    if name.startswith("-"):
        raise UsageError(f"unexpected argument '{name}' found", usage=usage)
    if name not in subs:
        raise UsageError(_unknown_subcommand(name, list(subs)), usage=usage)
    sub = subs[name]
    args = Args(sub.name, sub.options, path=f"{family} {sub.name}", arguments=sub.usage)
    _parse_options(words, 1, args, sub.options, stop_at_positional=False, positional=True)
    _store_positionals(args, sub)
    _check_sub_conflicts(args, sub)
    return args


def _store_positionals(args: Args, sub: Sub) -> None:
    values = args.command
    if not sub.arguments:
        if values:
            raise UsageError(f"unexpected argument '{values[0]}' found", usage=_usage(args))
        return
    argument = sub.arguments[0].name
    dest = argument.strip("[]<>.").lower()
    if not argument.endswith("..."):
        if len(values) > 1:
            raise UsageError(f"unexpected argument '{values[1]}' found", usage=_usage(args))
        setattr(args, dest, values[0] if values else None)
        return
    setattr(args, dest, list(values))


def _check_sub_conflicts(args: Args, sub: Sub) -> None:
    for first, second in sub.conflicts:
        if first in args.sources and second in args.sources:
            raise _conflict_error(args, first, second)
