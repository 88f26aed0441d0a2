"""`--help` and `pyrun help`, laid out as uv's (clap's) help, from the option table.

The concise help (`-h`/`--help`) puts each option's help beside it, or on the next line when one
option of a section would wrap; the long help (`pyrun help COMMAND`) adds the long paragraphs of
`pyrun.help_text` and lists what each allowed value means. Only loaded when help is asked for.
"""

from __future__ import annotations

import os
import sys

from pyrun.cli_options import (
    COMMANDS,
    COUNT,
    FLAG,
    HEADINGS,
    SUBCOMMANDS,
    TOP,
    UV_ONLY,
    Arg,
    Opt,
)
from pyrun.cliparse import left_to_uv
from pyrun.errors import EXIT_USAGE, PyrunError, UsageError

# clap's layout constants: two spaces before a flag, four for a missing short flag, help at
# most 100 columns wide, and next-line help indented by ten.
INDENT = "  "
NEXT_LINE_INDENT = " " * 10
MAX_WIDTH = 100

TOP_ABOUT = "An extremely fast Python package runner, in Python."
COMMAND_ORDER = ("run", "sync", "lock", "export", "python", "cache", "help")


def terminal_width() -> int:
    """clap's rule: the terminal's width (or `COLUMNS`), at most 100; 100 when not a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return min(int(columns), MAX_WIDTH)
    try:
        return min(os.get_terminal_size(sys.stdout.fileno()).columns, MAX_WIDTH)
    except (OSError, ValueError):
        return MAX_WIDTH


def help_for(words: list[str], *, long: bool, width: int | None = None) -> str:
    """The help for `pyrun WORDS…` (`[]`, `["run"]`, `["python", "list"]`)."""
    width = width or terminal_width()
    if not words:
        return _top(long, width)
    name, rest = words[0], words[1:]
    if name in UV_ONLY:
        raise left_to_uv(name, [name, *rest])
    if name not in COMMANDS:
        raise _no_command(name, [], list(COMMAND_ORDER))
    subs = [sub.name for sub in SUBCOMMANDS.get(name, [])]
    if long and rest and (rest[0] not in subs or rest[1:]):
        # `pyrun help` words that name nothing, as uv words it (`--help` is a usage error).
        wrong = rest[0] not in subs
        raise _no_command(
            rest[0] if wrong else rest[1], words[: 1 if wrong else 2], subs if wrong else []
        )
    if subs and rest:
        return _sub(name, rest, long, width)
    return _command(name, long, width)


def _no_command(word: str, parents: list[str], choices: list[str]) -> PyrunError:
    listed = "".join(f"\n    {choice}" for choice in choices)
    where = " ".join(["pyrun", *parents])
    return PyrunError(
        f"There is no command `{word}` for `{where}`. Did you mean one of:{listed}",
        code=EXIT_USAGE,
    )


def _top(long: bool, width: int) -> str:
    from pyrun import help_text

    about = help_text.ABOUT.get("", TOP_ABOUT) if long else TOP_ABOUT
    commands = [(name, COMMANDS[name][0]) for name in COMMAND_ORDER]
    body = _commands_block(commands)
    footer = "" if long else "Use `pyrun help` for more details.\n"
    return _page("", about, "pyrun [OPTIONS] <COMMAND>", body, [], TOP, long, width, footer)


def _command(name: str, long: bool, width: int) -> str:
    from pyrun import help_text

    summary, options = COMMANDS[name]
    about = help_text.ABOUT.get(name, summary + ".") if long else summary
    body = ""
    usage = f"pyrun {name} [OPTIONS]"
    if name == "run":
        usage += " [COMMAND]"
    if name in SUBCOMMANDS:
        usage += " <COMMAND>"
        body = _commands_block([(sub.name, sub.summary) for sub in SUBCOMMANDS[name]])
    if name == "help":
        usage += " [COMMAND]..."
    more = name in help_text.ABOUT and not long
    footer = f"Use `pyrun help {name}` for more details.\n" if more else ""
    return _page(name, about, usage, body, [], options, long, width, footer)


def _sub(name: str, words: list[str], long: bool, width: int) -> str:
    found = next((sub for sub in SUBCOMMANDS[name] if words[0] in (sub.name, *sub.aliases)), None)
    if found is None:
        raise UsageError(
            f"unrecognized subcommand '{words[0]}'", usage=f"pyrun {name} [OPTIONS] <COMMAND>"
        )
    usage = f"pyrun {name} {found.name} [OPTIONS]" + (f" {found.usage}" if found.usage else "")
    return _page(name, found.summary, usage, "", found.arguments, found.options, long, width, "")


def _commands_block(commands: list[tuple[str, str]]) -> str:
    longest = max(len(name) for name, _ in commands)
    lines = [f"{INDENT}{name:<{longest}}  {summary}" for name, summary in commands]
    return "Commands:\n" + "\n".join(lines) + "\n"


def _page(
    command: str,
    about: str,
    usage: str,
    commands: str,
    arguments: list[Arg],
    options: list[Opt],
    long: bool,
    width: int,
    footer: str,
) -> str:
    parts = [_wrap_paragraphs(about, width), f"Usage: {usage}\n"]
    if commands:
        parts.append(commands)
    if arguments:
        rows = [(arg.name, [arg.help], arg.help) for arg in arguments]
        parts.append(_section("Arguments", rows, long, width, positional=True))
    for heading in HEADINGS:
        shown = [opt for opt in options if opt.heading == heading and not opt.hidden]
        if shown:
            rows = [(_spec(opt), _long_help(opt, command), _short_help(opt)) for opt in shown]
            parts.append(_section(heading, rows, long, width, positional=False))
    if footer:
        parts.append(footer)
    return "\n".join(parts)


def _spec(opt: Opt) -> str:
    short = next((flag for flag in opt.flags if not flag.startswith("--")), "")
    long = next((flag for flag in opt.flags if flag.startswith("--")), "")
    text = f"{short}, {long}" if short and long else short or f"    {long}"
    if opt.kind == COUNT:
        return text + "..."
    if opt.kind != FLAG:
        text += f" <{opt.metavar}>"
    return text


def _short_help(opt: Opt) -> str:
    extras = []
    if opt.env:
        extras.append(f"[env: {opt.env}=]")
    if opt.default:
        extras.append(f"[default: {opt.default}]")
    if opt.choices:
        extras.append(f"[possible values: {', '.join(opt.choices)}]")
    return " ".join([opt.help, *extras])


def _long_help(opt: Opt, command: str) -> list[str]:
    """The paragraphs of an option's long help: its one line, the paragraphs `help_text` adds
    (for this command, else for any), what each value means, and its variable."""
    from pyrun import help_text

    more = help_text.LONG.get(f"{command}:{opt.dest}") or help_text.LONG.get(opt.dest)
    # As clap shows a doc comment: a first line that has more after it ends its sentence.
    first = opt.help + ("." if more and not opt.help.endswith(".") else "")
    paragraphs = [first, more] if more else [first]
    values = help_text.VALUES.get(opt.dest)
    if values:
        longest = max(len(value) for value in values) + 1
        listed = [f"- {value + ':':<{longest}} {text}" for value, text in values.items()]
        paragraphs.append("Possible values:\n" + "\n".join(listed))
    elif opt.choices:
        paragraphs.append(f"[possible values: {', '.join(opt.choices)}]")
    extras = []
    if opt.env:
        extras.append(f"[env: {opt.env}=]")
    if opt.default:
        extras.append(f"[default: {opt.default}]")
    if extras:
        paragraphs.append("\n".join(extras))
    return paragraphs


def _section(
    heading: str,
    rows: list[tuple[str, list[str], str]],
    long: bool,
    width: int,
    *,
    positional: bool,
) -> str:
    """One heading and its rows (spec, long paragraphs, short help), as clap lays them out."""
    longest = max(len(_display_name(spec)) for spec, _, _ in rows)
    taken = longest + len(INDENT) * 2 + (0 if positional else 4)
    # clap's rule, except that a terminal too narrow for the names also gets next-line help
    # (clap would wrap the help one word per line).
    next_line = long or any(
        taken > width or (taken / width > 0.40 and len(text) > width - taken) for _, _, text in rows
    )
    lines = [f"{heading}:"]
    if next_line:
        for spec, paragraphs, text in rows:
            lines.append(INDENT + spec)
            for index, paragraph in enumerate(paragraphs if long else [text]):
                if index:
                    lines.append("")
                lines += _wrap(paragraph, width - len(NEXT_LINE_INDENT), NEXT_LINE_INDENT)
            if long:
                lines.append("")
        if long:
            lines.pop()
        return "\n".join(lines) + "\n"
    column = len(INDENT) + (0 if positional else 4) + longest + 2
    for spec, _, text in rows:
        head = f"{INDENT}{spec}".ljust(column)
        wrapped = _wrap(text, width - column, " " * column)
        lines.append(head + wrapped[0].lstrip())
        lines += wrapped[1:]
    return "\n".join(lines) + "\n"


def _display_name(spec: str) -> str:
    # clap measures the long form (`--python <PYTHON>`), without the `-p, ` before it.
    text = spec.strip()
    if text.startswith("-") and not text.startswith("--") and ", " in text:
        return text.split(", ", 1)[1]
    return text


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """Greedy word wrap, each line prefixed by `indent`; list items keep a hanging indent."""
    lines: list[str] = []
    for raw in text.split("\n"):
        hang = "  " if raw.startswith("- ") else ""
        current = ""
        for word in raw.split(" "):
            if current and len(current) + 1 + len(word) > width:
                lines.append(indent + current)
                current = hang + word
            else:
                current = f"{current} {word}" if current else word
        lines.append(indent + current if current else "")
    return lines


def _wrap_paragraphs(text: str, width: int) -> str:
    paragraphs = text.split("\n\n")
    wrapped = ["\n".join(_wrap(paragraph, width, "")) for paragraph in paragraphs]
    return "\n\n".join(wrapped) + "\n"
