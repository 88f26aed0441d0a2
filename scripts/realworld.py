#!/usr/bin/env python3
"""Run pyrun and uv side by side on real projects that commit a `uv.lock`.

pyrun is meant to be a drop-in for uv 0.13.9, and its own fixtures cannot show every shape real
projects take. This runner takes the projects listed in `tests/realworld/projects.toml` from the
local snapshots in `/work/.mirror/<owner>+<name>/repo` (it fetches nothing itself), gives each
tool its own copy of the project, its own cache and its own home, runs the same commands under
both, and reports every difference. The last check deletes `uv.lock` and locks from scratch
under both tools, comparing the new locks byte for byte:

    scripts/realworld.py                      # every project, every check
    scripts/realworld.py --only werkzeug      # one project (repeatable)
    scripts/realworld.py --check export       # one check (repeatable)
    scripts/realworld.py --keep               # keep the scratch copies for a look afterwards

It writes `results.json` (every command, exit code, key stderr lines, log file) to the output
directory and the summary table to `tests/realworld/RESULTS.md`. A run of some projects or
checks (`--only`, `--check`) replaces those rows in `results.json` and keeps the rest from
earlier runs of the same pyrun commit; the table is written once every project has every row,
so it is never half a table.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECTS_FILE = ROOT / "tests" / "realworld" / "projects.toml"
RESULTS_MD = ROOT / "tests" / "realworld" / "RESULTS.md"
MIRROR = Path(os.environ.get("PYRUN_REALWORLD_MIRROR", "/work/.mirror"))
PYENV = Path(os.environ.get("PYRUN_REALWORLD_PYENV", "/root/.pyenv/versions"))
DEFAULT_OUT = Path(os.environ.get("PYRUN_REALWORLD_OUT", "/tmp/pyrun-realworld"))
TIMEOUT = 600
# The dev venv's uv (0.13.9, pinned in pyproject.toml): the `uv` on PATH may be a pyenv shim,
# which puts its own Python first on PATH and so changes which interpreter uv discovers.
UV = os.environ.get("PYRUN_REALWORLD_UV") or str(ROOT / ".dev" / "venv" / "bin" / "uv")
MINORS = ("3.10", "3.11", "3.12", "3.13")
DEFAULT_PYTHON = "3.12"
MEMBER_COMMAND = ("python", "-c", "print('ok')")
# The checks, in the order they run; extras, groups, packages and members add one check each.
# `lock --check --offline` catches a lock that is re-resolved to the same content: uv trusts a
# fresh lock without the index, so a tool that needs the network there did not trust it.
LOCK_CHECKS = ("lock --check", "lock --check --offline")
BASE_CHECKS = (
    *LOCK_CHECKS,
    "run --frozen",
    "installed",
    "run (warm)",
    "sync --locked",
)
EXPORT_CHECKS = ("export", "export --no-hashes")
# Last: `uv.lock` deleted, `lock` run, and the two new locks compared byte for byte. It shows
# what pyrun decides on its own (forks, markers, versions), where the checks above mostly show
# that it accepts and installs what uv decided.
SCRATCH_CHECK = "lock (from scratch)"
# Before it: one dependency added to the project (to its first listed member when the root is
# virtual), `lock` run with the committed lock present, and the two new locks compared byte for
# byte. uv keeps every locked version the edit does not touch, and a drop-in must too.
RELOCK_CHECK = "relock (after an edit)"
RELOCK_ADDITION = "iniconfig>=1"
PROJECT_TABLE = re.compile(r"^\[project\]\s*$(?:(?!^\[).)*", re.M | re.S)
DYNAMIC_DEPENDENCIES = re.compile(r"^dynamic\s*=.*\"dependencies\"", re.M)
PROJECT_DEPENDENCIES = re.compile(
    r"^\[project\]\s*$(?:(?!^\[).)*?^dependencies\s*=\s*\[", re.M | re.S
)
PROJECT_KEYS = {
    "name",
    "repo",
    "subdir",
    "python",
    "command",
    "extras",
    "groups",
    "packages",
    "members",
    "syncs",
    "needs",
    "notes",
    "git_tag",
    "shape",
    "locks_only",
}
LOCK_FIELD = re.compile(r'^(name|version) = "([^"]*)"$', re.MULTILINE)
DURATION = re.compile(r" in \d+(?:\.\d+)?m?s\b")
# The `-v` line that says why a tool does not trust the lock (pyrun's, then uv's wording).
RELOCK_REASON = re.compile(r"(?:Resolving despite|Ignoring) existing lockfile due to (.*)$")
KEY_LINE = re.compile(
    r"^(error|warning|hint|  Caused by|\u00d7|\s*\u2570\u2500\u25b6)|existing lockfile|needs to be "
    r"updated|not up-to-date|does not match|mismatch|stale|re-?lock|Resolved \d+|Traceback",
    re.IGNORECASE,
)


class ConfigError(Exception):
    """projects.toml says something the runner cannot use."""


@dataclass(frozen=True)
class Project:
    name: str
    repo: str
    command: tuple[str, ...]
    subdir: str = ""
    python: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    syncs: tuple[tuple[str, ...], ...] = ()
    needs: tuple[str, ...] = ()
    shape: tuple[str, ...] = ()
    notes: str = ""
    git_tag: str | None = None
    locks_only: bool = False

    @property
    def mirror(self) -> Path:
        return MIRROR / self.repo.replace("/", "+") / "repo"

    def checks(self) -> list[str]:
        if self.locks_only:  # its environment is gigabytes (CUDA wheels, say)
            return [*LOCK_CHECKS, RELOCK_CHECK, SCRATCH_CHECK]
        return [
            *BASE_CHECKS,
            *(f"extra {name}" for name in self.extras),
            *(f"group {name}" for name in self.groups),
            *(f"package {name}" for name in self.packages),
            *(f"member {path}" for path in self.members),
            *(sync_check(args) for args in self.syncs),
            *EXPORT_CHECKS,
            RELOCK_CHECK,
            SCRATCH_CHECK,
        ]


def sync_check(args: tuple[str, ...]) -> str:
    """The check a `syncs` entry adds: `sync --frozen` with those arguments (one side of a
    declared conflict, say), judged by the installed set."""
    return " ".join(("sync", *args))


def load_projects(path: Path = PROJECTS_FILE) -> list[Project]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    projects = [_project(entry, path) for entry in data.get("project", [])]
    names = [project.name for project in projects]
    if duplicate := {name for name in names if names.count(name) > 1}:
        raise ConfigError(f"{path}: duplicate project names: {', '.join(sorted(duplicate))}")
    return projects


def _project(entry: dict[str, object], path: Path) -> Project:
    where = f"{path}: project {entry.get('name', '?')!r}"
    if unknown := set(entry) - PROJECT_KEYS:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "repo", "command"):
        if key not in entry:
            raise ConfigError(f"{where}: `{key}` is required")
    lists = {
        key: tuple(_strings(entry.get(key, []), f"{where}: `{key}`"))
        for key in ("command", "extras", "groups", "packages", "members", "needs", "shape")
    }
    if not lists["command"]:
        raise ConfigError(f"{where}: `command` is empty")
    syncs = entry.get("syncs", [])
    if not isinstance(syncs, list):
        raise ConfigError(f"{where}: `syncs` must be a list of argument lists")
    lists["syncs"] = tuple(tuple(_strings(args, f"{where}: `syncs` entry")) for args in syncs)
    locks_only = entry.get("locks_only", False)
    if not isinstance(locks_only, bool):
        raise ConfigError(f"{where}: `locks_only` must be true or false")
    return Project(
        locks_only=locks_only,
        name=str(entry["name"]),
        repo=str(entry["repo"]),
        subdir=str(entry.get("subdir", "")),
        python=_optional_str(entry.get("python")),
        notes=str(entry.get("notes", "")),
        git_tag=_optional_str(entry.get("git_tag")),
        **lists,
    )


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings")
    return list(value)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


# --- running one command ----------------------------------------------------------------------


@dataclass
class Outcome:
    """One command under one tool: what ran, where, and what came of it."""

    argv: list[str]
    cwd: str
    returncode: int | None  # None: it timed out
    stdout: str
    stderr: str
    seconds: float
    log: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def key_lines(self, limit: int = 8) -> list[str]:
        lines = [line.rstrip()[:300] for line in self.stderr.splitlines() if KEY_LINE.search(line)]
        return lines[:limit]

    def why(self) -> str:
        if self.returncode is None:
            return f"timed out after {self.seconds:.0f}s"
        if self.ok:
            return "exit 0"
        errors = [line for line in self.key_lines(40) if line.startswith("error")]
        tail = [line for line in self.stderr.splitlines() if line.strip()][-1:]
        because = f" (re-lock: {self.relock_reason()})" if self.relock_reason() else ""
        return f"exit {self.returncode}: {(errors or tail or [''])[0].strip()[:160]}{because}"

    def relock_reason(self) -> str:
        for line in self.stderr.splitlines():
            if found := RELOCK_REASON.search(line):
                return found.group(1).strip()[:200]
        return ""

    def summary(self) -> dict[str, object]:
        return {
            "argv": self.argv,
            "cwd": self.cwd,
            "returncode": self.returncode,
            "seconds": round(self.seconds, 1),
            "stdout_tail": self.stdout[-2000:],
            "key_stderr": self.key_lines(),
            "log": self.log,
        }


@dataclass(frozen=True)
class Tool:
    name: str
    executable: str
    cache_variable: str
    python_variable: str
    downloads_variable: str


class Sandbox:
    """One tool's private copy of one project, with its own cache, home and logs."""

    def __init__(
        self, tool: Tool, project: Project, copy: Path, out: Path, base_env: dict[str, str]
    ):
        self.tool = tool
        self.project = project
        self.copy = copy
        self.project_dir = copy / project.subdir if project.subdir else copy
        self.lock = find_lock(self.project_dir, copy)
        self.pristine_lock = self.lock.read_bytes() if self.lock else None
        self.logs = out / "logs" / project.name / tool.name
        self.logs.mkdir(parents=True, exist_ok=True)
        self.counter = 0
        home = out / "home" / tool.name
        self.env = dict(base_env)
        self.env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
        )
        self.env[tool.cache_variable] = str(out / "cache" / tool.name)
        self.env[tool.downloads_variable] = "never"
        if project.python:
            self.env[tool.python_variable] = project.python

    @property
    def venv(self) -> Path:
        return (self.lock.parent if self.lock else self.project_dir) / ".venv"

    def restore_lock(self) -> None:
        """Every check starts from the project's committed lock, whatever an earlier one did."""
        if self.lock and self.pristine_lock is not None and self.lock_changed():
            self.lock.write_bytes(self.pristine_lock)

    def lock_changed(self) -> bool:
        if not self.lock or self.pristine_lock is None:
            return False
        return not self.lock.exists() or self.lock.read_bytes() != self.pristine_lock

    def run(self, *args: str, cwd: Path | None = None, timeout: int = TIMEOUT) -> Outcome:
        argv = [self.tool.executable, *args]
        where = cwd or self.project_dir
        self.counter += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", " ".join(args[:4])).strip("-")[:60]
        log = self.logs / f"{self.counter:02d}-{slug}.log"
        started = time.monotonic()
        returncode, stdout, stderr = _run_killable(argv, where, self.env, timeout)
        seconds = time.monotonic() - started
        log.write_text(
            f"$ cd {where}\n$ {' '.join(argv)}\nexit: {returncode} ({seconds:.1f}s)\n"
            f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            encoding="utf-8",
        )
        return Outcome(argv, str(where), returncode, stdout, stderr, seconds, str(log))


