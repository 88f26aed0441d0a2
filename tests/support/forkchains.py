"""A seeded index of requirement chains under platform markers, for resolver fork timing.

Each chain is `cK_0 -> cK_1 -> ...`; a link requires the next package either under one random
marker or twice, under a marker and its negation with different version bounds (the shape that
makes a universal resolver fork). Every package has versions 1.0.0 and 2.0.0. The same seed
always gives the same packages and project, so pyrun and uv lock exactly the same input.
"""

from __future__ import annotations

import random

from tests.support.index_server import IndexServer

_ATOMS = (
    "os_name == 'nt'",
    "os_name == 'posix'",
    "sys_platform == 'linux'",
    "sys_platform == 'win32'",
    "sys_platform == 'darwin'",
    "platform_system == 'Windows'",
    "platform_system == 'Linux'",
    "platform_machine == 'x86_64'",
    "platform_machine == 'aarch64'",
    "implementation_name == 'cpython'",
    "implementation_name == 'pypy'",
    "python_version >= '3.13'",
)
_NEGATED = {"==": "!=", ">=": "<"}


def negate(atom: str) -> str:
    name, operator, value = atom.split(" ", 2)
    return f"{name} {_NEGATED[operator]} {value}"


def chain_requirements(seed: int, chains: int, length: int) -> dict[str, list[str]]:
    """Package name -> its `requires-dist`, for `chains` chains of `length` packages each."""
    rng = random.Random(seed)
    packages: dict[str, list[str]] = {}
    for chain in range(chains):
        for link in range(length):
            name = f"c{chain}-{link}"
            if link + 1 == length:
                packages[name] = []
                continue
            successor = f"c{chain}-{link + 1}"
            atom = rng.choice(_ATOMS)
            if rng.random() < 0.5:
                packages[name] = [f"{successor}>=2; {atom}", f"{successor}<2; {negate(atom)}"]
            else:
                packages[name] = [f"{successor}; {atom}"]
    return packages


def serve_chains(index: IndexServer, seed: int, chains: int, length: int) -> list[str]:
    """Serve the chains on `index`; returns the chain heads, the project's dependencies."""
    for name, requires in chain_requirements(seed, chains, length).items():
        for version in ("1.0.0", "2.0.0"):
            index.add_wheel(name, version, requires_dist=requires)
    return [f"c{chain}-0" for chain in range(chains)]
