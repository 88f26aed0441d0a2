"""uv 0.13.9's marker printing under its known-incompatible platform pairs (`os_name` against
`sys_platform`, `platform_system` against `sys_platform`), marker by marker against uv.

Each marker is one requirement of one project; both tools lock it and the `requires-dist`
entries (the requirement's marker as each tool prints it) are compared (issue 13, starlette's
export).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

# Each marker is printed by uv 0.13.9 differently from its plain decision diagram, or is a
# near miss that it keeps: a rule that is too eager fails the second kind.
CASES = [
    # Wholly inside the pairs: false; covering their complement: true.
    "os_name == 'nt' and sys_platform == 'linux'",
    "os_name != 'nt' or sys_platform != 'linux'",
    "platform_system == 'FreeBSD' and sys_platform == 'linux'",
    "os_name == 'nt' and sys_platform == 'win32' and platform_system == 'FreeBSD'",
    # A decision the pairs make for the marker goes (starlette's export).
    "os_name != 'nt' and sys_platform == 'linux'",
    "os_name == 'nt' and sys_platform != 'linux'",
    "os_name == 'posix' and sys_platform != 'win32'",
    "os_name != 'posix' or sys_platform == 'win32'",
    "platform_system != 'FreeBSD' and sys_platform == 'linux'",
    "sys_platform == 'linux' and platform_system != 'iOS'",
    "os_name == 'nt' and (sys_platform == 'linux' or sys_platform == 'win32')",
    "os_name == 'nt' or (os_name != 'nt' and sys_platform != 'darwin')",
    "os_name == 'nt' or sys_platform != 'darwin'",
    "os_name == 'nt' or (os_name == 'posix' and sys_platform != 'win32')",
    # Branches that differ keep their decision, and a pair narrows each branch (starlette's
    # export: uv adds `os_name != 'nt'` to the `linux` clause).
    "(implementation_name != 'pypy' and os_name == 'nt') or "
    "(platform_machine != 'ppc64le' and sys_platform == 'linux')",
    "(os_name == 'nt' and python_version >= '3.13') or sys_platform == 'darwin'",
    "(platform_system == 'FreeBSD') or (sys_platform == 'linux' and python_version < '3.13')",
    "sys_platform == 'linux' or (os_name == 'nt' and implementation_name == 'cpython')",
    "sys_platform == 'darwin' or (os_name == 'nt' and platform_machine == 'AMD64')",
    # Only neighbouring branches merge: these print as written, or in the same shape.
    "os_name == 'nt' or (os_name == 'posix' and sys_platform != 'darwin')",
    "os_name == 'nt' or (os_name == 'java' and sys_platform != 'darwin')",
    "(os_name == 'nt' or os_name == 'posix') and (sys_platform != 'darwin' or extra == 'foo')",
    "(os_name == 'nt' and sys_platform != 'linux') or "
    "(os_name == 'posix' and sys_platform != 'linux')",
    "(os_name == 'nt' and extra == 'foo') or "
    "(os_name == 'posix' and sys_platform != 'darwin' and extra == 'foo')",
    # Untouched by the pairs.
    "(os_name == 'nt') or (sys_platform == 'linux' and platform_machine == 'x86_64')",
    "os_name == 'posix' and sys_platform == 'linux'",
    "os_name == 'posix' or sys_platform == 'linux'",
    "sys_platform == 'win32' and os_name == 'nt'",
    "sys_platform != 'win32' and os_name != 'nt'",
    "os_name != 'nt' and platform_machine == 'x86_64'",
    "os_name == 'nt' and sys_platform == 'aix'",
    "os_name != 'posix' and platform_system == 'FreeBSD'",
    "platform_system == 'iOS' and sys_platform != 'ios'",
    "implementation_name == 'cpython' and platform_python_implementation == 'PyPy'",
]


def printed(root: Path) -> dict[str, str]:
    """Each requirement's marker as the lock at `root` prints it, by package name."""
    lock = tomllib.loads((root / "uv.lock").read_text())
    app = next(p for p in lock["package"] if p["name"] == "app")
    return {entry["name"]: entry.get("marker", "") for entry in app["metadata"]["requires-dist"]}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    """One project asking for `p<i> ; <marker i>`, locked once by each tool."""
    listed = ", ".join(json.dumps(f"p{i} ; {marker}") for i, marker in enumerate(CASES))
    text = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{listed}]\n"
    )
    tmp = tmp_path_factory.mktemp("pairs")
    ours, theirs = tmp / "ours", tmp / "theirs"
    for root in (ours, theirs):
        write(root, text)
    with IndexServer() as index:
        for i in range(len(CASES)):
            index.add_wheel(f"p{i}", "1.0")
        result = pyrun(PyrunEnv(tmp / "sandbox"), ours, "lock", index=index.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", index=index.index_url)
        assert done.returncode == 0, done.stderr
    return printed(ours), printed(theirs)


@pytest.mark.parametrize("index", [pytest.param(i, id=marker) for i, marker in enumerate(CASES)])
def test_a_marker_prints_as_uv_prints_it(
    index: int, both: tuple[dict[str, str], dict[str, str]]
) -> None:
    ours, theirs = both
    assert ours[f"p{index}"] == theirs[f"p{index}"]


# (the marker of `app`'s requirement on `a<i>`, the marker of `a<i>`'s requirement on `b<i>`):
# uv writes `b<i>`'s edge and export line restricted to where `a<i>` is reachable, which the
# pairs narrow further (`os_name != 'nt'` under `sys_platform == 'linux'` goes), and leaves
# out a `b<i>` the pairs make unreachable, with the edge to it.
CHAINS = [
    ("sys_platform == 'linux'", "os_name == 'nt'"),
    ("platform_system == 'FreeBSD'", "sys_platform == 'darwin'"),
    (
        "sys_platform == 'win32' and "
        "(platform_machine == 'x86_64' or platform_system == 'FreeBSD')",
        "platform_machine == 'x86_64' and platform_system != 'FreeBSD'",
    ),
    ("sys_platform == 'linux'", "os_name != 'nt'"),
    ("os_name == 'nt'", "sys_platform != 'linux'"),
    ("sys_platform != 'linux'", "os_name == 'nt' and implementation_name == 'cpython'"),
    ("os_name != 'nt'", "sys_platform == 'linux' and platform_machine == 'x86_64'"),
    ("platform_system == 'FreeBSD'", "sys_platform != 'linux'"),
    ("sys_platform == 'linux' or os_name == 'nt'", "os_name != 'nt' and python_version >= '3.13'"),
    (
        "(os_name == 'nt' and python_version >= '3.13') or sys_platform == 'darwin'",
        "sys_platform == 'darwin' or platform_machine == 'arm64'",
    ),
    ("os_name == 'posix'", "sys_platform != 'win32'"),
    (
        "os_name == 'nt' or (os_name == 'java' and sys_platform != 'darwin')",
        "sys_platform != 'darwin'",
    ),
]


def test_a_lock_and_its_export_restrict_under_the_pairs_as_uv(tmp_path: Path) -> None:
    listed = ", ".join(json.dumps(f"a{i} ; {outer}") for i, (outer, _) in enumerate(CHAINS))
    text = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{listed}]\n"
    )
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        write(root, text)
    export = ("export", "--frozen", "--no-header", "--no-hashes")
    with IndexServer() as index:
        for i, (_, inner) in enumerate(CHAINS):
            index.add_wheel(f"a{i}", "1.0", requires_dist=[f"b{i} ; {inner}"])
            index.add_wheel(f"b{i}", "1.0")
        sandbox = PyrunEnv(tmp_path / "sandbox")
        result = pyrun(sandbox, ours, "lock", index=index.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", index=index.index_url)
        assert done.returncode == 0, done.stderr
        assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
        exported = pyrun(sandbox, ours, *export, index=index.index_url)
        assert exported.returncode == 0, exported
        assert exported.stdout == uv(theirs, *export, index=index.index_url).stdout