def _run_killable(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: int
) -> tuple[int | None, str, str]:
    """Run in a session of its own, so a timeout ends the command and all it started."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            return None, stdout, stderr
        return process.returncode, stdout, stderr


def find_lock(start: Path, top: Path) -> Path | None:
    """The `uv.lock` that governs `start`: its own, or its workspace root's."""
    for directory in (start, *start.parents):
        if (directory / "uv.lock").is_file():
            return directory / "uv.lock"
        if directory == top:
            break
    return None


# --- what a check observes ------------------------------------------------------------------


@dataclass
class Observation:
    """What one check saw under one tool; `payload` is what is compared with the other tool."""

    outcomes: list[Outcome] = field(default_factory=list)
    ok: bool = False
    reason: str = ""
    payload: object = None


def installed_set(venv: Path) -> dict[str, str]:
    """Name -> version of every distribution in the environment, read from its METADATA."""
    found: dict[str, str] = {}
    for metadata in venv.glob("lib/python*/site-packages/*.dist-info/METADATA"):
        name = version = None
        with metadata.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                if key.lower() == "name":
                    name = value.strip()
                elif key.lower() == "version":
                    version = value.strip()
        if name and version:
            found[normalize(name)] = version
    return found


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def set_difference(ours: dict[str, str], theirs: dict[str, str]) -> str:
    """`-a==1 +b==2`: what pyrun's set lacks (-) and has on top (+) compared with uv's."""
    missing = [f"-{n}=={v}" for n, v in sorted(theirs.items()) if ours.get(n) != v]
    extra = [f"+{n}=={v}" for n, v in sorted(ours.items()) if theirs.get(n) != v]
    return " ".join(missing + extra)


