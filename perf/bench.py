"""Time pyrun against uv, side by side, on the same generated projects.

Each scenario runs both tools in alternating order (pyrun, uv, pyrun, uv, ...) so that machine
noise hits both alike; the report gives medians, the pyrun/uv ratio and each tool's peak memory
(the child's max RSS from `wait4`). Results go to `perf/results/` as a Markdown table.

Run through `perf/run.sh` (or `nox -s perf`): it builds a Python 3.12 environment with pyrun and
uv installed, because the default 3.11 interpreter here imports a slow `.pth` at start-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import coldpath
from workspace import scenarios as workspace_scenarios

HERE = Path(__file__).resolve().parent
# A realistic application: ~30 packages once resolved, pure Python and binary wheels mixed.
APP_DEPENDENCIES = [
    "requests",
    "rich",
    "httpx",
    "click",
    "jinja2",
    "pyyaml",
    "attrs",
    "python-dateutil",
    "packaging",
    "pluggy",
    "iniconfig",
    "pytest",
    "tomli",
    "six",
    "typing-extensions",
]


@dataclass
class Tool:
    name: str
    exe: str
    env: dict[str, str]


@dataclass
class Scenario:
    name: str
    description: str
    setup: Callable[[Path, Tool], Path]  # returns the cwd for the timed command
    args: list[str]
    # May return another cwd for this run (a new checkout); None keeps the setup's.
    before_each: Callable[[Path, Tool], Path | None] | None = None
    runs: int = 15
    # After the timed runs: why the tools' results differ (None when they agree).
    verify: Callable[[dict[str, Path]], str | None] | None = None


@dataclass
class Result:
    scenario: Scenario
    times: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[str, list[int]] = field(default_factory=dict)
    failure: str | None = None
    mismatch: str | None = None


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, str]:
    """Wall time, peak RSS (KiB) and exit code of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, process.returncode, stderr


# -- project generators -------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def empty_project(root: Path, name: str = "floor") -> Path:
    write(
        root / name / "pyproject.toml",
        f"""
        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = []
    """,
    )
    return root / name


def app_project(root: Path, name: str = "app") -> Path:
    deps = ", ".join(f'"{d}"' for d in APP_DEPENDENCIES)
    write(
        root / name / "pyproject.toml",
        f"""
        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = [{deps}]
    """,
    )
    return root / name


def editable_project(root: Path) -> Path:
    directory = app_project(root, "editable")
    text = (directory / "pyproject.toml").read_text()
    text += '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    (directory / "pyproject.toml").write_text(text)
    write(directory / "src" / "editable" / "__init__.py", "VALUE = 1\n")
    return directory


def script(root: Path) -> Path:
    write(
        root / "script" / "tool.py",
        """
        # /// script
        # requires-python = ">=3.12"
        # dependencies = ["rich", "click"]
        # ///
        import rich, click
    """,
    )
    return root / "script"


def workspace(root: Path, members: int = 100) -> Path:
    directory = root / "workspace"
    write(
        directory / "pyproject.toml",
        """
        [tool.uv.workspace]
        members = ["packages/*"]
    """,
    )
    for index in range(members):
        name = f"member{index:03d}"
        dependency = f'"member{index - 1:03d}"' if index else '"iniconfig"'
        sources = (
            f"\n[tool.uv.sources]\nmember{index - 1:03d} = {{ workspace = true }}\n"
            if index
            else ""
        )
        write(
            directory / "packages" / name / "pyproject.toml",
            f"""
            [project]
            name = "{name}"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = [{dependency}]
        """
            + textwrap.dedent(sources),
        )
    return directory


# -- scenario plumbing ----------------------------------------------------------------------


