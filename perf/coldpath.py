"""Cold starts and fresh checkouts: the runs a CI job makes, registered from `bench.py`.

- **cold start --locked**: a committed `uv.lock`, no env, an empty cache (`run --locked`);
- **fresh checkout**: the project copied to a new directory (only `pyproject.toml` and
  `uv.lock`, as `git clone` would leave it) with the cache warm from another checkout;
- **300 packages**: a real-sized lock (~300 packages installed) synced into a new env from a
  warm cache, with and without pyrun's recipes (the latter is the full install path).

Each tool locks with itself during setup, so each syncs from its own `uv.lock`.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

# Direct dependencies of the ~300-package application (311 locked, ~300 installed on Linux).
BIG_DEPENDENCIES = [
    "jupyterlab",
    "sphinx",
    "mkdocs-material",
    "fastapi[standard]",
    "boto3",
    "django",
    "celery[redis]",
    "sqlalchemy",
    "alembic",
    "pytest",
    "hypothesis",
    "black",
    "mypy",
    "ruff",
    "httpx",
    "requests",
    "rich",
    "typer",
    "pydantic-settings",
    "openai",
    "anthropic",
    "google-cloud-storage",
    "kubernetes",
    "flask",
    "scrapy",
    "sentry-sdk",
    "opentelemetry-sdk",
    "dask[distributed]",
    "tox",
    "nox",
    "pre-commit",
    "twine",
    "poetry",
]
# What a fresh clone of the project holds (no `.venv`).
CHECKOUT_FILES = ("pyproject.toml", "uv.lock", ".python-version")


def big_project(bench: ModuleType) -> Callable[[Path], Path]:
    def generate(root: Path) -> Path:
        directory = root / "big"
        deps = ", ".join(f'"{d}"' for d in BIG_DEPENDENCIES)
        bench.write(
            directory / "pyproject.toml",
            f"""
            [project]
            name = "big"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = [{deps}]
            """,
        )
        return directory

    return generate


def new_checkout() -> Callable[[Path, object], Path]:
    """Before each run: copy the project's committed files to a directory never used before."""
    counter = itertools.count()

    def before(source: Path, _tool: object) -> Path:
        target = source.parent / f"{source.name}-checkout-{next(counter)}"
        target.mkdir()
        for name in CHECKOUT_FILES:
            if (source / name).exists():
                shutil.copy2(source / name, target / name)
        return target

    return before


def scenarios(bench: ModuleType) -> list[object]:
    scenario, warm, remove, app = bench.Scenario, bench.warm, bench.remove, bench.app_project
    big = big_project(bench)
    return [
        scenario(
            "cold start --locked",
            "`run --locked python -c pass`: committed `uv.lock`, no venv, empty cache",
            warm(app, "lock"),
            ["run", "--locked", "python", "-c", "pass"],
            before_each=remove(".venv", "$cache"),
            runs=5,
        ),
        scenario(
            "fresh checkout",
            "`run python -c pass` in a new copy of the project (`pyproject.toml`, `uv.lock`), "
            "cache warm from the first checkout",
            warm(app, "run", "python", "-c", "pass"),
            ["run", "python", "-c", "pass"],
            before_each=new_checkout(),
            runs=7,
        ),
        scenario(
            "300 packages, fresh env",
            "`sync` of a ~300-package lock into a new `.venv`, cache warm",
            warm(big, "sync"),
            ["sync"],
            before_each=remove(".venv"),
            runs=5,
        ),
        scenario(
            "300 packages, fresh env, no recipe",
            "the same, with pyrun's stamps and recipes removed: the full install path",
            warm(big, "sync"),
            ["sync"],
            before_each=remove(".venv", "$recipes"),
            runs=5,
        ),
    ]