def text_difference(ours: str, theirs: str, limit: int = 6) -> str:
    """The first changed lines of `ours` against `theirs`, as a short unified diff."""
    diff = difflib.unified_diff(
        theirs.splitlines(), ours.splitlines(), "uv", "pyrun", n=0, lineterm=""
    )
    lines = [line for line in diff if not line.startswith(("---", "+++", "@@"))]
    more = f" (+{len(lines) - limit} more lines)" if len(lines) > limit else ""
    return " | ".join(line[:140] for line in lines[:limit]) + more


PACKAGE_HEADER = "\n[[package]]\n"


def lock_difference(ours: str, theirs: str) -> str:
    """Where two `uv.lock` texts first differ, in uv's order: the header (everything before the
    first `[[package]]`), a package one lock lacks, or the first package whose entry differs,
    with its first changed lines; "" when they are identical."""
    if ours == theirs:
        return ""
    our_head, our_packages = _lock_sections(ours)
    their_head, their_packages = _lock_sections(theirs)
    if our_head != their_head:
        return f"header: {text_difference(our_head, their_head, 3)}"
    for key, entry in their_packages.items():
        if key not in our_packages:
            return f"package {key}: missing from pyrun's lock"
        if our_packages[key] != entry:
            return f"package {key}: {text_difference(our_packages[key], entry, 3)}"
    if extra := next((key for key in our_packages if key not in their_packages), None):
        return f"package {extra}: only in pyrun's lock"
    return f"packages in another order: {text_difference(ours, theirs, 3)}"


