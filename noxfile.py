"""Development sessions: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s perf`."""

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite, in the project's development environment."""
    session.run("bash", "scripts/test.sh", *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "scripts", "perf", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "scripts", "perf", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session(python=False)
def perf(session: nox.Session) -> None:
    """Time pyrun against uv side by side; results go to perf/results/."""
    session.run("bash", "perf/run.sh", *session.posargs, external=True)