def warm(generator: Callable[[Path], Path], *prime: str) -> Callable[[Path, Tool], Path]:
    """Create the project and run the tool once (untimed) so that the timed runs are warm."""

    def setup(root: Path, tool: Tool) -> Path:
        directory = generator(root)
        subprocess.run(
            [tool.exe, *prime],
            cwd=directory,
            env=tool.env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return directory

    return setup


def remove(*names: str) -> Callable[[Path, Tool], None]:
    def before(cwd: Path, tool: Tool) -> None:
        for name in names:
            cache = Path(tool.env["PYRUN_CACHE_DIR" if tool.name == "pyrun" else "UV_CACHE_DIR"])
            if name == "$recipes":
                # pyrun's stamps and recipes: without them a fresh env takes the full path.
                if tool.name != "pyrun":
                    continue
                target = cache / "stamps-v1"
            else:
                target = cache if name == "$cache" else cwd / name
            shutil.rmtree(target, ignore_errors=True)
            if target.exists():
                target.unlink()

    return before


SCENARIOS = [
    Scenario(
        "floor",
        "`.venv/bin/python -c pass` (the interpreter alone, for scale)",
        warm(empty_project, "run", "python", "-c", "pass"),
        [".venv/bin/python", "-c", "pass"],
    ),
    Scenario(
        "warm run",
        "`run python -c pass`, environment in sync",
        warm(app_project, "run", "python", "-c", "pass"),
        ["run", "python", "-c", "pass"],
    ),
    Scenario(
        "warm run --frozen",
        "`run --frozen python -c pass`",
        warm(app_project, "run", "python", "-c", "pass"),
        ["run", "--frozen", "python", "-c", "pass"],
    ),
    Scenario(
        "warm editable",
        "`run python -c pass` in a project installed editable",
        warm(editable_project, "run", "python", "-c", "pass"),
        ["run", "python", "-c", "pass"],
    ),
    Scenario(
        "warm script",
        "`run tool.py` for a PEP 723 script with 2 dependencies",
        warm(script, "run", "tool.py"),
        ["run", "tool.py"],
    ),
    Scenario(
        "warm --with",
        "`run --with iniconfig python -c pass` in a project",
        warm(app_project, "run", "--with", "iniconfig", "python", "-c", "pass"),
        ["run", "--with", "iniconfig", "python", "-c", "pass"],
    ),
    Scenario(
        "warm cache, fresh env",
        "`sync` of the app lock into a new `.venv` (deleted since the last sync), cache warm",
        warm(app_project, "sync"),
        ["sync"],
        before_each=remove(".venv"),
        runs=7,
    ),
    Scenario(
        "warm cache, fresh env, no recipe",
        "the same, with pyrun's stamps and recipes removed (a new checkout): the full path",
        warm(app_project, "sync"),
        ["sync"],
        before_each=remove(".venv", "$recipes"),
        runs=7,
    ),
    Scenario(
        "lock (fresh lock)",
        "`lock` when `uv.lock` already satisfies the project (synced `.venv` present)",
        warm(app_project, "sync"),
        ["lock"],
    ),
    Scenario(
        "lock warm",
        "`lock` with no `uv.lock`, cache warm (pages re-fetched)",
        warm(app_project, "lock"),
        ["lock"],
        before_each=remove("uv.lock"),
        runs=5,
    ),
    Scenario(
        "lock cold",
        "`lock` with no `uv.lock` and an empty cache",
        warm(app_project, "lock"),
        ["lock"],
        before_each=remove("uv.lock", "$cache"),
        runs=5,
    ),
    Scenario(
        "cold start",
        "`run python -c pass`: no lock, no venv, empty cache",
        warm(app_project, "lock"),
        ["run", "python", "-c", "pass"],
        before_each=remove("uv.lock", ".venv", "$cache"),
        runs=5,
    ),
    Scenario(
        "workspace (100 members)",
        "`run python -c pass` at a virtual root of 100 members",
        warm(workspace, "run", "python", "-c", "pass"),
        ["run", "python", "-c", "pass"],
    ),
    *workspace_scenarios(Scenario, warm),
]
SCENARIOS += coldpath.scenarios(sys.modules[__name__])


def run_scenario(scenario: Scenario, tools: list[Tool], root: Path) -> Result:
    result = Result(scenario)
    cwds: dict[str, Path] = {}
    for tool in tools:
        try:
            cwds[tool.name] = scenario.setup(root / tool.name, tool)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            result.failure = f"{tool.name} setup failed: {detail[-1] if detail else exc}"
            return result
    for _ in range(scenario.runs):
        for tool in tools:
            cwd = cwds[tool.name]
            if scenario.before_each:
                cwd = scenario.before_each(cwd, tool) or cwd
            exe = scenario.args[0] if scenario.args[0].startswith(".venv") else tool.exe
            argv = [exe, *scenario.args[1:]] if exe != tool.exe else [exe, *scenario.args]
            elapsed, rss, code, stderr = timed(argv, cwd, tool.env)
            if code != 0:
                lines = stderr.strip().splitlines()
                result.failure = f"{tool.name} exited {code}: {lines[-1] if lines else ''}"
                return result
            result.times.setdefault(tool.name, []).append(elapsed)
            result.memory.setdefault(tool.name, []).append(rss)
    if scenario.verify:
        result.mismatch = scenario.verify(cwds)
    return result


def report(results: list[Result], header: str) -> str:
    lines = [
        header,
        "",
        "| scenario | pyrun median | uv median | pyrun/uv | pyrun peak | uv peak | runs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        name = result.scenario.name
        if result.mismatch:
            name += f" (**{result.mismatch}**)"
        if result.failure:
            lines.append(f"| {name} | — | — | not run: {result.failure} | | | |")
            continue
        pyrun, uv = (statistics.median(result.times[t]) for t in ("pyrun", "uv"))
        mem_p, mem_u = (max(result.memory[t]) / 1024 for t in ("pyrun", "uv"))
        lines.append(
            f"| {name} | {pyrun * 1000:.1f} ms | {uv * 1000:.1f} ms | "
            f"{pyrun / uv:.2f}x | {mem_p:.0f} MiB | {mem_u:.0f} MiB | "
            f"{len(result.times['pyrun'])} |"
        )
    lines += ["", "Scenarios:", ""]
    lines += [f"- **{r.scenario.name}**: {r.scenario.description}" for r in results]
    return "\n".join(lines) + "\n"


def python_dir(work: Path) -> Path:
    """A PATH entry holding `python3.12`, as a machine with it installed has (pyenv's shims
    here refuse to run versions that are not selected)."""
    directory = work / "python-bin"
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / "python3.12"
    if not link.exists():
        link.symlink_to(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    return directory


def tool_env(work: Path, name: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYRUN_", "UV_", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"))
    }
    env["PATH"] = f"{python_dir(work)}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        PYRUN_CACHE_DIR=str(work / "cache-pyrun"),
        UV_CACHE_DIR=str(work / "cache-uv"),
        PYRUN_PYTHON_DOWNLOADS="never",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
        XDG_CONFIG_HOME=str(work / "config"),
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyrun", required=True)
    parser.add_argument("--uv", required=True)
    parser.add_argument("--only", action="append", help="scenario names to run")
    parser.add_argument("--runs", type=int, help="override the number of runs")
    parser.add_argument("--output", default=str(HERE / "results"))
    parser.add_argument("--work", default=str(HERE / ".work" / "runs"), help="scratch directory")
    options = parser.parse_args()
    work = Path(options.work)
    shutil.rmtree(work, ignore_errors=True)
    tools = [
        Tool("pyrun", options.pyrun, tool_env(work, "pyrun")),
        Tool("uv", options.uv, tool_env(work, "uv")),
    ]
    results = []
    for scenario in SCENARIOS:
        if options.only and scenario.name not in options.only:
            continue
        if options.runs:
            scenario.runs = options.runs
        print(f"… {scenario.name}", file=sys.stderr, flush=True)
        results.append(run_scenario(scenario, tools, work / scenario.name.replace(" ", "-")))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = subprocess.run([options.uv, "--version"], capture_output=True, text=True).stdout
    header = (
        f"# pyrun vs uv ({stamp})\n\n{versions.strip()}; Python "
        f"{sys.version.split()[0]}; {os.cpu_count()} cores; medians of alternating runs."
    )
    text = report(results, header)
    out = Path(options.output)
    out.mkdir(parents=True, exist_ok=True)
    # Only a run of every scenario is the table of record; a partial run is kept aside.
    (out / ("partial.md" if options.only else "latest.md")).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