def _lock_sections(text: str) -> tuple[str, dict[str, str]]:
    """A lock's header and its `[[package]]` entries keyed `name version` (what identifies an
    entry: a package locked at two versions has two entries)."""
    head, *entries = text.split(PACKAGE_HEADER)
    packages: dict[str, str] = {}
    for entry in entries:
        fields = dict(LOCK_FIELD.findall(entry.split("\n[", 1)[0]))
        key = " ".join(filter(None, (fields.get("name"), fields.get("version"))))
        packages[key or entry.split("\n", 1)[0]] = entry
    return head, packages


def observe(box: Sandbox, checks: list[str]) -> dict[str, Observation]:
    """Run the project's checks in order under one tool."""
    project = box.project
    seen: dict[str, Observation] = {}
    wanted = set(checks)

    def record(name: str, outcome: Outcome, **extra: object) -> Observation:
        observation = Observation([outcome], outcome.ok, outcome.why(), extra.get("payload"))
        seen[name] = observation
        return observation

    if box.lock is None:
        return {name: Observation(ok=False, reason="no uv.lock in the project") for name in checks}
    if "lock --check" in wanted:
        box.restore_lock()
        record("lock --check", box.run("lock", "--check", "-v"))
    if "lock --check --offline" in wanted:
        box.restore_lock()
        record("lock --check --offline", box.run("lock", "--check", "--offline", "-v"))
    if wanted & {"run --frozen", "installed"}:
        box.restore_lock()
        shutil.rmtree(box.venv, ignore_errors=True)
        cold = record("run --frozen", box.run("run", "--frozen", *project.command))
        cold.payload = cold.outcomes[0].stdout.strip()
        seen["installed"] = _installed(box, cold.outcomes[0])
    if "run (warm)" in wanted:
        box.restore_lock()
        warm = record("run (warm)", box.run("-v", "run", *project.command))
        if warm.ok and box.lock_changed():
            warm.ok = False
            warm.reason = _rewritten(box, warm.outcomes[0])
        warm.payload = warm.outcomes[0].stdout.strip()
    if "sync --locked" in wanted:
        box.restore_lock()
        record("sync --locked", box.run("sync", "--locked", "-v"))
    for name, args, cwd in _selection_checks(project, box):
        if name in wanted:
            box.restore_lock()
            seen[name] = _installed(box, box.run(*args, cwd=cwd))
    for name, extra_args in (("export", ()), ("export --no-hashes", ("--no-hashes",))):
        if name in wanted:
            box.restore_lock()
            exported = record(name, box.run("export", "--frozen", *extra_args))
            exported.payload = exported.outcomes[0].stdout
    if RELOCK_CHECK in wanted:
        box.restore_lock()
        seen[RELOCK_CHECK] = _relock_after_edit(box)
    if SCRATCH_CHECK in wanted:
        seen[SCRATCH_CHECK] = _lock_from_scratch(box)
    box.restore_lock()
    return seen


def _lock_from_scratch(box: Sandbox) -> Observation:
    assert box.lock is not None
    box.lock.unlink()
    locked = box.run("lock")
    written = box.lock.read_text(encoding="utf-8") if box.lock.exists() else None
    ok = locked.ok and written is not None
    reason = locked.why() if not locked.ok else ("exit 0" if ok else "exit 0 but no uv.lock")
    return Observation([locked], ok, reason, written)


def _relock_after_edit(box: Sandbox) -> Observation:
    assert box.lock is not None
    candidates = [box.lock.parent, *(box.copy / member for member in box.project.members)]
    for directory in candidates:
        pyproject = directory / "pyproject.toml"
        original = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
        edited = add_dependency(original, RELOCK_ADDITION)
        if edited is not None:
            break
    else:
        return Observation(ok=False, reason="no [project] dependencies to add one to")
    pyproject.write_text(edited, encoding="utf-8")
    try:
        locked = box.run("lock", "-v")
        written = box.lock.read_text(encoding="utf-8") if box.lock.exists() else None
    finally:
        pyproject.write_text(original, encoding="utf-8")
    ok = locked.ok and written is not None
    return Observation([locked], ok, locked.why() if not locked.ok else "exit 0", written)


def add_dependency(pyproject: str, requirement: str) -> str | None:
    """`pyproject` with `requirement` first in `[project] dependencies` (the list made when the
    table has none); None without a `[project]` table or with dynamic dependencies."""
    table = PROJECT_TABLE.search(pyproject)
    if table is None or DYNAMIC_DEPENDENCIES.search(table.group(0)):
        return None
    found = PROJECT_DEPENDENCIES.search(pyproject)
    if found is None:
        at = table.start() + len("[project]")
        return f'{pyproject[:at]}\ndependencies = ["{requirement}"]{pyproject[at:]}'
    return f'{pyproject[: found.end()]}\n    "{requirement}",{pyproject[found.end() :]}'


def _rewritten(box: Sandbox, outcome: Outcome) -> str:
    assert box.lock is not None and box.pristine_lock is not None
    because = outcome.relock_reason() or "no reason given at -v"
    change = text_difference(box.lock.read_text(encoding="utf-8"), box.pristine_lock.decode(), 3)
    return f"uv.lock rewritten (re-lock: {because}): {change}"


def _selection_checks(
    project: Project, box: Sandbox
) -> Iterator[tuple[str, tuple[str, ...], Path | None]]:
    for extra in project.extras:
        yield f"extra {extra}", ("sync", "--frozen", "--extra", extra), None
    for group in project.groups:
        yield f"group {group}", ("sync", "--frozen", "--group", group), None
    for package in project.packages:
        yield f"package {package}", ("sync", "--frozen", "--package", package), None
    for member in project.members:
        yield f"member {member}", ("run", "--frozen", *MEMBER_COMMAND), box.copy / member
    for args in project.syncs:
        yield sync_check(args), ("sync", "--frozen", *args), None


def _installed(box: Sandbox, outcome: Outcome) -> Observation:
    dists = installed_set(box.venv)
    reason = f"{len(dists)} dists" if outcome.ok else outcome.why()
    return Observation([outcome], outcome.ok, reason, dists)


# --- judging the two tools against each other -----------------------------------------------


@dataclass
class CheckResult:
    project: str
    check: str
    pyrun_ok: bool
    pyrun_reason: str
    uv_ok: bool
    uv_reason: str
    same: bool
    difference: str
    expected: list[str]
    pyrun: list[dict[str, object]]
    uv: list[dict[str, object]]


def judge(project: Project, check: str, ours: Observation, theirs: Observation) -> CheckResult:
    same, difference = compare(check, ours, theirs)
    return CheckResult(
        project=project.name,
        check=check,
        pyrun_ok=ours.ok,
        pyrun_reason=ours.reason,
        uv_ok=theirs.ok,
        uv_reason=theirs.reason,
        same=same,
        difference=difference,
        expected=list(project.needs),
        pyrun=[outcome.summary() for outcome in ours.outcomes],
        uv=[outcome.summary() for outcome in theirs.outcomes],
    )


def as_uv_export(text: str) -> str:
    """pyrun's export with its header naming uv, as SPEC §export says only the header differs."""
    lines = text.split("\n")
    for index, line in enumerate(lines[:2]):
        lines[index] = line.replace("autogenerated by pyrun", "autogenerated by uv").replace(
            "#    pyrun ", "#    uv "
        )
    return "\n".join(lines)


def without_timings(text: str) -> str:
    """Command output with run times (pytest's `102 passed in 0.20s`) blanked: they always vary."""
    return DURATION.sub(" in <time>", text)


VERDICTS = ("pyrun failed, uv passed", "pyrun passed, uv failed")


def compare(check: str, ours: Observation, theirs: Observation) -> tuple[bool, str]:
    """Whether pyrun did what uv did; if not, the difference in a line."""
    if ours.ok != theirs.ok:
        verdict = VERDICTS[0] if theirs.ok else VERDICTS[1]
        return False, f"{verdict}: {ours.reason if theirs.ok else theirs.reason}"
    if not ours.ok:
        return True, ""
    if isinstance(ours.payload, dict) and isinstance(theirs.payload, dict):
        difference = set_difference(ours.payload, theirs.payload)
        return not difference, f"installed sets differ: {difference}" if difference else ""
    if isinstance(ours.payload, str) and isinstance(theirs.payload, str):
        if check in (SCRATCH_CHECK, RELOCK_CHECK):
            difference = lock_difference(ours.payload, theirs.payload)
            return not difference, f"locks differ: {difference}" if difference else ""
        if check.startswith("export"):
            mine, reference = as_uv_export(ours.payload), theirs.payload
        else:
            mine, reference = without_timings(ours.payload), without_timings(theirs.payload)
        if mine != reference:
            what = "bytes" if check.startswith("export") else "output"
            return False, f"{what} differ: {text_difference(mine, reference)}"
    return True, ""


# --- one project, both tools ------------------------------------------------------------------


TOOLS = (
    Tool(
        "pyrun",
        str(ROOT / ".dev" / "venv" / "bin" / "pyrun"),
        "PYRUN_CACHE_DIR",
        "PYRUN_PYTHON",
        "PYRUN_PYTHON_DOWNLOADS",
    ),
    Tool("uv", UV, "UV_CACHE_DIR", "UV_PYTHON", "UV_PYTHON_DOWNLOADS"),
)


def base_environment(out: Path) -> dict[str, str]:
    """A clean environment: no uv/pyrun settings, and `python3.X` links to this machine's Pythons.

    pyenv's interpreters are not on PATH (only its shims); a typical machine has `python3.X` on
    PATH, so both tools discover the same interpreters the same way.
    """
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for minor in MINORS:
        found = sorted(PYENV.glob(f"{minor}.*/bin/python{minor}"))
        link = bin_dir / f"python{minor}"
        if found and not link.exists():
            link.symlink_to(found[0])
    default = bin_dir / "python3"
    if not default.exists() and (bin_dir / f"python{DEFAULT_PYTHON}").exists():
        default.symlink_to(bin_dir / f"python{DEFAULT_PYTHON}")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "PYRUN_", "VIRTUAL_ENV", "CONDA_", "PYTHON"))
    }
    env.update(PATH=f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", NO_COLOR="1", LC_ALL="C.UTF-8")
    env["UV_NO_PROGRESS"] = env["PYRUN_NO_PROGRESS"] = "1"
    return env


def pristine_copy(project: Project, out: Path) -> Path:
    """The repository's HEAD, extracted once per repo and made a git clone of itself.

    Users run these tools in clones, and VCS-derived versions (hatch-vcs, setuptools-scm,
    uv-dynamic-versioning) need a repository: commit with fixed names and dates so both tools'
    copies describe the same commit.
    """
    target = out / "src" / project.repo.replace("/", "+")
    if project.git_tag:
        target = target.with_name(f"{target.name}@{project.git_tag}")
    if target.exists():
        return target
    if not project.mirror.is_dir():
        raise ConfigError(f"no snapshot of {project.repo} at {project.mirror}")
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(partial)], input=_archive(project.mirror), check=True)
    git = ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]
    stamp = "2026-01-01T00:00:00+0000"
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "realworld",
        "GIT_AUTHOR_EMAIL": "realworld@localhost",
        "GIT_COMMITTER_NAME": "realworld",
        "GIT_COMMITTER_EMAIL": "realworld@localhost",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *args], cwd=partial, env=git_env, check=True, capture_output=True)
    if project.git_tag:
        subprocess.run([*git, "tag", project.git_tag], cwd=partial, env=git_env, check=True)
    partial.rename(target)
    return target


def _archive(mirror: Path) -> bytes:
    """HEAD as a tar, leaving out the blobs a snapshot does not hold (its largest files)."""
    git = ["git", f"--git-dir={mirror}"]
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-z", "HEAD"], capture_output=True, check=True
    ).stdout.decode()
    blobs = {}
    for entry in filter(None, listing.split("\0")):
        info, path = entry.split("\t", 1)
        _mode, kind, sha = info.split()
        if kind == "blob":
            blobs.setdefault(sha, []).append(path)
    check = subprocess.run(
        [*git, "cat-file", "--batch-check"], input="\n".join(blobs).encode(), capture_output=True
    ).stdout.decode()
    missing = [line.split()[0] for line in check.splitlines() if line.endswith(" missing")]
    excludes = [f":(exclude,literal){path}" for sha in missing for path in blobs[sha]]
    if excludes:
        print(f"   note: {len(excludes)} files absent from the snapshot left out", flush=True)
    return subprocess.run(
        [*git, "archive", "HEAD", "--", ".", *excludes], capture_output=True, check=True
    ).stdout


def run_project(
    project: Project, out: Path, checks: set[str] | None, keep: bool
) -> list[CheckResult]:
    wanted = [check for check in project.checks() if not checks or _selected(check, checks)]
    source = pristine_copy(project, out)
    env = base_environment(out)
    boxes = []
    for tool in TOOLS:
        copy = out / "work" / project.name / tool.name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(source, copy, symlinks=True)
        boxes.append(Sandbox(tool, project, copy, out, env))
    try:
        # The tools share nothing, so they run at the same time: most of the wait is network.
        with ThreadPoolExecutor(len(boxes)) as pool:
            ours, theirs = pool.map(lambda box: observe(box, wanted), boxes)
    finally:
        if not keep:
            shutil.rmtree(out / "work" / project.name, ignore_errors=True)
    return [judge(project, check, ours[check], theirs[check]) for check in wanted if check in ours]


def _selected(check: str, selection: set[str]) -> bool:
    return check in selection or check.split(" ")[0] in selection


# --- reporting --------------------------------------------------------------------------------


def cell(ok: bool, reason: str) -> str:
    mark = "✓" if ok else "✗"
    text = reason if not ok else ("" if reason == "exit 0" else reason)
    return f"{mark} {_md(text)}".strip()


def _md(text: str, limit: int = 160) -> str:
    text = text.replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_markdown(
    results: list[CheckResult], meta: dict[str, str], projects: list[Project]
) -> str:
    notes = {project.name: project for project in projects}
    differences = sum(not result.same for result in results)
    count = len({result.project for result in results})
    lines = [
        "# pyrun vs uv on real projects",
        "",
        f"Generated by `scripts/realworld.py` on {meta['date']}:"
        f" pyrun commit `{meta['pyrun_commit']}`, {meta['uv_version']}."
        f" {len(results)} checks over {count} projects,"
        f" **{differences} differences** (rows marked ≠).",
        "",
        "Every check runs under both tools on separate copies with separate caches; each check"
        " starts from the committed `uv.lock`. `installed` compares the (name, version) set in"
        " `.venv` after the cold `run --frozen`; `extra`/`group`/`package` compare it after"
        " `sync --frozen …`; `export` compares stdout byte for byte; `relock (after an edit)`"
        " adds `iniconfig>=1` to the project's dependencies (its first listed member's under a"
        " virtual root) and runs `lock` with the committed lock present; `lock (from scratch)`"
        " deletes `uv.lock` and runs `lock`. Both compare the two new locks byte for byte (the"
        " first differing package is named).",
        "",
        "| Project | Check | pyrun | uv | Same? |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        mark = "=" if result.same else f"≠ {_md(_short_difference(result.difference), 240)}"
        lines.append(
            f"| {result.project} | {result.check} | {cell(result.pyrun_ok, result.pyrun_reason)}"
            f" | {cell(result.uv_ok, result.uv_reason)} | {mark} |"
        )
    lines += [
        "",
        "## Projects",
        "",
        "| Project | Repo | Shapes | Needs | Notes |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(result.project for result in results):
        project = notes[name]
        where = project.repo + (f" (`{project.subdir}`)" if project.subdir else "")
        lines.append(
            f"| {name} | {where} | {', '.join(project.shape)} | {', '.join(project.needs)}"
            f" | {_md(project.notes, 300)} |"
        )
    return "\n".join(lines) + "\n"


def _short_difference(difference: str) -> str:
    """The difference without the failing tool's reason, which its own column already shows."""
    verdict, colon, _reason = difference.partition(": ")
    return verdict if colon and verdict in VERDICTS else difference


def metadata() -> dict[str, str]:
    # The last commit that changed pyrun itself: commits to the test bed do not change results.
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "src"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    uv_version = subprocess.run([TOOLS[1].executable, "--version"], capture_output=True, text=True)
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "pyrun_commit": commit or "unknown",
        "uv_version": uv_version.stdout.strip() or "uv (version unknown)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this project")
    parser.add_argument("--check", action="append", metavar="NAME", help="run only this check")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="scratch and output directory"
    )
    parser.add_argument("--projects", type=Path, default=PROJECTS_FILE, help="the project list")
    parser.add_argument(
        "--render", action="store_true", help="only write RESULTS.md again from results.json"
    )
    args = parser.parse_args(argv)
    try:
        results = render_only(args) if args.render else run_all(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if all(result.same for result in results) else 1


def run_all(args: argparse.Namespace) -> list[CheckResult]:
    projects = load_projects(args.projects)
    if unknown := set(args.only or ()) - {project.name for project in projects}:
        raise ConfigError(f"no project named {', '.join(sorted(unknown))} in {args.projects}")
    chosen = [project for project in projects if not args.only or project.name in args.only]
    checks = set(args.check or ())
    args.out.mkdir(parents=True, exist_ok=True)
    meta = metadata()
    store = args.out / "results.json"
    # A run of some projects or checks updates their rows and keeps the others from earlier runs.
    rows = _earlier_results(store, meta)
    for project in chosen:
        subdir = f"/{project.subdir}" if project.subdir else ""
        print(f"== {project.name} ({project.repo}{subdir})", flush=True)
        try:
            found = run_project(project, args.out, checks, args.keep)
        except (ConfigError, subprocess.CalledProcessError, OSError) as exc:
            print(f"   error: {project.name}: {exc}", flush=True)
            continue
        _print_results(found)
        rows.update(((result.project, result.check), result) for result in found)
        _write_json(store, meta, _in_order(rows, projects))
    results = _in_order(rows, projects)
    expected = sum(len(project.checks()) for project in projects)
    complete = len(results) == expected
    if complete:
        RESULTS_MD.write_text(render_markdown(results, meta, projects), encoding="utf-8")
    print(f"results: {store}" + (f", {RESULTS_MD}" if complete else ""))
    return [result for result in results if result.project in {p.name for p in chosen}]


def _in_order(
    rows: dict[tuple[str, str], CheckResult], projects: list[Project]
) -> list[CheckResult]:
    return [
        rows[project.name, check]
        for project in projects
        for check in project.checks()
        if (project.name, check) in rows
    ]


def render_only(args: argparse.Namespace) -> list[CheckResult]:
    store = args.out / "results.json"
    try:
        earlier = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {store}: {exc}") from exc
    meta = {key: str(earlier.get(key, "unknown")) for key in ("date", "pyrun_commit", "uv_version")}
    projects = load_projects(args.projects)
    rows = _earlier_results(store, meta)
    results = _in_order(rows, projects)
    RESULTS_MD.write_text(render_markdown(results, meta, projects), encoding="utf-8")
    print(f"{RESULTS_MD}: {len(results)} rows from {store}")
    return results


def _earlier_results(store: Path, meta: dict[str, str]) -> dict[tuple[str, str], CheckResult]:
    """The rows an earlier run of the same pyrun commit left, by (project, check)."""
    try:
        earlier = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if earlier.get("pyrun_commit") != meta["pyrun_commit"]:
        return {}
    results = (CheckResult(**entry) for entry in earlier.get("results", []))
    return {(result.project, result.check): result for result in results}


def _print_results(found: list[CheckResult]) -> None:
    for result in found:
        flag = "  " if result.same else "≠ "
        ours = cell(result.pyrun_ok, result.pyrun_reason)[:70]
        print(
            f"   {flag}{result.check:<28} pyrun {ours:<72}"
            f" uv {cell(result.uv_ok, result.uv_reason)[:60]}",
            flush=True,
        )


def _write_json(path: Path, meta: dict[str, str], results: list[CheckResult]) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps({**meta, "results": [asdict(r) for r in results]}, indent=1))
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
